import Foundation
import TesseraCore
import TesseraTestSupport
import XCTest

/// `tessera-train` refuses non-finite and junk numbers before MPI starts, with exit 64 naming the
/// option (inf warm-up epochs used to trap with SIGILL).
final class TrainOptionCheckTests: XCTestCase {
    func testAbsurdNumbersAndJunkListsAreUsageErrors() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "train-options")
        let cases: [(option: String, values: [String], message: String)] = [
            ("--warmup-epochs", ["inf", "nan"], "--warmup-epochs must be a number in [0, 10000]"),
            ("--weight-decay", ["inf"], "--weight-decay must be a number in [0, 1]"),
            ("--learning-rate", ["inf"], "--learning-rate must be a finite number > 0"),
            ("--progress-interval", ["nan"], "--progress-interval must be a number in [0, 86400]"),
            ("--jitter", ["nan,0.1,0.05", "0.1,0.1,0.05,junk", "0.1,,0.1,0.05"], "--jitter takes three fractions"),
            ("--epochs", ["1000000000"], "--epochs must be 1…10000"),
            ("--threads", ["0"], "--threads must be 1…1024"),
        ]
        try assertUsageErrors(cases) {
            try runCommand(TestEnvironment.executable("tessera-train"), ["--store", dir.path, "--out", dir.appendingPathComponent("run").path] + $0,
                           timeout: 60)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("run").path), "no work started")
        let job = dir.appendingPathComponent("job.env")
        try Data("STORE=\(dir.path)\nRUN=\(dir.appendingPathComponent("run").path)\nEPOCH=3\n".utf8).write(to: job)
        let r = try runCommand(TestEnvironment.executable("tessera-train"), ["--job", job.path], timeout: 60)
        XCTAssertEqual(r.status, 64, r.output)
        XCTAssertTrue(r.stderr.contains("\(job.path):3: unknown key EPOCH; did you mean EPOCHS?"), r.stderr)
    }
}
