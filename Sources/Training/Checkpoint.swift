import Foundation
import Model
import NeuralNet
import TesseraCore
import Tiling

/// One row of `metrics.csv`.
public struct EpochMetrics: Codable, Equatable, Sendable {
    public var epoch: Int
    public var step: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    /// Per class; nil for a class with no validation tiles (JSON has no NaN).
    public var validationClassAccuracy: [Double?]?
    public var learningRate: Double
    public var imagesPerSecond: Double
    public var seconds: Double
}

/// A `TrainingState` on disk (`RUN/checkpoint.tsc`), with what identifies its run (configuration,
/// classes, store tiling, training tiles), so that `--resume` continues the run exactly.
public struct Checkpoint: Sendable {
    public struct Header: Codable, Equatable, Sendable {
        public var format = "tessera-checkpoint"
        public var tesseraVersion = TesseraVersion.current
        public var created: String
        public var config: TrainingConfig
        public var classes: [String]
        public var storeTiling: TilingSpec
        public var trainingTiles: Int
        /// The next step to run: `epoch` and `step` within it.
        public var epoch: Int
        public var step: Int
        public var globalStep: Int
        public var normalization: Normalization
        public var optimizerKind: String
        public var optimizerSteps: Int
        public var optimizerBuffers: [String]
        public var randomState: [UInt64]
        public var parameterInfo: [ParameterInfo]
        public var stateInfo: [StateInfo]
        public var metrics: [EpochMetrics]
        /// Training loss and correct counts accumulated so far in the current epoch.
        public var epochLossSum: Double
        public var epochCorrect: Double
        public var epochImages: Double
        public var epochSeconds: Double
    }

    public static let magic = "TESSCKPT"
    public var header: Header
    public var parameters: [Float]
    public var state: [Float]
    public var optimizer: OptimizerState

    public func write(to url: URL) throws {
        var blobs: [(String, [Float])] = [("parameters", parameters), ("state", state)]
        for b in optimizer.buffers { blobs.append(("optimizer." + b.name, b.values)) }
        try Archive.write(to: url, magic: Self.magic, header: header, blobs: blobs)
    }

    public static func read(_ url: URL) throws -> Checkpoint {
        let (header, blobs) = try Archive.read(url, magic: magic, header: Header.self)
        guard header.format == "tessera-checkpoint", let p = blobs["parameters"], let s = blobs["state"] else {
            throw TesseraError.invalidInput(path: url.path, message: "not a Tessera checkpoint", hint: "pass RUN/checkpoint.tsc")
        }
        let buffers = try header.optimizerBuffers.map { name -> OptimizerState.Buffer in
            guard let v = blobs["optimizer." + name] else {
                throw TesseraError.invalidInput(path: url.path, message: "optimizer buffer \(name) is missing", hint: "the checkpoint is damaged")
            }
            return OptimizerState.Buffer(name: name, values: v)
        }
        return Checkpoint(header: header, parameters: p, state: s,
                          optimizer: OptimizerState(kind: header.optimizerKind, stepCount: header.optimizerSteps, buffers: buffers))
    }
}
