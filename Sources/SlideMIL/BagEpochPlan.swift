import TesseraCore

/// Which bags each rank takes at each step of an epoch: a permutation of the training bags drawn
/// from (seed, epoch), cut into steps of `bagsPerStep` (the last step wraps around to the start, so
/// every step is full and every rank takes the same number of bags), rank r taking slots
/// r·(B/R) ..< (r+1)·(B/R) of each step.
public struct BagEpochPlan: Equatable, Sendable {
    public let order: [Int]
    public let bagsPerStep: Int
    public let ranks: Int

    public init(bags: Int, bagsPerStep: Int, ranks: Int, seed: UInt64, epoch: Int) {
        precondition(bags > 0 && bagsPerStep > 0 && ranks > 0 && bagsPerStep % ranks == 0,
                     "bag plan: \(bags) bags, \(bagsPerStep) a step over \(ranks) ranks")
        var rng = SeededGenerator(seed: mixHash(seed, UInt64(epoch), 0xE90C))
        var order = Array(0..<bags)
        order.shuffle(using: &rng)
        self.order = order
        self.bagsPerStep = bagsPerStep
        self.ranks = ranks
    }

    public var steps: Int { (order.count + bagsPerStep - 1) / bagsPerStep }

    /// The bags rank `rank` takes at step `step` (0-based).
    public func bags(step: Int, rank: Int) -> [Int] {
        let perRank = bagsPerStep / ranks
        return (0..<perRank).map { order[(step * bagsPerStep + rank * perRank + $0) % order.count] }
    }
}
