import Foundation
import NeuralNet
import TesseraCore
import Tiling

/// A trained model: what the predictor needs to reproduce training's view of a tile.
public struct ModelFile: Sendable {
    /// Which of a run's models a file holds.
    public enum Selection: String, Codable, Sendable {
        /// The network after the last epoch: `RUN/model.tsm`.
        case last
        /// The network after the epoch with the best validation accuracy: `RUN/model-best.tsm`.
        case bestValidation = "best-validation"
    }

    public static let lastFileName = "model.tsm"
    public static let bestFileName = "model-best.tsm"

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
        /// Epochs trained when this network was saved.
        public var epochs: Int
        public var validationAccuracy: Double?
        /// nil in models of earlier versions (they are the last epoch's).
        public var selection: Selection?

        /// The header of `network` as trained: its configuration and the layout of its weights and
        /// state come from the network itself, so they cannot disagree with the blobs written.
        public init(network: Network, classes: [String], normalization: Normalization, tiling: TilingSpec, epochs: Int,
                    validationAccuracy: Double?, selection: Selection = .last, created: Date = Date()) {
            self.created = utcTimestamp(created)
            self.network = network.configuration
            self.classes = classes
            self.normalization = normalization
            self.tiling = tiling
            self.parameterInfo = network.parameterInfo
            self.stateInfo = network.stateInfo
            self.epochs = epochs
            self.validationAccuracy = validationAccuracy
            self.selection = selection
        }

        /// "the last epoch's (epoch 10, validation accuracy 0.870)", for logs and reports.
        public var selectionDescription: String {
            let accuracy = validationAccuracy.map { String(format: ", validation accuracy %.3f", $0) } ?? ""
            switch selection ?? .last {
            case .last: return "the last epoch's (epoch \(epochs)\(accuracy))"
            case .bestValidation: return "the best validation accuracy's (epoch \(epochs)\(accuracy))"
            }
        }
    }

    /// The magic of format-2 model files (Tessera archives), still read.
    public static let magic = "TESSMODL"
    public var header: Header
    public var parameters: [Float]
    public var state: [Float]

    public init(header: Header, parameters: [Float], state: [Float]) {
        self.header = header
        self.parameters = parameters
        self.state = state
    }

    /// Writes `model.tsm`: a safetensors file (`Safetensors`) whose tensors are the network's
    /// parameters and state by name (`conv1.weight`, `bn1.running_mean`…) and whose metadata holds
    /// `format` (`tessera-model`), `format_version`, `header` (this header as JSON: configuration,
    /// classes, normalisation, tiling spec, provenance), copies of `classes` and `tiling` as JSON for
    /// readers in other languages, and the checksum. Written under a temporary name and renamed.
    public func write(to url: URL) throws {
        try AtomicFile.write(try encoded(), to: url)
    }

    public static let formatVersion = "3"

    func encoded() throws -> Data {
        func json(_ value: some Encodable, snakeCase: Bool = false) throws -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            if snakeCase { encoder.keyEncodingStrategy = .convertToSnakeCase }
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        }
        let tensors = header.parameterInfo.map { Safetensors.Tensor(name: $0.name, shape: $0.shape, values: Array(parameters[$0.offset..<($0.offset + $0.count)])) }
            + header.stateInfo.map { Safetensors.Tensor(name: $0.name, shape: $0.shape, values: Array(state[$0.offset..<($0.offset + $0.count)])) }
        let metadata = ["format": header.format, "format_version": Self.formatVersion, "header": try json(header),
                        "classes": try json(header.classes), "tiling": try json(header.tiling, snakeCase: true)]
        return try Safetensors.encode(tensors: tensors, metadata: metadata)
    }

    /// Reads a model file: safetensors (format 3), or the Tessera archive of format 2 that earlier
    /// versions wrote (`TESSMODL…`, checksummed the same way), so that trained models keep working.
    public static func read(_ url: URL) throws -> ModelFile {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TesseraError.io(path: url.path, message: "cannot read the model file (\(error.localizedDescription))", hint: "check the path")
        }
        let notModel = TesseraError.invalidInput(path: url.path, message: "not a Tessera model file", hint: "pass the model.tsm written by tessera-train")
        if data.starts(with: Data(magic.utf8)) {
            let (header, blobs) = try Archive.read(url, magic: magic, header: Header.self)
            guard header.format == "tessera-model", let p = blobs["parameters"], let s = blobs["state"] else { throw notModel }
            return ModelFile(header: header, parameters: p, state: s)
        }
        let (tensors, metadata) = try Safetensors.decode(data, path: url.path, what: "model file")
        guard metadata["format"] == "tessera-model", let headerText = metadata["header"] else { throw notModel }
        guard metadata["format_version"] == formatVersion else {
            throw TesseraError.invalidInput(path: url.path, message: "model format version \(metadata["format_version"] ?? "none"); this Tessera reads version \(formatVersion)",
                                            hint: "use the Tessera version that wrote it")
        }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: Data(headerText.utf8)) } catch {
            throw TesseraError.invalidInput(path: url.path, message: "unreadable model header (\(error))", hint: "train the model again with this Tessera")
        }
        var byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        func flat(_ layout: [(name: String, shape: [Int], offset: Int, count: Int)]) throws -> [Float] {
            var values = [Float](repeating: 0, count: layout.map { $0.offset + $0.count }.max() ?? 0)
            for l in layout {
                guard let t = byName.removeValue(forKey: l.name), t.shape == l.shape, t.values.count == l.count else {
                    throw TesseraError.invalidInput(path: url.path, message: "tensor \(l.name) of shape \(l.shape) is missing or of another shape",
                                                    hint: "the file does not match its header; train the model again")
                }
                values.replaceSubrange(l.offset..<(l.offset + l.count), with: t.values)
            }
            return values
        }
        let parameters = try flat(header.parameterInfo.map { ($0.name, $0.shape, $0.offset, $0.count) })
        let state = try flat(header.stateInfo.map { ($0.name, $0.shape, $0.offset, $0.count) })
        if let extra = byName.keys.sorted().first {
            throw TesseraError.invalidInput(path: url.path, message: "tensor \(extra) is not in the model's header", hint: "train the model again")
        }
        return ModelFile(header: header, parameters: parameters, state: state)
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
