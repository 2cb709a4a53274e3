import Foundation
import Model
import NeuralNet
import TesseraCore
import TesseraTestSupport
import Training
import XCTest

/// tessera-train as users run it: the built executable, alone and under mpirun.
final class TrainerEndToEndTests: XCTestCase {
    let exe = TestEnvironment.executable("tessera-train")
    // Small and fast in a debug build: 32² tiles reduced to 16² inputs.
    // The learning rate is per 256 images and scaled to the global batch of 16: 0.1 in effect.
    let common = ["--input-size", "16", "--batch", "8", "--learning-rate", "1.6", "--warmup-epochs", "0", "--progress-interval", "0"]

    func train(ranks: Int, _ args: [String], timeout: TimeInterval = 300) throws -> CommandResult {
        ranks == 1 ? try runCommand(exe, args, timeout: timeout) : try runMPI(ranks: ranks, exe, args, timeout: timeout)
    }

    func model(_ run: URL) throws -> ModelFile { try ModelFile.read(run.appendingPathComponent("model.tsm")) }

    func testTwoRanksLearnTheFixtureAndWriteEveryOutput() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "train")
        let store = dir.appendingPathComponent("store")
        try TrainingStoreFixture.write(store)
        let run = dir.appendingPathComponent("run")
        let r = try train(ranks: 2, ["--store", store.path, "--out", run.path, "--epochs", "6"] + common)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.stderr.contains("OpenBLAS core"), r.stderr)
        XCTAssertTrue(r.stderr.contains("2 ranks × batch 8"), r.stderr)
        XCTAssertFalse(r.stderr.contains("tessera-train[1]"), "only rank 0 prints:\n\(r.stderr)")
        let m = try model(run)
        XCTAssertEqual(m.header.classes, TrainingStoreFixture.classes)
        XCTAssertEqual(m.header.network.inputSize, 16)
        XCTAssertEqual(m.header.tiling.tileSize, 32)
        XCTAssertEqual(m.header.tiling.target, .mpp(0.5))
        XCTAssertEqual(m.header.tiling.jpegQuality, 95, "the store's JPEG quality, for prediction from slide files")
        XCTAssertEqual(m.header.normalization.mean.count, 3)
        let accuracy = try XCTUnwrap(m.header.validationAccuracy)
        let metrics = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8)
        XCTAssertGreaterThan(accuracy, 0.9, "validation accuracy after 6 epochs on stripes, diagonals and dots:\n\(metrics)")
        let csv = try CSV.parse(String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8))
        XCTAssertEqual(csv.first?.fields, ["epoch", "step", "train_loss", "train_accuracy", "validation_loss", "validation_accuracy"]
            + TrainingStoreFixture.classes.map { "validation_accuracy_\($0)" } + ["learning_rate", "images_per_second", "seconds"])
        for row in csv.dropFirst() {
            XCTAssertFalse(row.fields.contains { $0.contains("e") || $0.contains("E") }, "plain decimals: \(row.fields)")
        }
        // model-best.tsm: the epoch with the best validation accuracy (the first of equals); model.tsm the last.
        let accuracies = csv.dropFirst().map { Double($0.fields[5])! }
        let bestEpoch = accuracies.indices.first { accuracies[$0] == accuracies.max() }! + 1
        let best = try ModelFile.read(run.appendingPathComponent("model-best.tsm"))
        XCTAssertEqual(best.header.selection, .bestValidation)
        XCTAssertEqual(best.header.epochs, bestEpoch)
        XCTAssertEqual(try XCTUnwrap(best.header.validationAccuracy), accuracies.max()!, accuracy: 1e-5, "metrics.csv keeps 6 digits")
        XCTAssertEqual(m.header.selection, .last)
        XCTAssertTrue(r.stderr.contains("model-best.tsm: the best validation accuracy's (epoch \(bestEpoch)"), r.stderr)
        XCTAssertEqual(csv.count, 7)
        XCTAssertEqual(csv.last?.fields[0], "6")
        // 144 training tiles, global batch 16: 9 steps per epoch.
        XCTAssertEqual(csv.last?.fields[1], "54")
        let svg = try String(contentsOf: run.appendingPathComponent("training-curves.svg"), encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.contains("polyline") && svg.contains("loss (log scale)"))
        for e in 1...6 { XCTAssertTrue(svg.contains(">\(e)</text>"), "epoch tick \(e)") }
        XCTAssertEqual(try Checkpoint.read(run.appendingPathComponent("checkpoint.tsc")).header.epoch, 6)
    }

    /// With BatchNorm off, 2 ranks × batch B computes the same updates as 1 rank × batch 2B (the
    /// gradient of the same global batch), up to float rounding.
    func testTwoRanksEqualOneRankWithTheGlobalBatch() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "train")
        let store = dir.appendingPathComponent("store")
        try TrainingStoreFixture.write(store)
        let args = ["--store", store.path, "--epochs", "2", "--no-batch-norm", "--input-size", "16", "--learning-rate", "0.2",
                    "--warmup-epochs", "0", "--threads", "1"]
        let two = try train(ranks: 2, args + ["--out", dir.appendingPathComponent("two").path, "--batch", "8"])
        XCTAssertEqual(two.status, 0, two.output)
        let one = try train(ranks: 1, args + ["--out", dir.appendingPathComponent("one").path, "--batch", "16"])
        XCTAssertEqual(one.status, 0, one.output)
        let a = try model(dir.appendingPathComponent("two")).parameters, b = try model(dir.appendingPathComponent("one")).parameters
        XCTAssertEqual(a.count, b.count)
        var worst: Float = 0
        for i in 0..<a.count { worst = max(worst, abs(a[i] - b[i]) / max(1, abs(b[i]))) }
        print("2 ranks × 8 vs 1 rank × 16: largest parameter difference \(worst)")
        XCTAssertLessThan(worst, 1e-3)
    }

    /// A run stopped after a checkpoint and resumed ends with bit-identical weights to an
    /// uninterrupted run with the same number of ranks.
    func testResumedRunIsBitIdentical() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "train")
        let store = dir.appendingPathComponent("store")
        try TrainingStoreFixture.write(store)
        let args = ["--store", store.path, "--epochs", "2", "--checkpoint-every", "4", "--dropout", "0.2"] + common
        let full = dir.appendingPathComponent("full"), resumed = dir.appendingPathComponent("resumed")
        XCTAssertEqual(try train(ranks: 2, args + ["--out", full.path]).status, 0)
        let first = try train(ranks: 2, args + ["--out", resumed.path, "--stop-after-steps", "4"])
        XCTAssertEqual(first.status, 0, first.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: resumed.appendingPathComponent("model.tsm").path))
        XCTAssertEqual(try Checkpoint.read(resumed.appendingPathComponent("checkpoint.tsc")).header.globalStep, 4)
        let second = try train(ranks: 2, args + ["--out", resumed.path, "--resume"])
        XCTAssertEqual(second.status, 0, second.output)
        XCTAssertTrue(second.stderr.contains("resuming from checkpoint.tsc: epoch 1, step 5 of 9"), second.stderr)
        let a = try model(full), b = try model(resumed)
        XCTAssertEqual(a.parameters.map(\.bitPattern), b.parameters.map(\.bitPattern), "weights differ after resume")
        XCTAssertEqual(a.state.map(\.bitPattern), b.state.map(\.bitPattern), "BatchNorm statistics differ after resume")
        // Resuming with other options is refused, naming the difference.
        let other = try train(ranks: 2, args.map { $0 == "1.6" ? "1.2" : $0 } + ["--out", resumed.path, "--resume"])
        XCTAssertNotEqual(other.status, 0)
        XCTAssertTrue(other.stderr.contains("another configuration"), other.stderr)
    }

    /// A rank that dies takes the job down within seconds instead of leaving the others waiting.
    func testKillingOneRankEndsTheJob() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "train")
        let store = dir.appendingPathComponent("store")
        try TrainingStoreFixture.write(store)
        let run = dir.appendingPathComponent("run-to-kill")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
        process.arguments = ["--oversubscribe", "-np", "2", exe.path, "--store", store.path, "--out", run.path, "--epochs", "500"] + common
        var env = ProcessInfo.processInfo.environment
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until training is under way (the first epoch's checkpoint), then kill rank 1.
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: run.appendingPathComponent("checkpoint.tsc").path) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
        }
        let ranks = try runCommand(URL(fileURLWithPath: "/usr/bin/pgrep"), ["-f", "tessera-train --store \(store.path) --out \(run.path)"])
        let pids = ranks.stdout.split(separator: "\n").compactMap { Int32($0) }.filter { $0 != process.processIdentifier }
        XCTAssertEqual(pids.count, 2, ranks.output)
        let killedAt = Date()
        kill(pids.max()!, SIGKILL)
        while process.isRunning && Date().timeIntervalSince(killedAt) < 60 { Thread.sleep(forTimeInterval: 0.05) }
        let took = Date().timeIntervalSince(killedAt)
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        XCTAssertNotEqual(process.terminationStatus, 0)
        XCTAssertLessThan(took, 15, "the job took \(took) s to end after a rank died")
        // No rank is left running (a zombie awaiting its parent's wait does not count).
        Thread.sleep(forTimeInterval: 0.5)
        for pid in pids {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            XCTAssertTrue(status.isEmpty || status.contains("State:\tZ"), "rank \(pid) still alive:\n\(status.prefix(200))")
        }
    }

    func testBadInputsGiveClearErrors() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "train")
        // Fewer tiles than ranks × batch.
        let small = dir.appendingPathComponent("small")
        try TrainingStoreFixture.write(small, perClass: 4)
        let few = try train(ranks: 2, ["--store", small.path, "--out", dir.appendingPathComponent("r1").path, "--batch", "32", "--input-size", "16"])
        XCTAssertNotEqual(few.status, 0)
        XCTAssertTrue(few.stderr.contains("fewer than ranks × batch = 2 × 32"), few.stderr)
        // Unlabelled tiles.
        let unlabelled = dir.appendingPathComponent("unlabelled")
        try TrainingStoreFixture.write(unlabelled, labelOverride: -1)
        let r2 = try train(ranks: 1, ["--store", unlabelled.path, "--out", dir.appendingPathComponent("r2").path] + common)
        XCTAssertNotEqual(r2.status, 0)
        XCTAssertTrue(r2.stderr.contains("has label -1, outside the 3 classes"), r2.stderr)
        // Input larger than the tiles.
        let store = dir.appendingPathComponent("store")
        try TrainingStoreFixture.write(store)
        let big = try train(ranks: 1, ["--store", store.path, "--out", dir.appendingPathComponent("r3").path, "--input-size", "64"])
        XCTAssertNotEqual(big.status, 0)
        XCTAssertTrue(big.stderr.contains("--input-size 64 is larger than the store's 32 px tiles"), big.stderr)
        // A learning rate that blows up: the step and the rate are named, no model is written.
        let run = dir.appendingPathComponent("r4")
        let nan = try train(ranks: 1, ["--store", store.path, "--out", run.path, "--learning-rate", "1e30", "--warmup-epochs", "0",
                                       "--input-size", "16", "--batch", "8", "--no-batch-norm"])
        XCTAssertNotEqual(nan.status, 0)
        XCTAssertTrue(nan.stderr.contains("training diverged: the loss is") && nan.stderr.contains("learning rate"), nan.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent("model.tsm").path))
        // An error on rank 0 alone (its output folder is a file) ends the job instead of leaving
        // rank 1 waiting in a collective.
        let blocked = dir.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: blocked)
        let started = Date()
        let r5 = try train(ranks: 2, ["--store", store.path, "--out", blocked.path] + common, timeout: 60)
        XCTAssertNotEqual(r5.status, 0)
        XCTAssertTrue(r5.stderr.contains("rank 0/2: fatal:"), r5.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 30)
        // Options.
        let bad = try train(ranks: 1, ["--store", store.path, "--out", run.path, "--schedule", "linear"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("--schedule must be cosine or step:E1,E2"), bad.stderr)
        let missing = try train(ranks: 1, ["--store", "/nonexistent", "--out", run.path])
        XCTAssertEqual(missing.status, 64)
        XCTAssertTrue(missing.stderr.contains("--store /nonexistent is not a folder"), missing.stderr)
    }
}
