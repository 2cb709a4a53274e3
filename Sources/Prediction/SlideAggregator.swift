/// The tiles of one slide (or of all slides of one patient) summed up: how many, their mean
/// probability per class, and how many each class won.
public struct SlideAggregate: Equatable, Sendable, Codable {
    /// Tiles aggregated.
    public var tiles: Int
    /// Per class: the mean of the tiles' probabilities (all zero when there are no tiles).
    public var meanProbabilities: [Double]
    /// Per class: the number of tiles whose most probable class it is.
    public var votes: [Int]

    public init(tiles: Int, meanProbabilities: [Double], votes: [Int]) {
        precondition(meanProbabilities.count == votes.count, "one mean probability and one vote count per class")
        precondition(votes.reduce(0, +) == tiles, "\(votes.reduce(0, +)) votes for \(tiles) tiles")
        self.tiles = tiles
        self.meanProbabilities = meanProbabilities
        self.votes = votes
    }

    public var classes: Int { votes.count }

    /// Per class: the fraction of the tiles it won (all zero when there are no tiles).
    public var voteShares: [Double] { votes.map { tiles > 0 ? Double($0) / Double(tiles) : 0 } }

    /// The class with the highest mean probability; nil without tiles.
    public var predictedByMean: Int? { tiles > 0 ? SlideAggregator.argmax(meanProbabilities) : nil }

    /// The class that won the most tiles (majority vote); nil without tiles.
    public var predictedByVote: Int? { tiles > 0 ? SlideAggregator.argmax(votes.map(Double.init)) : nil }

    /// The prediction under an aggregation rule.
    public func predicted(by rule: AggregationRule) -> Int? {
        rule == .meanProbability ? predictedByMean : predictedByVote
    }

    /// The per-class scores under an aggregation rule (for ROC curves): mean probabilities or vote shares.
    public func scores(by rule: AggregationRule) -> [Double] {
        rule == .meanProbability ? meanProbabilities : voteShares
    }
}

/// How tile predictions become one slide (or patient) prediction: DeepPATH reports both.
public enum AggregationRule: String, CaseIterable, Sendable, Codable {
    /// The class with the highest mean tile probability.
    case meanProbability = "mean_probability"
    /// The class most tiles predict.
    case majorityVote = "majority_vote"
}

/// Tile probabilities → slide aggregates; pure.
///
/// Ties are broken by class order: where two classes have the same mean probability, the same
/// number of votes, or (for one tile) the same probability, the one listed first in the model's
/// classes wins. Means are accumulated in Double.
public enum SlideAggregator {
    /// Index of the largest value; the first one on ties. `values` must not be empty.
    public static func argmax(_ values: [Double]) -> Int {
        precondition(!values.isEmpty, "argmax of nothing")
        var best = 0
        for i in 1..<values.count where values[i] > values[best] { best = i }
        return best
    }

    /// The most probable class of one tile; the first one on ties.
    public static func tileClass(_ probabilities: UnsafeBufferPointer<Float>) -> Int {
        precondition(!probabilities.isEmpty, "argmax of nothing")
        var best = 0
        for i in 1..<probabilities.count where probabilities[i] > probabilities[best] { best = i }
        return best
    }

    public static func tileClass(_ probabilities: [Float]) -> Int {
        probabilities.withUnsafeBufferPointer { tileClass($0) }
    }

    /// Aggregates tiles given as one row of `classes` probabilities each (row-major, tiles × classes).
    public static func aggregate(probabilities: [Float], classes: Int) -> SlideAggregate {
        precondition(classes >= 1 && probabilities.count % classes == 0,
                     "\(probabilities.count) probabilities is not a whole number of rows of \(classes)")
        let tiles = probabilities.count / classes
        var sums = [Double](repeating: 0, count: classes)
        var votes = [Int](repeating: 0, count: classes)
        probabilities.withUnsafeBufferPointer { p in
            for t in 0..<tiles {
                let row = UnsafeBufferPointer(rebasing: p[(t * classes)..<((t + 1) * classes)])
                for c in 0..<classes { sums[c] += Double(row[c]) }
                votes[tileClass(row)] += 1
            }
        }
        let means = sums.map { tiles > 0 ? $0 / Double(tiles) : 0 }
        return SlideAggregate(tiles: tiles, meanProbabilities: means, votes: votes)
    }

    /// Several aggregates as one, as if all their tiles had been aggregated together: means
    /// weighted by tile counts, votes added. For patients (their slides' tiles pooled).
    public static func combine(_ parts: [SlideAggregate], classes: Int) -> SlideAggregate {
        var tiles = 0
        var sums = [Double](repeating: 0, count: classes)
        var votes = [Int](repeating: 0, count: classes)
        for p in parts {
            precondition(p.classes == classes, "aggregate of \(p.classes) classes among \(classes)")
            tiles += p.tiles
            for c in 0..<classes {
                sums[c] += p.meanProbabilities[c] * Double(p.tiles)
                votes[c] += p.votes[c]
            }
        }
        let means = sums.map { tiles > 0 ? $0 / Double(tiles) : 0 }
        return SlideAggregate(tiles: tiles, meanProbabilities: means, votes: votes)
    }
}
