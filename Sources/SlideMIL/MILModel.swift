import Foundation
import NeuralNet
import TesseraCore

/// The trained attention-MIL model (`RUN/mil-model.json`) and, with the optimiser's state, the
/// checkpoint of an unfinished run (`RUN/mil-checkpoint.json`). Float buffers are stored as
/// base64 little-endian bytes, so a resumed run continues from exactly the same values.
public struct MILModel: Codable, Equatable, Sendable {
    public static let formatName = "tessera-mil"
    public static let formatVersion = 1

    public var format = formatName
    public var version = formatVersion
    public var configuration: MILConfiguration
    public var parameters: FloatData
    /// 1-based epoch the parameters are from (the best on the validation slides).
    public var epoch: Int
    public var validationLoss: Double?
    /// The feature store's embedding model digest, so a model is not applied to other embeddings.
    public var embeddingModelDigest: String

    public func makeNetwork() throws -> Network {
        let net = MILModel.network(configuration)
        try net.loadParameters(parameters.values)
        return net
    }

    static func network(_ c: MILConfiguration) -> Network {
        Network(layers: Models.gatedAttentionMIL(features: c.features, hidden: c.hidden, attentionWidth: c.attentionWidth,
                                                 classes: c.classes.count, dropout: c.dropout, dropoutSeed: c.seed),
                inputShape: ImageShape(channels: c.features, height: 1, width: 1), seed: c.seed)
    }

    public static func read(_ url: URL) throws -> MILModel {
        let model = try JSONFile.read(MILModel.self, from: url, hint: "pass the mil-model.json tessera-mil train wrote")
        guard model.format == formatName, model.version == formatVersion else {
            throw TesseraError.invalidInput(path: url.path, message: "is \(model.format) version \(model.version), expected \(formatName) \(formatVersion)",
                                            hint: "train it again with this tessera-mil")
        }
        return model
    }
}

/// A run's resume state after a whole epoch.
public struct MILCheckpoint: Codable, Equatable, Sendable {
    public var configuration: MILConfiguration
    public var epochsDone: Int
    public var parameters: FloatData
    public var adamStep: Int
    public var firstMoment: FloatData
    public var secondMoment: FloatData
    public var best: MILModel?
    public var history: [MILEpochRecord]
}

/// One epoch's figures (`RUN/mil-metrics.csv`).
public struct MILEpochRecord: Codable, Equatable, Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    public var seconds: Double
}

/// Floats as base64 of their little-endian bytes in JSON (exact, and ~4× smaller than decimals).
public struct FloatData: Codable, Equatable, Sendable {
    public var values: [Float]

    public init(_ values: [Float]) { self.values = values }

    public init(from decoder: Decoder) throws {
        let data = try decoder.singleValueContainer().decode(Data.self)
        guard data.count % 4 == 0 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(data.count) bytes is not whole floats"))
        }
        let bytes = [UInt8](data)
        values = stride(from: 0, to: bytes.count, by: 4).map { i -> Float in
            var bits = UInt32(bytes[i + 3])
            for k in (0..<3).reversed() { bits = bits << 8 | UInt32(bytes[i + k]) }
            return Float(bitPattern: bits)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var data = Data(capacity: values.count * 4)
        for v in values {
            let b = v.bitPattern
            data.append(contentsOf: [UInt8(b & 0xFF), UInt8(b >> 8 & 0xFF), UInt8(b >> 16 & 0xFF), UInt8(b >> 24)])
        }
        var c = encoder.singleValueContainer()
        try c.encode(data)
    }
}
