import Foundation
import TesseraCore

/// Flat copies of the network's buffers for checkpoints. The trainer's file format stores
/// `configuration`, `parameterInfo`/`stateInfo` (names, shapes, offsets) and these arrays; loading
/// checks the layout so a checkpoint of another model fails with a message instead of garbage.
extension Network {
    public func exportParameters() -> [Float] { Array(parameters) }

    public func exportState() -> [Float] { Array(state) }

    /// Replaces every parameter. With `info`, also checks that the names and shapes match this
    /// network's layout.
    public func loadParameters(_ values: [Float], info: [ParameterInfo]? = nil) throws {
        if let info {
            try Self.checkLayout(info.map { ($0.name, $0.shape, $0.offset) }, parameterInfo.map { ($0.name, $0.shape, $0.offset) }, what: "parameters")
        }
        guard values.count == parameterCount else {
            throw NeuralNetError.sizeMismatch(what: "parameters", expected: parameterCount, got: values.count,
                                              hint: "the checkpoint was written for a different model, input size or class count")
        }
        _ = parameters.update(fromContentsOf: values)
    }

    /// Replaces the BatchNorm running statistics. With `info`, also checks names and shapes.
    public func loadState(_ values: [Float], info: [StateInfo]? = nil) throws {
        if let info {
            try Self.checkLayout(info.map { ($0.name, $0.shape, $0.offset) }, stateInfo.map { ($0.name, $0.shape, $0.offset) }, what: "state")
        }
        guard values.count == state.count else {
            throw NeuralNetError.sizeMismatch(what: "BatchNorm state", expected: state.count, got: values.count,
                                              hint: "the checkpoint was written for a model with different BatchNorm layers")
        }
        _ = state.update(fromContentsOf: values)
    }

    /// The random streams inside the network: (seed, calls so far) of each Dropout layer, flattened.
    /// Save it with a checkpoint for a bit-identical resume.
    public var randomState: [UInt64] {
        get { layers.compactMap { $0 as? Dropout }.flatMap { [$0.seed, $0.calls] } }
        set {
            let dropouts = layers.compactMap { $0 as? Dropout }
            precondition(newValue.count == 2 * dropouts.count, "random state has \(newValue.count) values for \(dropouts.count) dropout layers (2 each)")
            for (i, layer) in dropouts.enumerated() {
                layer.seed = newValue[2 * i]
                layer.calls = newValue[2 * i + 1]
            }
        }
    }

    /// Starts each Dropout layer on a new stream derived from `seed`, at call 0 (use a different seed
    /// per MPI rank: ranks share the network seed, so that their initial weights agree). To resume a
    /// run, restore `randomState` instead.
    public func setDropoutSeed(_ seed: UInt64) {
        for (i, layer) in layers.compactMap({ $0 as? Dropout }).enumerated() {
            layer.seed = mixHash(seed, UInt64(i), 0xD0_0D)
            layer.calls = 0
        }
    }

    private static func checkLayout(_ saved: [(String, [Int], Int)], _ mine: [(String, [Int], Int)], what: String) throws {
        guard saved.count == mine.count else {
            throw NeuralNetError.layoutMismatch(what: what, message: "\(saved.count) tensors saved, the network has \(mine.count)",
                                                hint: "the checkpoint was written for a different model")
        }
        for (s, m) in zip(saved, mine) where s.0 != m.0 || s.1 != m.1 || s.2 != m.2 {
            throw NeuralNetError.layoutMismatch(what: what, message: "saved \(s.0) \(s.1) at \(s.2), the network has \(m.0) \(m.1) at \(m.2)",
                                                hint: "the checkpoint was written for a different model, width or class count")
        }
    }
}

/// Little-endian float32 bytes, the on-disk form of the flat buffers.
public enum FloatCoding {
    public static func data(_ values: [Float]) -> Data {
        var out = Data(capacity: values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }

    public static func floats(_ data: Data) throws -> [Float] {
        guard data.count % 4 == 0 else {
            throw NeuralNetError.layoutMismatch(what: "float32 data", message: "\(data.count) bytes is not a multiple of 4",
                                                hint: "the file is truncated or not float32")
        }
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }
}
