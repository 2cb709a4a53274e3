import Foundation
import JPEG
import Model
import TesseraCore
import TileStore

/// Prepares the next training batch on a background thread while the current one computes.
///
/// Reading stays on the calling (main) thread: with the MPI-IO driver an HDF5 read is an MPI call,
/// and MPI is initialised for one calling thread. The background thread only decodes, resamples,
/// augments and normalises, which is where the time goes. Two buffers alternate: one being filled,
/// one being trained on.
final class BatchLoader: @unchecked Sendable {
    private let index: TileIndex
    private let pipeline: InputPipeline
    private let batch: Int
    private let buffers: BatchBuffers
    private var labels: [[Int32]] = [[], []]
    private var errors: [Error?] = [nil, nil]
    private var next = 0
    private var pending: Int?
    private let queue = DispatchQueue(label: "tessera.batch-loader")
    private let group = DispatchGroup()

    init(index: TileIndex, pipeline: InputPipeline, batch: Int, inputSize: Int) {
        self.index = index
        self.pipeline = pipeline
        self.batch = batch
        buffers = BatchBuffers(batch: batch, inputSize: inputSize)
    }

    deinit { group.wait() }

    /// The stored bytes (or raw pixels) of the given global tiles.
    static func payloads(_ index: TileIndex, _ indices: [Int]) throws -> [TilePayload] {
        if index.attributes.encoding == .jpeg {
            return try index.encodedTiles(indices).map { .jpeg($0) }
        }
        let decoder = try JPEGDecoder()
        return try indices.map { g in .raw(try index.readers[Int(index.file[g])].image(Int(index.local[g]), decoder: decoder)) }
    }

    /// Reads the tiles now and starts preparing them in the background.
    func prefetch(_ indices: ArraySlice<Int>, epoch: Int) throws {
        precondition(pending == nil, "prefetch twice without take")
        precondition(indices.count == batch)
        let ids = Array(indices)
        let payloads = try BatchLoader.payloads(index, ids)
        let slot = next
        next = 1 - next
        pending = slot
        labels[slot] = ids.map { index.labels[$0] }
        errors[slot] = nil
        queue.async(group: group) { [self] in
            let out = buffers[slot].baseAddress!
            do {
                for (k, payload) in payloads.enumerated() {
                    try pipeline.prepare(payload, globalIndex: ids[k], epoch: epoch, augment: true,
                                         source: "\(index.readers[Int(index.file[ids[k]])].path) tile \(index.local[ids[k]])",
                                         into: out + k * buffers.plane)
                }
            } catch {
                errors[slot] = error
            }
        }
    }

    /// Waits for the prefetched batch: images (NCHW floats) and labels.
    func take() throws -> (UnsafeMutableBufferPointer<Float>, [Int32]) {
        guard let slot = pending else { preconditionFailure("take without prefetch") }
        group.wait()
        pending = nil
        if let error = errors[slot] { throw error }
        return (buffers[slot], labels[slot])
    }
}
