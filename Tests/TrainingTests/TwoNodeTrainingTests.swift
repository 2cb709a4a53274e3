import Foundation
import Model
import TesseraTestSupport
import Training
import XCTest

/// tessera-train across two hosts on the two-node test cluster (Tests/Slurm/two-node-cluster):
/// ranks on two nodes train the same model as on one node, pick their threads per node, and a node
/// lost mid-training ends the job promptly and leaves a checkpoint to resume from.
final class TwoNodeTrainingTests: XCTestCase {
    let exe = TestEnvironment.executable("tessera-train")
    // The learning rate is per 256 images, scaled to the global batch of 16.
    let common = ["--input-size", "16", "--batch", "8", "--learning-rate", "1.6", "--warmup-epochs", "0", "--progress-interval", "0"]

    func model(_ run: URL) throws -> ModelFile { try ModelFile.read(run.appendingPathComponent("model.tsm")) }

    /// Submits `srun --mpi=pmix tessera-train ARGS` with the given placement; returns the job's id.
    func submitTraining(_ slurm: LocalSlurm, _ dir: URL, name: String, placement: [String], _ args: [String]) throws -> Int {
        try slurm.submit(script: """
            #!/bin/bash
            export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
            exec srun --mpi=pmix \(exe.path) \(args.joined(separator: " "))
            """, arguments: placement + ["--output=\(dir.appendingPathComponent("\(name).out").path)"])
    }

    func train(_ slurm: LocalSlurm, _ dir: URL, name: String, placement: [String], _ args: [String]) throws -> String {
        let id = try submitTraining(slurm, dir, name: name, placement: placement, args)
        let jobs = try slurm.waitForJobs([id], timeout: 600)
        let log = (try? String(contentsOf: dir.appendingPathComponent("\(name).out"), encoding: .utf8)) ?? "(no output)"
        XCTAssertEqual(jobs.first?.state, .completed, "\(name): \(jobs)\n\(log)")
        return log
    }

    static let twoNodes = ["--nodes=2", "--ntasks=2"]
    static let oneNode = ["--nodes=1", "--ntasks=2"]

    /// 2 ranks on 2 hosts (allreduce over TCP) and 2 ranks on one host (shared memory), same seed
    /// and global batch: bit-identical weights (a sum of two floats does not depend on the
    /// transport). Without --threads each rank takes its node's cores divided by the ranks on that
    /// node: all of them on two nodes, half on one (`srun -n 2` sets no per-node variable).
    func testTwoRanksOnTwoNodesTrainTheWeightsOfTwoRanksOnOneNode() throws {
        let slurm = try LocalSlurm.twoNode()
        let dir = try TestEnvironment.temporaryDirectory(self, "two-node-train")
        let store = dir.appendingPathComponent("store")
        try TrainingStoreFixture.write(store)
        let args = ["--store", store.path, "--epochs", "2", "--threads", "1"] + common
        _ = try train(slurm, dir, name: "two-nodes", placement: Self.twoNodes, args + ["--out", dir.appendingPathComponent("two-nodes").path])
        _ = try train(slurm, dir, name: "one-node", placement: Self.oneNode, args + ["--out", dir.appendingPathComponent("one-node").path])
        let a = try model(dir.appendingPathComponent("two-nodes")), b = try model(dir.appendingPathComponent("one-node"))
        XCTAssertEqual(a.parameters.count, b.parameters.count)
        XCTAssertEqual(a.parameters.map(\.bitPattern), b.parameters.map(\.bitPattern), "weights differ between 2 nodes and 1 node")
        XCTAssertEqual(a.state.map(\.bitPattern), b.state.map(\.bitPattern), "BatchNorm statistics differ between 2 nodes and 1 node")

        let cores = ProcessInfo.processInfo.activeProcessorCount
        let short = ["--store", store.path, "--epochs", "1", "--stop-after-steps", "1"] + common
        let spread = try train(slurm, dir, name: "threads-two-nodes", placement: Self.twoNodes,
                               short + ["--out", dir.appendingPathComponent("t2").path])
        XCTAssertTrue(spread.contains("2 ranks × batch 8 × \(cores) BLAS thread"), "1 rank per node takes all \(cores) cores:\n\(spread)")
        let packed = try train(slurm, dir, name: "threads-one-node", placement: Self.oneNode,
                               short + ["--out", dir.appendingPathComponent("t1").path])
        let half = max(1, cores / 2)
        XCTAssertTrue(packed.contains("2 ranks × batch 8 × \(half) BLAS thread"), "2 ranks on a node share its \(cores) cores:\n\(packed)")
    }

    /// Node 2 (its slurmd and its rank) is killed once a checkpoint exists, under mpirun
    /// (train.sbatch with TESSERA_LAUNCHER=mpirun): mpirun notices its lost daemon and ends the
    /// rank on node 1 within seconds, so the batch script ends within 30 s instead of waiting in an
    /// allreduce; Slurm finishes the job once it declares the node down. A resubmitted `--resume`
    /// job on both nodes continues from the checkpoint to the weights of an uninterrupted run.
    /// (Under srun the surviving rank waits until Slurm declares the node down: ~25 s here with
    /// SlurmdTimeout=6, SlurmdTimeout on a real cluster; Slurm/SCALING.md.)
    func testLostNodeEndsTheRunAndTheResubmittedJobResumesToTheSameModel() throws {
        let slurm = try LocalSlurm.twoNode()
        let dir = try TestEnvironment.temporaryDirectory(self, "two-node-loss")
        let store = dir.appendingPathComponent("store")
        try TrainingStoreFixture.write(store)
        let run = dir.appendingPathComponent("run")
        let args = ["--store", store.path, "--epochs", "4", "--checkpoint-every", "2", "--threads", "1", "--seed", "7", "--resume"] + common

        let output = dir.appendingPathComponent("lost.out")
        let id = try slurm.submit(script: """
            #!/bin/bash
            export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
            exec mpirun \(exe.path) \(args.joined(separator: " ")) --out \(run.path)
            """, arguments: Self.twoNodes + ["--output=\(output.path)"])
        // Whatever happens below, the next test needs both nodes.
        defer { _ = try? slurm.runScript("node-up", ["2"], timeout: 120) }
        let checkpoint = run.appendingPathComponent("checkpoint.tsc")
        let deadline = Date().addingTimeInterval(300)
        while !FileManager.default.fileExists(atPath: checkpoint.path) && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint.path), "no checkpoint within 300 s\n\(slurm.diagnostics())")
        let lost = Date()
        let down = try slurm.runScript("node-down", ["2"])
        XCTAssertEqual(down.status, 0, down.output)

        var ranksGone: TimeInterval?, scriptEnded: TimeInterval?
        while Date().timeIntervalSince(lost) < 30 && (ranksGone == nil || scriptEnded == nil) {
            let elapsed = Date().timeIntervalSince(lost)
            if ranksGone == nil && ranks(of: id, slurm).isEmpty { ranksGone = elapsed }
            if scriptEnded == nil, let job = try slurm.jobState(id), job.state != .running { scriptEnded = elapsed }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        let ended = try slurm.waitForJobs([id], timeout: 120)
        print("node lost: tessera-train ranks gone after \(ranksGone.map { String(format: "%.1f s", $0) } ?? "more than 30 s"), "
              + "batch script ended after \(scriptEnded.map { String(format: "%.1f s", $0) } ?? "more than 30 s"), "
              + "job \(ended.first?.description ?? "?") after \(String(format: "%.1f s", Date().timeIntervalSince(lost)))")
        XCTAssertNotNil(ranksGone, "a rank is still running 30 s after its peer's node was lost:\n\(log)")
        XCTAssertNotNil(scriptEnded, "job \(id) still running 30 s after a node was lost:\n\(slurm.diagnostics())\n\(log)")
        XCTAssertTrue(log.contains("lost communication with a remote daemon"), log)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent("model.tsm").path), log)
        XCTAssertGreaterThan(try Checkpoint.read(checkpoint).header.globalStep, 0)

        let up = try slurm.runScript("node-up", ["2"], timeout: 120)
        XCTAssertEqual(up.status, 0, up.output)
        let resumed = try train(slurm, dir, name: "resumed", placement: Self.twoNodes, args + ["--out", run.path])
        XCTAssertTrue(resumed.contains("resuming from checkpoint.tsc"), resumed)
        _ = try train(slurm, dir, name: "reference", placement: Self.twoNodes, args + ["--out", dir.appendingPathComponent("reference").path])
        let a = try model(run), b = try model(dir.appendingPathComponent("reference"))
        XCTAssertEqual(a.parameters.map(\.bitPattern), b.parameters.map(\.bitPattern), "the resumed model differs from the uninterrupted one")
    }

    /// PIDs of the job's tessera-train processes, on either node.
    func ranks(of id: Int, _ slurm: LocalSlurm) -> [Int32] {
        slurm.processes(ofJob: id).filter {
            (try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8))?.hasPrefix("tessera-train") ?? false
        }
    }
}
