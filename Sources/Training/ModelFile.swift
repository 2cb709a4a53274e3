import Foundation
import NeuralNet
import TesseraCore
import TileStore

/// The tiling a model was trained on: the predictor refuses a store or slide tiled otherwise.
public struct TilingInfo: Codable, Equatable, Sendable {
    public var tileSize: Int
    public var targetMPP: Double?
    public var targetMagnification: Double?
    public var level: Int?
    public var backgroundThreshold: Double
    public var maxBackground: Double
    /// The store's JPEG quality (nil for raw stores, and in model files written before it was
    /// recorded): prediction from slide files encodes tiles the same way.
    public var jpegQuality: Int?

    public init(_ a: TileStoreAttributes) {
        tileSize = a.tileSize
        targetMPP = a.targetMPP
        targetMagnification = a.targetMagnification
        level = a.level
        backgroundThreshold = a.backgroundThreshold
        maxBackground = a.maxBackground
        jpegQuality = a.encoding == .jpeg ? a.jpegQuality : nil
    }

    /// What differs between the model's tiling and a store's, as "name: model → store" lines.
    public func differences(from a: TileStoreAttributes) -> [String] {
        let other = TilingInfo(a)
        var d: [String] = []
        if tileSize != other.tileSize { d.append("tile size: model \(tileSize), store \(other.tileSize)") }
        if targetMPP != other.targetMPP { d.append("target MPP: model \(targetMPP.map { "\($0)" } ?? "none"), store \(other.targetMPP.map { "\($0)" } ?? "none")") }
        if targetMagnification != other.targetMagnification {
            d.append("magnification: model \(targetMagnification.map { "\($0)×" } ?? "none"), store \(other.targetMagnification.map { "\($0)×" } ?? "none")")
        }
        if level != other.level { d.append("level: model \(level.map(String.init) ?? "none"), store \(other.level.map(String.init) ?? "none")") }
        if backgroundThreshold != other.backgroundThreshold || maxBackground != other.maxBackground {
            d.append("background rule: model \(backgroundThreshold)/\(maxBackground), store \(other.backgroundThreshold)/\(other.maxBackground)")
        }
        return d
    }
}

/// A trained model: what the predictor needs to reproduce training's view of a tile.
public struct ModelFile: Sendable {
    public struct Header: Codable, Equatable, Sendable {
        public var format = "tessera-model"
        public var tesseraVersion = TesseraVersion.current
        public var created: String
        public var network: NetworkConfiguration
        public var classes: [String]
        public var normalization: Normalization
        public var tiling: TilingInfo
        public var parameterInfo: [ParameterInfo]
        public var stateInfo: [StateInfo]
        public var epochs: Int
        public var validationAccuracy: Double?
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
