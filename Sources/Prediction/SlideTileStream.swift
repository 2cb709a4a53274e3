import Foundation
import SlideTiles
import Tiling

/// Tiles a slide on a background thread while the caller predicts the tiles already cut, so that
/// reading the slide (OpenSlide, the tiler's worker threads) overlaps the network's forward passes.
/// At most `capacity` batches wait between the two; the tiler pauses when they are full. Read
/// until `next()` returns nil, or `cancel()`: a stream left half-read keeps its thread waiting.
final class SlideTileStream: @unchecked Sendable {
    private let condition = NSCondition()
    private var waiting: [[TileOutput]] = []
    private var ended = false
    private var failure: Error?
    private var cancelled = false
    private let capacity: Int
    private let group = DispatchGroup()

    struct Cancelled: Error {}

    /// Starts tiling the open slide by `plan`.
    init(tiler: SlideTiler, source: any SlideSource, plan: TilingPlan, capacity: Int = 2) {
        self.capacity = capacity
        DispatchQueue.global().async(group: group) { [self] in
            do {
                _ = try tiler.run(source: source, plan: plan, sink: { try self.put($0) })
                end(nil)
            } catch {
                end(error)
            }
        }
    }

    /// The next batch of kept tiles, in the tiler's order; nil when the slide is done. Throws the
    /// tiler's error.
    func next() throws -> [TileOutput]? {
        condition.lock()
        defer { condition.unlock() }
        while waiting.isEmpty && !ended { condition.wait() }
        if !waiting.isEmpty {
            condition.broadcast()
            return waiting.removeFirst()
        }
        if let failure { throw failure }
        return nil
    }

    /// Stops the tiler (after its current batch) and waits for its thread to end.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
        group.wait()
    }

    private func put(_ batch: [TileOutput]) throws {
        condition.lock()
        defer { condition.unlock() }
        while waiting.count >= capacity && !cancelled { condition.wait() }
        if cancelled { throw Cancelled() }
        waiting.append(batch)
        condition.broadcast()
    }

    private func end(_ error: Error?) {
        condition.lock()
        ended = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }
}
