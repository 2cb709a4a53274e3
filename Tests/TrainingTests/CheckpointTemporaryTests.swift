import Foundation
import TesseraCore
import TesseraTestSupport
import Training
import XCTest

extension TrainerEndToEndTests {
    /// A run killed while writing its checkpoint left `.checkpoint.tsc.tmp-PID`: the next run removes
    /// it (and leaves a live process's temporary alone).
    func testTemporaryOfAnInterruptedCheckpointWriteIsRemovedByTheNextRun() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "train")
        let store = dir.appendingPathComponent("store")
        try TrainingStoreFixture.write(store)
        let out = dir.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        let stale = out.appendingPathComponent(".checkpoint.tsc.tmp-\(p.processIdentifier)")
        let live = out.appendingPathComponent(".metrics.csv.tmp-1")
        try Data(count: 1000).write(to: stale)
        try Data(count: 10).write(to: live)
        let r = try train(ranks: 1, ["--store", store.path, "--epochs", "1", "--out", out.path, "--resume"] + common)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale.path), r.stderr)
        XCTAssertTrue(r.stderr.contains("removed 1 temporary file of a killed run: .checkpoint.tsc.tmp-\(p.processIdentifier)"), r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: live.path), "pid 1 is alive: its temporary is not stale")
    }
}
