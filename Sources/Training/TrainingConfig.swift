import Model
import NeuralNet
import Stain

/// Stain normalisation as asked for on the command line: the method, and whether its reference is
/// the built-in one, fitted on the training split or fitted on a reference slide (the fitted
/// values go into the model).
public struct StainNormalizationOption: Codable, Equatable, Sendable {
    public enum Reference: String, Codable, CaseIterable, Sendable { case builtin, train, slide }
    public var method: StainNormalization.Method
    public var reference: Reference
    /// With `.slide`: the option's value as given (`slide:PATH@X,Y,W,H`), so that a resumed run
    /// must name the same reference.
    public var slide: String?

    public init(method: StainNormalization.Method, reference: Reference, slide: String? = nil) {
        self.method = method
        self.reference = reference
        self.slide = slide
    }
}

/// A reference slide's tiles for the stain fit, encoded as the store's tiles, and what they are
/// (`slide NAME region X,Y,W,H`). Cut by the program (through the tiler's slide readers) for the
/// store's tiling, which the trainer knows once it has opened the store.
public struct StainReferenceTiles {
    public var payloads: [TilePayload]
    public var name: String

    public init(payloads: [TilePayload], name: String) {
        self.payloads = payloads
        self.name = name
    }
}

/// Everything that decides a training run's result (and so goes into its checkpoints): a resumed
/// run must use the same configuration, or it would not be the run it claims to continue.
public struct TrainingConfig: Codable, Equatable, Sendable {
    public var model = "refnet-s"
    public var inputSize = 128
    public var batchNorm = true
    public var dropout: Float = 0
    public var epochs = 10
    /// Images per rank per step; the global batch is ranks × batch.
    public var batch = 32
    /// Learning rate for a global batch of 256; scaled linearly with the actual global batch.
    public var learningRate = 0.1
    public var optimizer = "sgd"
    public var momentum: Float = 0.9
    public var nesterov = true
    public var weightDecay: Float = 5e-4
    public var warmupEpochs = 1.0
    /// "cosine", or "step:E1,E2,…" to divide by 10 at those epochs.
    public var schedule = "cosine"
    public var seed: UInt64 = 1
    public var augmentation = Augmentation()
    /// Ranks the run was started with: a checkpoint resumes bit-identically only with as many.
    public var ranks = 1
    /// Training tiles sampled to compute the input normalisation (and a fitted stain reference).
    public var normalizationSamples = 512
    /// nil: no stain normalisation (and absent from checkpoints written before it existed).
    public var stainNormalization: StainNormalizationOption?

    public init() {}

    public func globalBatch() -> Int { ranks * batch }

    public func scaledLearningRate() -> Double {
        LearningRateSchedule.linearlyScaled(baseRate: learningRate, globalBatch: globalBatch())
    }

    public func schedule(stepsPerEpoch: Int) throws -> LearningRateSchedule {
        let total = max(1, epochs * stepsPerEpoch)
        let warmup = Int((warmupEpochs * Double(stepsPerEpoch)).rounded())
        if schedule == "cosine" {
            return LearningRateSchedule(baseRate: scaledLearningRate(), warmupSteps: warmup, totalSteps: total, decay: .cosine(finalFactor: 0))
        }
        if schedule.hasPrefix("step:") {
            let epochs = schedule.dropFirst(5).split(separator: ",").compactMap { Int($0) }
            return LearningRateSchedule(baseRate: scaledLearningRate(), warmupSteps: warmup, totalSteps: total,
                                        decay: .step(milestones: epochs.map { $0 * stepsPerEpoch }, factor: 0.1))
        }
        throw TrainingError.badOption("--schedule \(schedule): use cosine or step:E1,E2 (epochs at which the rate is divided by 10)")
    }

    public var networkConfiguration: NetworkConfiguration {
        NetworkConfiguration(model: model, classes: 0, inputSize: inputSize, batchNorm: batchNorm, dropout: dropout)
    }
}

public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case badOption(String)
    case badStore(path: String, message: String, hint: String)
    case diverged(step: Int, learningRate: Float, loss: Double)
    /// A reference slide that gives no stain reference (missing, unreadable, a region outside it or
    /// without tissue): a usage error, exit 64, before any training.
    case badStainReference(path: String, message: String, hint: String)

    public var description: String {
        switch self {
        case let .badOption(m): return m
        case let .badStore(path, message, hint): return "\(path): \(message)\nhint: \(hint)"
        case let .badStainReference(path, message, hint): return "--stain-reference: \(path): \(message)\nhint: \(hint)"
        case let .diverged(step, rate, loss):
            return "training diverged: the loss is \(loss) at step \(step) (learning rate \(rate))\nhint: lower --learning-rate (or lengthen --warmup-epochs) and start again, or --resume from an earlier checkpoint"
        }
    }
}
