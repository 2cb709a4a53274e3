import Dispatch
import MPI
import NeuralNet

/// One step of data-parallel training, as `DataParallelTrainer` takes it and `tessera-bench` times
/// it: forward on this rank's shard of the global batch, softmax cross-entropy, backward, one
/// in-place allreduce of the gradient buffer scaled by 1/ranks, one allreduce of the loss and
/// accuracy sums, the divergence check, the optimiser's update. Every rank calls it the same
/// number of times (two collectives each).
public final class DataParallelStep {
    /// Over all ranks, for one step.
    public struct Sums: Equatable, Sendable {
        /// Σ loss over the images (mean loss × images).
        public var loss: Double
        public var correct: Double
        public var images: Double
    }

    // batch × classes: the loss gradient with respect to the logits.
    private let dLogits: UnsafeMutablePointer<Float>
    public let network: Network
    public let optimizer: Optimizer
    public let collectives: Collectives
    /// Images per rank per step.
    public let batch: Int
    public init(network: Network, optimizer: Optimizer, collectives: Collectives, batch: Int) {
        precondition(batch >= 1, "batch must be ≥ 1")
        self.network = network
        self.optimizer = optimizer
        self.collectives = collectives
        self.batch = batch
        dLogits = .allocate(capacity: batch * network.classes)
    }

    deinit { dLogits.deallocate() }

    /// Seconds spent so far in the allreduces and the gradient scaling (waiting for the slower
    /// rank included): what the benchmark reports as communication.
    public private(set) var communicationSeconds = 0.0

    /// Trains on `images` (batch × 3 × S × S, NCHW) with `labels` at `learningRate`. Returns the
    /// sums over all ranks. A global mean loss that is not finite throws `TrainingError.diverged`
    /// naming `stepNumber` (1-based, over the whole run) and the rate, before anything is updated,
    /// on every rank alike (the loss is the same everywhere after the allreduce).
    public func run(images: UnsafePointer<Float>, labels: [Int32], learningRate: Float, stepNumber: Int) throws -> Sums {
        precondition(labels.count == batch, "\(labels.count) labels for a batch of \(batch)")
        let classes = network.classes
        network.zeroGradients()
        let z = network.forward(images, batch: batch, training: true)
        let loss = labels.withUnsafeBufferPointer {
            SoftmaxCrossEntropy.lossAndGradient(logits: z.baseAddress!, labels: $0, classes: classes, dLogits: dLogits)
        }
        var correct = 0
        for (i, label) in labels.enumerated() where predictedClass(z, row: i, classes: classes) == Int(label) { correct += 1 }
        network.backward(dLogits)

        let start = DispatchTime.now().uptimeNanoseconds
        collectives.allreduceSum(network.gradients)
        // ×1 changes nothing: one rank skips the pass over the gradients.
        if collectives.size > 1 { vScale(network.gradients, 1 / Float(collectives.size)) }
        var sums = [loss * Double(batch), Double(correct), Double(batch)]
        collectives.allreduceSum(&sums)
        communicationSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9

        let globalLoss = sums[0] / sums[2]
        guard globalLoss.isFinite else { throw TrainingError.diverged(step: stepNumber, learningRate: learningRate, loss: globalLoss) }
        optimizer.step(network, learningRate: learningRate)
        return Sums(loss: sums[0], correct: sums[1], images: sums[2])
    }
}

/// The most probable class of row `row` of batch × classes logits (ties: the first class).
func predictedClass(_ logits: UnsafeBufferPointer<Float>, row: Int, classes: Int) -> Int {
    var best = 0
    for c in 1..<classes where logits[row * classes + c] > logits[row * classes + best] { best = c }
    return best
}

/// x ← a·x over a float buffer.
func vScale(_ x: UnsafeMutableBufferPointer<Float>, _ a: Float) {
    for i in 0..<x.count { x[i] *= a }
}
