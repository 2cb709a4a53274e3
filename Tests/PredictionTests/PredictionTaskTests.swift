import Foundation
import TaskRunner
import TesseraCore
import TesseraTestSupport
import XCTest

/// The prediction task's skeleton (shared with tiling) end to end: one process per task, failed
/// slides retried.
extension PredictorEndToEndTests {
    /// A second process on a running task says so and exits 1; the first finishes undisturbed.
    func testSecondProcessOnARunningPredictionTaskRefuses() throws {
        let f = try PredictionFixture.shared()
        let dir = try TestEnvironment.temporaryDirectory(self, "predict")
        let args = ["--model", f.model.path, "--manifest", f.testManifest.path, "--assume-mpp", "0.5", "--tile-scores",
                    "--threads", "1", "--bootstrap", "200"]
        let reference = dir.appendingPathComponent("reference"), out = dir.appendingPathComponent("out")
        XCTAssertEqual(try runCommand(TestEnvironment.executable("tessera-predict"), args + ["--out", reference.path], timeout: 900).status, 0)

        let first = Process()
        first.executableURL = TestEnvironment.executable("tessera-predict")
        first.arguments = args + ["--out", out.path]
        first.standardError = FileHandle.nullDevice
        first.standardOutput = FileHandle.nullDevice
        try first.run()
        let lock = out.appendingPathComponent("parts/task-0000-of-0001.lock")
        let deadline = Date().addingTimeInterval(300)
        while !FileManager.default.fileExists(atPath: lock.path) && first.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        kill(first.processIdentifier, SIGSTOP)
        XCTAssertTrue(first.isRunning, "the first process ended before the second started")
        let second = try runCommand(TestEnvironment.executable("tessera-predict"), args + ["--out", out.path], timeout: 300)
        kill(first.processIdentifier, SIGCONT)
        first.waitUntilExit()

        XCTAssertEqual(second.status, 1, second.output)
        // The owner recorded in the lock is the process that took it (tessera-predict may re-exec itself, same pid).
        XCTAssertTrue(second.stderr.contains("task 0 of 1 is already running (pid \(first.processIdentifier) on \(TaskLock.hostName), since "),
                      second.stderr)
        XCTAssertEqual(first.terminationStatus, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: lock.path))
        for name in ["slides.csv", "tiles.csv", "patients.csv"] {
            XCTAssertEqual(try text(out.appendingPathComponent(name)), try text(reference.appendingPathComponent(name)), name)
        }
    }

    /// A slide that failed is predicted by the next run (not with --no-retry-failed).
    func testFailedSlideIsPredictedByTheNextRun() throws {
        let f = try PredictionFixture.shared()
        let dir = try TestEnvironment.temporaryDirectory(self, "predict")
        let rows = try CSVTable(f.testManifest).rows
        XCTAssertGreaterThanOrEqual(rows.count, 2)
        let flaky = dir.appendingPathComponent("flaky.svs")
        let manifest = dir.appendingPathComponent("m.csv")
        try Data(CSV.document(header: ["slide_path", "slide_id", "patient_id", "label"],
                              rows: [rows[0], [flaky.path, rows[1][1], rows[1][2], rows[1][3]]]).utf8).write(to: manifest)
        let args = ["--model", f.model.path, "--manifest", manifest.path, "--assume-mpp", "0.5", "--skip-missing"]
        try FileManager.default.copyItem(at: URL(fileURLWithPath: rows[1][0]), to: flaky)
        let reference = dir.appendingPathComponent("reference"), out = dir.appendingPathComponent("out")
        XCTAssertEqual(try predict(args + ["--out", reference.path]).status, 0)

        try FileManager.default.moveItem(at: flaky, to: dir.appendingPathComponent("away.svs"))
        let failed = try predict(args + ["--out", out.path])
        XCTAssertEqual(failed.status, 3, failed.output)
        XCTAssertEqual(try CSVTable(out.appendingPathComponent("failures.csv")).rows.map { $0[0] }, [rows[1][1]])
        try FileManager.default.moveItem(at: dir.appendingPathComponent("away.svs"), to: flaky)

        let kept = try predict(args + ["--out", out.path, "--no-retry-failed"])
        XCTAssertEqual(kept.status, 3, kept.output)
        XCTAssertEqual(try CSVTable(out.appendingPathComponent("failures.csv")).rows.map { $0[0] }, [rows[1][1]])

        let retried = try predict(args + ["--out", out.path])
        XCTAssertEqual(retried.status, 0, retried.output)
        XCTAssertTrue(retried.stderr.contains("retrying 1 slide that failed before (\(rows[1][1]))"), retried.stderr)
        XCTAssertTrue(retried.stderr.contains("resuming: 1 slides already done"), retried.stderr)
        XCTAssertEqual(try CSVTable(out.appendingPathComponent("failures.csv")).rows.count, 0)
        XCTAssertEqual(try text(out.appendingPathComponent("slides.csv")), try text(reference.appendingPathComponent("slides.csv")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("parts/task-0000-of-0001/work").path))
    }
}
