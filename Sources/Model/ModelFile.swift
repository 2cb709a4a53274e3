import Foundation
import NeuralNet
import TesseraCore
import Tiling

/// A trained model: what the predictor needs to reproduce training's view of a tile.
public struct ModelFile: Sendable {
    public struct Header: Codable, Equatable, Sendable {
        public var format = "tessera-model"
        public var tesseraVersion = TesseraVersion.current
        public var created: String
        public var network: NetworkConfiguration
        public var classes: [String]
        public var normalization: Normalization
        /// The tiling of the training store: the predictor refuses a store tiled otherwise, and
        /// cuts slide files by it.
        public var tiling: TilingSpec
        public var parameterInfo: [ParameterInfo]
        public var stateInfo: [StateInfo]
        public var epochs: Int
        public var validationAccuracy: Double?

        /// The header of `network` as trained: its configuration and the layout of its weights and
        /// state come from the network itself, so they cannot disagree with the blobs written.
        public init(network: Network, classes: [String], normalization: Normalization, tiling: TilingSpec, epochs: Int,
                    validationAccuracy: Double?, created: Date = Date()) {
            self.created = ISO8601DateFormatter().string(from: created)
            self.network = network.configuration
            self.classes = classes
            self.normalization = normalization
            self.tiling = tiling
            self.parameterInfo = network.parameterInfo
            self.stateInfo = network.stateInfo
            self.epochs = epochs
            self.validationAccuracy = validationAccuracy
        }
    }

    public static let magic = "TESSMODL"
    public var header: Header
    public var parameters: [Float]
    public var state: [Float]

    public init(header: Header, parameters: [Float], state: [Float]) {
        self.header = header
        self.parameters = parameters
        self.state = state
    }

    public func write(to url: URL) throws {
        try Archive.write(to: url, magic: Self.magic, header: header, blobs: [("parameters", parameters), ("state", state)])
    }

    public static func read(_ url: URL) throws -> ModelFile {
        let (header, blobs) = try Archive.read(url, magic: magic, header: Header.self)
        guard header.format == "tessera-model", let p = blobs["parameters"], let s = blobs["state"] else {
            throw TesseraError.invalidInput(path: url.path, message: "not a Tessera model file", hint: "pass the model.tsm written by tessera-train")
        }
        return ModelFile(header: header, parameters: p, state: s)
    }

    /// The same weights, state and header, whenever it was created.
    public func sameModel(as other: ModelFile) -> Bool {
        var header = other.header
        header.created = self.header.created
        return header == self.header && parameters == other.parameters && state == other.state
    }

    /// The network with these weights, in evaluation mode use.
    public func makeNetwork() throws -> Network {
        let c = header.network
        let net = try Network(model: c.model, classes: c.classes, inputSize: c.inputSize, seed: 0, batchNorm: c.batchNorm, dropout: c.dropout)
        try net.loadParameters(parameters, info: header.parameterInfo)
        try net.loadState(state, info: header.stateInfo)
        return net
    }
}
