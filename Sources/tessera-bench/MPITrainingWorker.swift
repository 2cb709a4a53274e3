import BLAS
import Foundation
import MPI
import NeuralNet
import TesseraCore

/// tessera-bench's hidden `--mpi-training-worker RESULT` mode: one rank of a data-parallel training
/// run that `TrainingBenchmark` launches under `mpirun`. Each rank trains the benchmark network on
/// its own synthetic batch, every step as `DataParallelTrainer` takes it (forward, softmax
/// cross-entropy, backward, in-place allreduce of the gradient buffer, scale by 1/ranks, allreduce
/// of the loss sums, SGD step), with the communication timed apart; then it times the gradient
/// allreduce alone. Rank 0 writes the result as JSON to RESULT; nothing goes to standard output.
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
        /// During the timed samples, summed over ranks.
        var cpuSeconds: Double
        var wallSeconds: Double
        var preemptions: Double
        var waits: Double
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
        let classes = network.classes
        // Identical on every rank already (same seed); broadcast as the trainer does.
        world.broadcast(network.parameters, root: 0)
        world.broadcast(network.state, root: 0)
        let sgd = SGD(parameterInfo: network.parameterInfo, momentum: 0.9, weightDecay: 5e-5)

        // images: batch × 3 × S × S, labels: batch, dLogits: batch × classes — this rank's own shard.
        var rng = SeededGenerator(seed: 7, stream: UInt64(world.rank))
        let images = UnsafeMutableBufferPointer<Float>.allocate(capacity: batch * network.inputShape.count)
        defer { images.deallocate() }
        for i in images.indices { images[i] = Float(rng.nextUnit() * 2 - 1) }
        let labels = (0..<batch).map { _ in Int32(rng.next() % UInt64(classes)) }
        let dLogits = UnsafeMutablePointer<Float>.allocate(capacity: batch * classes)
        defer { dLogits.deallocate() }
        let gradientScale = 1 / Float(world.size)

        var communicationSeconds = 0.0
        func step() {
            network.zeroGradients()
            let z = network.forward(UnsafePointer(images.baseAddress!), batch: batch, training: true)
            let loss = labels.withUnsafeBufferPointer {
                SoftmaxCrossEntropy.lossAndGradient(logits: z.baseAddress!, labels: $0, classes: classes, dLogits: dLogits)
            }
            network.backward(dLogits)
            communicationSeconds += Measure.seconds {
                world.allreduceSum(network.gradients)
                let g = network.gradients
                for i in 0..<g.count { g[i] *= gradientScale }
                var sums = [loss * Double(batch), 0, Double(batch)]
                world.allreduceSum(&sums)
            }
            sgd.step(network, learningRate: 1e-3)
        }

        step()
        var rates: [Double] = [], shares: [Double] = []
        let before = ResourceUsage.ofThisProcess()
        var wallTotal = 0.0
        for _ in 0..<samples {
            world.barrier()
            communicationSeconds = 0
            let wall = Measure.seconds { for _ in 0..<steps { step() } }
            wallTotal += wall
            var times = [communicationSeconds, wall]
            world.allreduceSum(&times)
            var slowest = [wall]
            world.allreduceMax(&slowest)
            rates.append(Double(world.size * batch * steps) / slowest[0])
            shares.append(100 * times[0] / times[1])
        }
        let after = ResourceUsage.ofThisProcess()
        var usage = [after.cpuSeconds - before.cpuSeconds, Double(after.involuntarySwitches - before.involuntarySwitches),
                     Double(after.voluntarySwitches - before.voluntarySwitches)]
        world.allreduceSum(&usage)

        // The gradient allreduce alone: the collective keeps the ranks in step after one barrier.
        world.barrier()
        var milliseconds: [Double] = []
        for _ in 0..<isolatedAllreduces {
            milliseconds.append(1000 * Measure.seconds { world.allreduceSum(network.gradients) })
        }
        return Result(ranks: world.size, batchPerRank: batch, stepsPerSample: steps, imagesPerSecond: rates,
                      allreduceSharePercent: shares, gradientAllreduceMilliseconds: milliseconds,
                      gradientBytes: network.gradients.count * MemoryLayout<Float>.size,
                      cpuSeconds: usage[0], wallSeconds: wallTotal, preemptions: usage[1], waits: usage[2])
    }
}
