import Foundation

/// Decoded source tiles of one direct source, shared by all its readers (threads), so that a source
/// tile is decoded once however many regions and threads need it.
///
/// Two ways a tile leaves: when the reads planned with `expect` have all used it (a tiling run
/// plans every region it will read, so each tile lives from its first to its last planned use: on
/// a row-major grid that is about one row of source tiles across the slide), and, past the byte
/// budget, least recently used first (regions nobody planned: the mask, thumbnails, prediction
/// strips). A tile being decoded is waited for, not decoded twice.
final class DecodedTileCache: @unchecked Sendable {
    struct Key: Hashable, Sendable {
        let level: Int, column: Int, row: Int, scale: Int
    }

    /// One decoded tile: RGB rows `pitch` bytes apart; its pixels are read only while it is held
    /// (between `acquire` and `release`), and written only by the thread that decodes it.
    final class Tile {
        var pixels: [UInt8]
        var width = 0
        var height = 0
        fileprivate var ready = false
        fileprivate var holders = 0
        fileprivate var lastUse = 0
        /// Its planned reads are done: dropped when the last holder lets go.
        fileprivate var finished = false

        init(bytes: Int) {
            // Not zeroed: the decoder (or a glass fill) writes every byte that is read back.
            pixels = [UInt8](unsafeUninitializedCapacity: bytes) { _, n in n = bytes }
        }
    }

    /// What the cache did since the last plan (`expect`), for the log and the benchmark.
    struct Counts: Sendable, Equatable {
        /// Source tiles decoded (each decode of the same tile counts).
        var decoded = 0
        /// Distinct source tiles the planned reads need (the ideal number of decodes).
        var planned = 0
        /// Decoded straight into a region (used once, wholly inside it), not into the cache.
        var decodedInPlace = 0
        /// Times a thread waited for another's decode of the tile it needed.
        var waits = 0
        var peakBytes = 0
    }

    let budget: Int
    private let condition = NSCondition()
    private var tiles: [Key: Tile] = [:]
    private var bytes = 0
    private var clock = 0
    /// Planned reads still to come, per tile.
    private var remaining: [Key: Int] = [:]
    /// Buffers of dropped tiles, reused rather than allocated again.
    private var spare: [Tile] = []
    private var counts = Counts()

    init(budget: Int) { self.budget = budget }

    var statistics: Counts {
        condition.lock()
        defer { condition.unlock() }
        return counts
    }

    /// Adds planned reads (each key once per region that will read it). Tiles cached for earlier,
    /// unplanned reads (mask, thumbnail) are let go first: a new plan starts empty.
    func expect(_ keys: [Key]) {
        condition.lock()
        defer { condition.unlock() }
        for (key, tile) in tiles where tile.ready && tile.holders == 0 && remaining[key] == nil { drop(key, tile) }
        for key in keys { remaining[key, default: 0] += 1 }
        // The counts are of this plan's reads.
        counts = Counts(planned: remaining.count, peakBytes: bytes)
    }

    /// True, with the planned read counted, when `key` is not cached and this is its only planned
    /// read: the caller decodes it straight into its region instead of into the cache.
    func takeSoleUse(_ key: Key) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard tiles[key] == nil, remaining[key] == 1 else { return false }
        remaining[key] = nil
        counts.decoded += 1
        counts.decodedInPlace += 1
        return true
    }

    /// The tile for `key`, held; `decode` true when the caller must decode it into `tile.pixels`
    /// (at least `bytes` long) and then call `decoded` or, on failure, `failed`. Every acquire is
    /// matched by a `release` (after `decoded`) or a `failed`.
    func acquire(_ key: Key, bytes need: Int) -> (tile: Tile, decode: Bool) {
        condition.lock()
        defer { condition.unlock() }
        while true {
            clock += 1
            guard let tile = tiles[key] else { break }
            tile.holders += 1
            tile.lastUse = clock
            if tile.ready { return (tile, false) }
            counts.waits += 1
            while !tile.ready && tiles[key] === tile { condition.wait() }
            if tile.ready { return (tile, false) }
            // Its decoder failed and let it go: decode it here (and fail the same way).
            tile.holders -= 1
        }
        let tile: Tile
        if let i = spare.lastIndex(where: { $0.pixels.count >= need }) {
            tile = spare.remove(at: i)
            (tile.ready, tile.finished) = (false, false)
        } else {
            tile = Tile(bytes: need)
        }
        tile.holders = 1
        tile.lastUse = clock
        tiles[key] = tile
        bytes += tile.pixels.count
        counts.decoded += 1
        counts.peakBytes = max(counts.peakBytes, bytes)
        evictOverBudget()
        return (tile, true)
    }

    /// The decode of `tile` succeeded: it is `width` × `height` pixels.
    func decoded(_ tile: Tile, width: Int, height: Int) {
        condition.lock()
        tile.width = width
        tile.height = height
        tile.ready = true
        condition.broadcast()
        condition.unlock()
    }

    /// The decode of `tile` failed: it is let go (a thread waiting for it decodes it itself).
    func failed(_ key: Key, _ tile: Tile) {
        condition.lock()
        tile.holders -= 1
        if tiles[key] === tile {
            tiles[key] = nil
            bytes -= tile.pixels.count
        }
        condition.broadcast()
        condition.unlock()
    }

    /// Done with `tile` for one region: counts the planned read, and drops the tile when no planned
    /// read is left and nobody holds it.
    func release(_ key: Key, _ tile: Tile) {
        condition.lock()
        defer { condition.unlock() }
        tile.holders -= 1
        if let left = remaining[key] {
            if left <= 1 {
                remaining[key] = nil
                tile.finished = true
            } else {
                remaining[key] = left - 1
            }
        }
        if tile.finished && tile.holders == 0 && tiles[key] === tile { drop(key, tile) }
    }

    private func drop(_ key: Key, _ tile: Tile) {
        tiles[key] = nil
        bytes -= tile.pixels.count
        if spare.count < 32 { spare.append(tile) }
    }

    /// Least recently used first, among tiles nobody holds, until the cache is within its budget.
    private func evictOverBudget() {
        while bytes > budget {
            var victim: (key: Key, tile: Tile)?
            for (key, tile) in tiles where tile.ready && tile.holders == 0 && tile.lastUse < (victim?.tile.lastUse ?? .max) {
                victim = (key, tile)
            }
            guard let victim else { return }
            tiles[victim.key] = nil
            bytes -= victim.tile.pixels.count
        }
    }
}
