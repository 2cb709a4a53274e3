import Foundation
import Model
import NeuralNet
import TesseraCore

/// Tiles in, class probabilities out: the model's network behind training's own input pipeline
/// (`InputPipeline`: the same reduced-scale JPEG decode, area resampling and normalisation, with no
/// augmentation), so a tile is seen exactly as it was in training.
///
/// Batches flow through a three-stage pipeline: the caller reads (or cuts) tiles and submits them;
/// a decoding thread turns batch k+1 into network input while a forward thread runs batch k
/// (on OpenBLAS's threads). Two input buffers alternate, so `submit` waits only when both are
/// taken. Use: `submit` batches in order, then `finish` for the probabilities of all of them;
/// after an error, or to start over, `reset`. One scorer per task, driven from one thread.
public final class TileScorer: @unchecked Sendable {
    /// What a tile becomes.
    public enum Output: Sendable {
        /// Class probabilities (classes per tile).
        case probabilities
        /// The classifier's input (`Network.embeddingWidth` per tile), for the feature stores.
        case embeddings
    }

    public let network: Network
    public let output: Output
    /// Values per tile in `finish`'s result.
    public var valuesPerTile: Int { output == .probabilities ? classes : network.embeddingWidth }
    public let classes: Int
    public let batchSize: Int
    private let pipeline: InputPipeline
    // One batch being filled, one running forward.
    private let buffers: BatchBuffers
    private let freeBuffers = DispatchSemaphore(value: 2)
    private var next = 0
    private var batches = 0
    // Guarded by `lock`: written by the background stages.
    private let lock = NSLock()
    private var results: [Int: [Float]] = [:]
    private var failure: Error?
    private let decoding = DispatchQueue(label: "tessera.tile-scorer.decode")
    private let computing = DispatchQueue(label: "tessera.tile-scorer.forward")
    private let group = DispatchGroup()

    public init(network: Network, normalization: Normalization, tileSize: Int, batchSize: Int, output: Output = .probabilities) throws {
        precondition(batchSize >= 1, "batch size must be ≥ 1")
        let s = network.configuration.inputSize
        self.network = network
        self.output = output
        classes = network.classes
        self.batchSize = batchSize
        pipeline = try InputPipeline(tileSize: tileSize, inputSize: s, normalization: normalization, augmentation: .none, seed: 0)
        buffers = BatchBuffers(batch: batchSize, inputSize: s)
    }

    deinit { group.wait() }

    /// Queues up to `batchSize` tiles for decoding and then the network. `source` names the tiles
    /// in error messages (tile k of this batch is tile `firstIndex + k` of `source`). Throws an
    /// earlier batch's decode error.
    public func submit(_ payloads: [TilePayload], source: String, firstIndex: Int) throws {
        precondition(payloads.count <= batchSize, "\(payloads.count) tiles in a batch of \(batchSize)")
        guard !payloads.isEmpty else { return }
        if let error = currentFailure() { reset(); throw error }
        freeBuffers.wait()
        let slot = next, batch = batches
        next = 1 - next
        batches += 1
        decoding.async(group: group) { [self] in
            let out = buffers[slot].baseAddress!
            do {
                guard currentFailure() == nil else { freeBuffers.signal(); return }
                for (k, payload) in payloads.enumerated() {
                    try pipeline.prepare(payload, globalIndex: 0, epoch: 0, augment: false,
                                         source: "\(source) tile \(firstIndex + k)", into: out + k * buffers.plane)
                }
            } catch {
                record(failure: error)
                freeBuffers.signal()
                return
            }
            computing.async(group: group) { [self] in
                let images = UnsafePointer(buffers[slot].baseAddress!)
                let p = switch output {
                case .probabilities:
                    SoftmaxCrossEntropy.probabilities(logits: Array(network.forward(images, batch: payloads.count, training: false)), classes: classes)
                case .embeddings: network.embeddings(images, batch: payloads.count)
                }
                freeBuffers.signal()
                lock.lock()
                results[batch] = p
                lock.unlock()
            }
        }
    }

    /// Waits for every batch submitted since the last `finish` or `reset` and returns their
    /// outputs: tiles × `valuesPerTile`, row-major, in submission order.
    public func finish() throws -> [Float] {
        group.wait()
        defer { reset() }
        if let error = currentFailure() { throw error }
        return (0..<batches).flatMap { results[$0]! }
    }

    /// Tiles stain-normalised since the last call and those left as they were (too little tissue);
    /// then zero. Call between `finish` and the next `submit`.
    public func takeStainCounts() -> (tiles: Int, fallbacks: Int) {
        group.wait()
        return pipeline.takeStainCounts()
    }

    /// Drops whatever was submitted and not finished.
    public func reset() {
        group.wait()
        lock.lock()
        results = [:]
        failure = nil
        lock.unlock()
        batches = 0
    }

    private func currentFailure() -> Error? {
        lock.lock()
        defer { lock.unlock() }
        return failure
    }

    private func record(failure error: Error) {
        lock.lock()
        if failure == nil { failure = error }
        lock.unlock()
    }
}
