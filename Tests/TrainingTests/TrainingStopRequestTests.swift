import Foundation
import Model
import TesseraTestSupport
import Training
import XCTest

/// SIGUSR1 (what the Slurm scripts forward before a time limit) to ONE rank of a 2-rank run: every
/// rank stops after the same step, rank 0 writes the checkpoint there, the job exits 75, and the
/// resumed run ends with the weights of an uninterrupted one.
final class TrainingStopRequestTests: XCTestCase {
    let exe = TestEnvironment.executable("tessera-train")
    let common = ["--input-size", "16", "--batch", "8", "--learning-rate", "1.6", "--warmup-epochs", "0", "--progress-interval", "0",
                  "--threads", "1", "--no-batch-norm"]

    func testOneRankSignalledStopsEveryRankAtOneStepAndResumes() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "train-stop")
        let store = dir.appendingPathComponent("store")
        try TrainingStoreFixture.write(store)
        let epochs = 30
        let args = ["--store", store.path, "--epochs", "\(epochs)"] + common
        let run = dir.appendingPathComponent("stopped")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
        process.arguments = ["--oversubscribe", "-np", "2", exe.path] + args + ["--out", run.path]
        var env = ProcessInfo.processInfo.environment
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        process.environment = env
        let errors = dir.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errors)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Training under way (the first epoch's checkpoint), then SIGUSR1 to rank 1 only.
        let deadline = Date().addingTimeInterval(180)
        while !FileManager.default.fileExists(atPath: run.appendingPathComponent("checkpoint.tsc").path) && Date() < deadline && process.isRunning {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let ranks = try runCommand(URL(fileURLWithPath: "/usr/bin/pgrep"), ["-f", "\(exe.path) --store \(store.path)"])
        let pids = ranks.stdout.split(separator: "\n").compactMap { Int32($0) }.filter { $0 != process.processIdentifier }
        XCTAssertEqual(pids.count, 2, ranks.output)
        kill(pids.max()!, SIGUSR1)
        let stopAt = Date().addingTimeInterval(120)
        while process.isRunning && Date() < stopAt { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let log = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        XCTAssertEqual(process.terminationStatus, 75, log)
        XCTAssertTrue(log.contains("stopping on SIGUSR1"), log)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent("model.tsm").path), log)
        let stoppedAt = try Checkpoint.read(run.appendingPathComponent("checkpoint.tsc")).header.globalStep
        XCTAssertLessThan(stoppedAt, epochs * 9, log)

        let resumed = try runMPI(ranks: 2, exe, args + ["--out", run.path, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.stderr.contains("resuming from checkpoint.tsc"), resumed.stderr)
        let full = dir.appendingPathComponent("full")
        let uninterrupted = try runMPI(ranks: 2, exe, args + ["--out", full.path])
        XCTAssertEqual(uninterrupted.status, 0, uninterrupted.output)
        let a = try ModelFile.read(run.appendingPathComponent("model.tsm")), b = try ModelFile.read(full.appendingPathComponent("model.tsm"))
        XCTAssertEqual(a.parameters.map(\.bitPattern), b.parameters.map(\.bitPattern), "weights differ after the stop and resume")
    }
}
