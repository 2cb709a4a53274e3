import Foundation
import TesseraTestSupport
import TileStore
import XCTest

/// The audit compares patient ids case-insensitively: `p1` in test and `P1` in train is one
/// patient in two splits (a lower-case TCGA file name used to give two "patients").
final class StoreAuditPatientCaseTests: XCTestCase {
    func testPatientIdsDifferingInCaseAreOnePatient() throws {
        let store = try TestEnvironment.temporaryDirectory(self, "store")
        try StoreFixtures.writeCleanStore(store)
        try StoreFixtures.writeJPEGFile(store.appendingPathComponent("test/X3.h5"), split: "test",
                                        slides: [(StoreFixtures.slide("X3", patient: "p1"), 1)], seedBase: 50)
        let report = try StoreAudit.run(store: store, options: StoreAuditOptions(checkPixels: false, workers: 2, batchTiles: 4))
        XCTAssertEqual(report.problems, [
            AuditProblem(.patientInTwoSplits, file: "test/X3.h5",
                         "patient P1 is in 2 splits: train (train/part-0000-of-0002.h5) and test (test/X3.h5)"),
            AuditProblem(.patientInTwoSplits, file: "test/X3.h5", "patient P1 is in test here but in train in splits.csv"),
        ])
        XCTAssertEqual(report.split("test")?.patients, 3)
        XCTAssertEqual(report.split("total")?.patients, 6, "p1 and P1 count once")
    }

    /// An absurd --workers (one decoder each) is a usage error, not memory without end.
    func testAbsurdWorkerCountIsRefused() throws {
        let store = try TestEnvironment.temporaryDirectory(self, "store")
        try StoreFixtures.writeCleanStore(store)
        let r = try runCommand(TestEnvironment.executable("tessera-audit"), [store.path, "--workers", "1000000000"], timeout: 60)
        XCTAssertEqual(r.status, 64, r.output)
        XCTAssertTrue(r.stderr.hasPrefix("Error: --workers must be at most 1024, got 1000000000"), r.stderr)
    }
}
