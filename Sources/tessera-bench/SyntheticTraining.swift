import MPI
import NeuralNet
import TesseraCore
import Training

/// The benchmark's training run: the benchmark network stepped by the shipped `DataParallelStep`
/// (the trainer's own step: forward, backward, gradient and loss allreduces, SGD update) on one
/// synthetic batch per rank, so that the figures measure the code `tessera-train` runs, only
/// without reading tiles.
final class SyntheticTraining {
    let step: DataParallelStep
    // batch × 3 × S × S, this rank's own.
    private let images: [Float]
    private let labels: [Int32]
    private var steps = 0

    init(network: Network, collectives: Collectives, batch: Int, rank: Int) {
        step = DataParallelStep(network: network, optimizer: SGD(parameterInfo: network.parameterInfo, momentum: 0.9, weightDecay: 5e-5),
                                collectives: collectives, batch: batch)
        var rng = SeededGenerator(seed: 7, stream: UInt64(rank))
        images = (0..<(batch * network.inputShape.count)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        labels = (0..<batch).map { _ in Int32(rng.next() % UInt64(network.classes)) }
    }

    /// Takes `count` steps.
    func run(steps count: Int) throws {
        try images.withUnsafeBufferPointer { x in
            for _ in 0..<count {
                steps += 1
                _ = try step.run(images: x.baseAddress!, labels: labels, learningRate: 1e-3, stepNumber: steps)
            }
        }
    }

    /// Images per second on this rank, one figure per sample of `steps` steps, after one warm-up step.
    func rates(steps count: Int, samples: Int) throws -> [Double] {
        try run(steps: 1)
        return try (0..<samples).map { _ in Double(step.batch * count) / (try Measure.seconds { try run(steps: count) }) }
    }
}
