import Foundation
import Model
import TesseraCore
import TesseraTestSupport
import XCTest

/// Training under a time limit shorter than the training: Slurm warns the batch script before the
/// limit (`--signal=B:USR1@…` from the site file), the trainer checkpoints after its current step
/// and exits 75, the job requeues itself, and after the requeues it completes with the same model
/// as a run that was never interrupted.
final class TimeLimitRequeueTests: XCTestCase {
    /// Seconds of training steps the job needs: more than one run under a one-minute limit can do
    /// (the warning comes 10–40 s into a run), so at least one requeue is certain.
    static let trainingSeconds = 80.0

    func testTrainingStopsBeforeTheTimeLimitRequeuesAndEndsWithTheSameModel() throws {
        let slurm = try LocalSlurm.shared()
        let work = try TestEnvironment.temporaryDirectory(self, "slurm-requeue")
        let cohort = work.appendingPathComponent("cohort")
        let synth = try runCommand(TestEnvironment.executable("tessera-synth"),
                                   ["--out", cohort.path, "--patients", "6", "--width", "1024", "--height", "1024", "--seed", "5",
                                    "--tile-size", "256"])
        XCTAssertEqual(synth.status, 0, synth.output)
        // One rank: the model is then bit-identical to the uninterrupted run's, BatchNorm statistics
        // included (with several ranks, a mid-epoch checkpoint averages them across ranks early,
        // which changes their last bits; TrainingTests covers the ranks' agreement on the stop).
        var settings: [(String, String)] = [("RANKS", "1"), ("TILE_SHARDS", "1"), ("PREDICT_SHARDS", "1"), ("EPOCHS", "3")]
        var job = try SmallJobFile.write(in: work, manifest: cohort.appendingPathComponent("manifest.csv"), settings)
        let tile = try runCommand(TestEnvironment.executable("tessera-tile"), ["--job", job.path], currentDirectory: work)
        XCTAssertEqual(tile.status, 0, tile.output)

        // Calibrate on this machine: enough epochs for `trainingSeconds` of steps.
        let calibration = try runCommand(TestEnvironment.executable("tessera-train"), ["--job", job.path, "--out", "calibration"],
                                         currentDirectory: work)
        XCTAssertEqual(calibration.status, 0, calibration.output)
        let metrics = try CSV.parse(String(contentsOf: work.appendingPathComponent("calibration/metrics.csv"), encoding: .utf8))
        let secondsColumn = try XCTUnwrap(metrics.first?.fields.firstIndex(of: "seconds"))
        let seconds = metrics.dropFirst().compactMap { Double($0.fields[secondsColumn]) }
        let perEpoch = seconds.reduce(0, +) / Double(max(seconds.count, 1))
        let epochs = min(5000, max(8, Int((Self.trainingSeconds / max(perEpoch, 1e-3)).rounded(.up))))
        settings[3] = ("EPOCHS", "\(epochs)")
        job = try SmallJobFile.write(in: work, manifest: cohort.appendingPathComponent("manifest.csv"), settings)

        // A site whose stages have one minute and are warned 40 s before the end.
        let site = work.appendingPathComponent("site.env")
        try """
            SITE_TRAIN_TIME=00:01:00
            SITE_PREDICT_TIME=00:10:00
            SITE_MERGE_TIME=00:10:00
            SITE_SIGNAL_SECONDS=40
            SITE_MAX_REQUEUES=30
            """.write(to: site, atomically: true, encoding: .utf8)
        let submitted = try runCommand(TestEnvironment.packageRoot.appendingPathComponent("Slurm/submit"), [job.path, "--from", "train"],
                                       environment: slurm.environment.merging([
                                           "TESSERA_BIN": TestEnvironment.productsDirectory.path, "TESSERA_SITE": site.path,
                                       ]) { $1 },
                                       currentDirectory: work)
        XCTAssertEqual(submitted.status, 0, submitted.output)
        let ids = try XCTUnwrap(SlurmPipeline.jobIDs(submitOutput: submitted.stdout)?.compactMapValues { Int($0) }, submitted.output)
        let train = try XCTUnwrap(ids["train"], submitted.output)

        // The uninterrupted reference, on the other core while the Slurm job runs.
        let reference = try runCommand(TestEnvironment.executable("tessera-train"), ["--job", job.path, "--out", "reference"],
                                       currentDirectory: work, timeout: 1200)
        XCTAssertEqual(reference.status, 0, reference.output)

        let jobs = try slurm.waitForJobs(Array(ids.values), timeout: 1200)
        let log = (try? String(contentsOf: work.appendingPathComponent("logs/tessera-train-e2e-\(train).out"), encoding: .utf8)) ?? ""
        for j in jobs { XCTAssertEqual(j.state, .completed, "\(j)\n\(log)") }
        let shown = try slurm.run("scontrol", ["show", "job", "\(train)"]).stdout
        let restarts = shown.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("Restarts=") }.flatMap { Int($0.dropFirst("Restarts=".count)) }
        XCTAssertGreaterThanOrEqual(restarts ?? 0, 1, shown)
        XCTAssertTrue(log.contains("SIGUSR1 (time limit near)"), log)
        XCTAssertTrue(log.contains("stopping on SIGUSR1"), log)
        XCTAssertTrue(log.contains("requeueing job \(train) to resume"), log)
        XCTAssertTrue(log.contains("resuming from checkpoint.tsc"), log)
        XCTAssertFalse(log.contains("DUE TO TIME LIMIT"), log)

        let resumed = try ModelFile.read(work.appendingPathComponent("run/model.tsm"))
        let uninterrupted = try ModelFile.read(work.appendingPathComponent("reference/model.tsm"))
        XCTAssertEqual(resumed.parameters.map(\.bitPattern), uninterrupted.parameters.map(\.bitPattern), "weights differ")
        XCTAssertEqual(resumed.state.map(\.bitPattern), uninterrupted.state.map(\.bitPattern), "BatchNorm statistics differ")
        XCTAssertTrue(FileManager.default.fileExists(atPath: work.appendingPathComponent("predictions/slides.csv").path), log)
    }
}
