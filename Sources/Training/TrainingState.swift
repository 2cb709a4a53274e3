import Foundation
import Model
import NeuralNet
import TesseraCore
import Tiling

/// Everything a run carries from one step to the next, and so everything a checkpoint holds: the
/// network (weights, BatchNorm statistics, its random streams), the optimiser's moments, where the
/// run is, the current epoch's running sums, the metrics so far and the input normalisation. The
/// data order and augmentation need no state: they are functions of (seed, epoch, step).
public struct TrainingState {
    /// The training sums of the current epoch so far, over all ranks.
    public struct EpochTotals: Equatable, Sendable {
        public var loss = 0.0
        public var correct = 0.0
        public var images = 0.0
        public var seconds = 0.0

        public init() {}

        mutating func add(_ sums: DataParallelStep.Sums, seconds: Double) {
            loss += sums.loss
            correct += sums.correct
            images += sums.images
            self.seconds += seconds
        }

        public var meanLoss: Double { loss / max(images, 1) }
        public var accuracy: Double { correct / max(images, 1) }
        public var imagesPerSecond: Double { images / max(seconds, 1e-9) }
    }

    public let network: Network
    public let optimizer: Optimizer
    public var normalization: Normalization
    /// The next step to run: `step` within `epoch`; `globalStep` steps are done in all.
    public var epoch = 0
    public var step = 0
    public var globalStep = 0
    public var epochTotals = EpochTotals()
    public var history: [EpochMetrics] = []

    public init(network: Network, optimizer: Optimizer, normalization: Normalization) {
        self.network = network
        self.optimizer = optimizer
        self.normalization = normalization
    }

    /// A fresh network and optimiser for `config`.
    public static func fresh(_ config: TrainingConfig, classes: Int, normalization: Normalization) throws -> TrainingState {
        let network = try Network(model: config.model, classes: classes, inputSize: config.inputSize, seed: config.seed,
                                  batchNorm: config.batchNorm, dropout: config.dropout)
        let optimizer: Optimizer = config.optimizer == "adam"
            ? Adam(parameterInfo: network.parameterInfo, weightDecay: config.weightDecay)
            : SGD(parameterInfo: network.parameterInfo, momentum: config.momentum, nesterov: config.nesterov, weightDecay: config.weightDecay)
        return TrainingState(network: network, optimizer: optimizer, normalization: normalization)
    }

    /// Takes over a checkpoint's state (the caller checks first that it belongs to this run).
    public mutating func restore(from checkpoint: Checkpoint) throws {
        let h = checkpoint.header
        try network.loadParameters(checkpoint.parameters, info: h.parameterInfo)
        try network.loadState(checkpoint.state, info: h.stateInfo)
        network.randomState = h.randomState
        try optimizer.loadState(checkpoint.optimizer)
        (epoch, step, globalStep) = (h.epoch, h.step, h.globalStep)
        history = h.metrics
        normalization = h.normalization
        epochTotals.loss = h.epochLossSum
        epochTotals.correct = h.epochCorrect
        epochTotals.images = h.epochImages
        epochTotals.seconds = h.epochSeconds
    }

    /// This state as a checkpoint of the run that `config`, `classes`, `storeTiling` and
    /// `trainingTiles` identify (what `--resume` checks against).
    public func checkpoint(config: TrainingConfig, classes: [String], storeTiling: TilingSpec, trainingTiles: Int) -> Checkpoint {
        let moments = optimizer.exportState()
        let header = Checkpoint.Header(
            created: utcTimestamp(), config: config, classes: classes,
            storeTiling: storeTiling, trainingTiles: trainingTiles, epoch: epoch, step: step, globalStep: globalStep,
            normalization: normalization, optimizerKind: moments.kind, optimizerSteps: moments.stepCount,
            optimizerBuffers: moments.buffers.map(\.name), randomState: network.randomState,
            parameterInfo: network.parameterInfo, stateInfo: network.stateInfo, metrics: history,
            epochLossSum: epochTotals.loss, epochCorrect: epochTotals.correct, epochImages: epochTotals.images,
            epochSeconds: epochTotals.seconds)
        return Checkpoint(header: header, parameters: network.exportParameters(), state: network.exportState(), optimizer: moments)
    }
}
