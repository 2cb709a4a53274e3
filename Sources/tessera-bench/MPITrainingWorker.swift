import BLAS
import Foundation
import MPI
import NeuralNet
import TesseraCore
import Training

/// tessera-bench's hidden `--mpi-training-worker RESULT` mode: one rank of a data-parallel training
/// run that `TrainingBenchmark` launches under `mpirun`. Each rank trains the benchmark network on
/// its own synthetic batch with the trainer's own `DataParallelStep` (`SyntheticTraining`), whose
/// allreduces and scaling are timed apart; then it times the gradient allreduce alone. Rank 0 writes the result as JSON to RESULT; nothing goes to standard output.
enum MPITrainingWorker {
    struct Result: Codable {
        var ranks: Int
        var batchPerRank: Int
        var stepsPerSample: Int
        /// Images per second over all ranks, one per sample.
        var imagesPerSecond: [Double]
        /// Per sample, % of step time the ranks spent in the step's allreduces and the scaling
        /// (averaged over ranks; includes waiting for the slower rank).
        var allreduceSharePercent: [Double]
        /// Milliseconds per isolated allreduce of the gradient buffer (ranks in step), one per call.
        var gradientAllreduceMilliseconds: [Double]
        var gradientBytes: Int
        /// During the timed samples: CPU time and context switches summed over ranks, rank 0's wall time.
        var cpu: CPUUse
    }

    static let isolatedAllreduces = 20

    /// Runs this rank to the end and exits the process: 0 when done, else every rank is aborted.
    static func run(resultPath: String, quick: Bool) -> Never {
        let world = MPIWorld.initialize()
        Log.program = "tessera-bench[rank \(world.rank)/\(world.size)]"
        do {
            let result = try train(world: world, quick: quick)
            if world.isRoot {
                try AtomicFile.write(try JSONEncoder().encode(result), to: URL(fileURLWithPath: resultPath))
            }
        } catch {
            world.abort(message: "\(error)")
        }
        world.finalize()
        exit(0)
    }

    static func train(world: MPIWorld, quick: Bool) throws -> Result {
        BLASRuntime.setThreads(1)
        let (steps, samples) = TrainingBenchmark.trainingLength(quick: quick)
        let batch = TrainingBenchmark.trainBatch
        let network = try TrainingBenchmark.makeNetwork()
        // Identical on every rank already (same seed); broadcast as the trainer does.
        world.broadcast(network.parameters, root: 0)
        world.broadcast(network.state, root: 0)
        let training = SyntheticTraining(network: network, collectives: world, batch: batch, rank: world.rank)

        try training.run(steps: 1)
        var rates: [Double] = [], shares: [Double] = []
        let before = ResourceUsage.ofThisProcess()
        var wallTotal = 0.0
        for _ in 0..<samples {
            world.barrier()
            let communicationBefore = training.step.communicationSeconds
            let wall = try Measure.seconds { try training.run(steps: steps) }
            wallTotal += wall
            var times = [training.step.communicationSeconds - communicationBefore, wall]
            world.allreduceSum(&times)
            var slowest = [wall]
            world.allreduceMax(&slowest)
            rates.append(Double(world.size * batch * steps) / slowest[0])
            shares.append(100 * times[0] / times[1])
        }
        var use = CPUUse()
        use.add(wallSeconds: wallTotal, from: before, to: ResourceUsage.ofThisProcess())
        let cpu = use.summedOverRanks { world.allreduceSum(&$0) }

        // The gradient allreduce alone: the collective keeps the ranks in step after one barrier.
        world.barrier()
        var milliseconds: [Double] = []
        for _ in 0..<isolatedAllreduces {
            milliseconds.append(1000 * Measure.seconds { world.allreduceSum(network.gradients) })
        }
        return Result(ranks: world.size, batchPerRank: batch, stepsPerSample: steps, imagesPerSecond: rates,
                      allreduceSharePercent: shares, gradientAllreduceMilliseconds: milliseconds,
                      gradientBytes: network.gradients.count * MemoryLayout<Float>.size,
                      cpu: cpu)
    }
}
