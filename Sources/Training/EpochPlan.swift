import TesseraCore

/// Which tiles each rank trains on in one epoch.
///
/// A seeded permutation of all N training tiles, cut into global batches of R×B; step k's global
/// batch is split into R slices of B, rank r taking slice r. So the ranks' shards are equal and
/// disjoint, and every rank runs ⌊N/(R·B)⌋ steps — the same number on every rank by construction,
/// so no rank can wait in an allreduce that another rank never reaches. The remainder (fewer than
/// R·B tiles) sits out this epoch and is reshuffled into the next.
///
/// Because a global batch is a contiguous slice of the permutation, R ranks × batch B see exactly
/// the tiles that 1 rank × batch R·B sees. Pure and stateless: any rank can compute any epoch from
/// (seed, epoch), which is also what makes a resumed run identical to an uninterrupted one.
public struct EpochPlan: Sendable, Equatable {
    public let tiles: Int
    public let ranks: Int
    public let batch: Int
    public let epoch: Int
    private let permutation: [Int]

    public init(tiles: Int, ranks: Int, batch: Int, seed: UInt64, epoch: Int, shuffle: Bool = true) {
        precondition(tiles >= 0 && ranks >= 1 && batch >= 1 && epoch >= 0)
        self.tiles = tiles
        self.ranks = ranks
        self.batch = batch
        self.epoch = epoch
        var order = Array(0..<tiles)
        if shuffle {
            var rng = SeededGenerator(seed: seed, stream: 0x45_504F_4348 &+ UInt64(epoch))
            order.shuffle(using: &rng)
        }
        permutation = order
    }

    public var globalBatch: Int { ranks * batch }
    public var stepsPerEpoch: Int { tiles / globalBatch }

    /// Global tile indices of rank `rank`'s batch `step`.
    public func batch(rank: Int, step: Int) -> ArraySlice<Int> {
        precondition(rank >= 0 && rank < ranks && step >= 0 && step < stepsPerEpoch, "rank \(rank) step \(step) outside the plan")
        let start = step * globalBatch + rank * batch
        return permutation[start..<(start + batch)]
    }

    /// Every tile rank `rank` trains on this epoch.
    public func shard(rank: Int) -> [Int] {
        (0..<stepsPerEpoch).flatMap { batch(rank: rank, step: $0) }
    }
}

/// Validation needs no equal step counts (no collective inside the loop), so every tile is used:
/// rank r takes tiles r, r+R, r+2R, … in file order.
public func validationShard(tiles: Int, ranks: Int, rank: Int) -> [Int] {
    Array(stride(from: rank, to: tiles, by: ranks))
}
