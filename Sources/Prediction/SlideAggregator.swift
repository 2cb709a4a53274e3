/// The tiles of one slide (or of all slides of one patient) summed up: how many, their mean
/// probability per class, how many each class won, and how many each class scored above
/// `SlideAggregator.tileThreshold` on (DeepPATH's percentage of tiles above threshold).
public struct SlideAggregate: Equatable, Sendable, Codable {
    /// Tiles aggregated.
    public var tiles: Int
    /// Per class: the mean of the tiles' probabilities (all zero when there are no tiles).
    public var meanProbabilities: [Double]
    /// Per class: the number of tiles whose most probable class it is.
    public var votes: [Int]
    /// Per class: the number of tiles whose probability of it is above the threshold (0 for each
    /// class when not given).
    public var aboveThreshold: [Int]
    /// Per class: the slide probabilities of a gated attention MIL model (`tessera-mil predict`),
    /// when its predictions were attached (`PredictionMerge.Options.milRun`); for a patient the mean
    /// over its slides that have them. nil otherwise.
    public var abmilProbabilities: [Double]?

    public init(tiles: Int, meanProbabilities: [Double], votes: [Int], aboveThreshold: [Int]? = nil) {
        precondition(meanProbabilities.count == votes.count, "one mean probability and one vote count per class")
        precondition(votes.reduce(0, +) == tiles, "\(votes.reduce(0, +)) votes for \(tiles) tiles")
        precondition(aboveThreshold.map { $0.count == votes.count && $0.allSatisfy { (0...tiles).contains($0) } } ?? true,
                     "one count of tiles above the threshold per class, each at most \(tiles)")
        self.tiles = tiles
        self.meanProbabilities = meanProbabilities
        self.votes = votes
        self.aboveThreshold = aboveThreshold ?? [Int](repeating: 0, count: votes.count)
    }

    enum CodingKeys: String, CodingKey { case tiles, meanProbabilities, votes, aboveThreshold, abmilProbabilities }

    /// Work files written before the threshold rule have no `aboveThreshold`: zeros.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(tiles: try c.decode(Int.self, forKey: .tiles), meanProbabilities: try c.decode([Double].self, forKey: .meanProbabilities),
                  votes: try c.decode([Int].self, forKey: .votes), aboveThreshold: try c.decodeIfPresent([Int].self, forKey: .aboveThreshold))
        abmilProbabilities = try c.decodeIfPresent([Double].self, forKey: .abmilProbabilities)
    }

    /// Per class: the fraction of the tiles above the threshold for it.
    public var aboveThresholdShares: [Double] { aboveThreshold.map { tiles > 0 ? Double($0) / Double(tiles) : 0 } }

    /// The class with the largest share of tiles above the threshold; nil without tiles.
    public var predictedByThreshold: Int? { tiles > 0 ? SlideAggregator.argmax(aboveThresholdShares) : nil }

    public var classes: Int { votes.count }

    /// Per class: the fraction of the tiles it won (all zero when there are no tiles).
    public var voteShares: [Double] { votes.map { tiles > 0 ? Double($0) / Double(tiles) : 0 } }

    /// The class with the highest mean probability; nil without tiles.
    public var predictedByMean: Int? { tiles > 0 ? SlideAggregator.argmax(meanProbabilities) : nil }

    /// The class that won the most tiles (majority vote); nil without tiles.
    public var predictedByVote: Int? { tiles > 0 ? SlideAggregator.argmax(votes.map(Double.init)) : nil }

    /// The prediction under an aggregation rule.
    public func predicted(by rule: AggregationRule) -> Int? {
        switch rule {
        case .meanProbability: predictedByMean
        case .majorityVote: predictedByVote
        case .percentAboveThreshold: predictedByThreshold
        case .abmil: abmilProbabilities.map(SlideAggregator.argmax)
        }
    }

    /// The per-class scores under an aggregation rule (for ROC curves): mean probabilities, vote
    /// shares, shares of tiles above the threshold, or ABMIL probabilities (empty when not attached).
    public func scores(by rule: AggregationRule) -> [Double] {
        switch rule {
        case .meanProbability: meanProbabilities
        case .majorityVote: voteShares
        case .percentAboveThreshold: aboveThresholdShares
        case .abmil: abmilProbabilities ?? []
        }
    }
}

/// How tile predictions become one slide (or patient) prediction: DeepPATH reports the first
/// three; the fourth is a learned one, present only when a MIL run's predictions are attached.
public enum AggregationRule: String, CaseIterable, Sendable, Codable {
    /// The class with the highest mean tile probability.
    case meanProbability = "mean_probability"
    /// The class most tiles predict.
    case majorityVote = "majority_vote"
    /// The class with the largest share of tiles whose probability of it is above
    /// `SlideAggregator.tileThreshold` (DeepPATH's "percentage of tiles above threshold").
    case percentAboveThreshold = "percent_above_threshold"
    /// Gated attention MIL on the tiles' embeddings (`tessera-mil`): its most probable class.
    case abmil
}

/// Tile probabilities → slide aggregates; pure.
///
/// Ties are broken by class order: where two classes have the same mean probability, the same
/// number of votes, or (for one tile) the same probability, the one listed first in the model's
/// classes wins. Means are accumulated in Double.
public enum SlideAggregator {
    /// A tile counts for a class in the threshold rule when its probability of it is above this.
    public static let tileThreshold: Float = 0.5

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
        var votes = [Int](repeating: 0, count: classes), above = [Int](repeating: 0, count: classes)
        probabilities.withUnsafeBufferPointer { p in
            for t in 0..<tiles {
                let row = UnsafeBufferPointer(rebasing: p[(t * classes)..<((t + 1) * classes)])
                for c in 0..<classes {
                    sums[c] += Double(row[c])
                    if row[c] > tileThreshold { above[c] += 1 }
                }
                votes[tileClass(row)] += 1
            }
        }
        let means = sums.map { tiles > 0 ? $0 / Double(tiles) : 0 }
        return SlideAggregate(tiles: tiles, meanProbabilities: means, votes: votes, aboveThreshold: above)
    }

    /// Several aggregates as one, as if all their tiles had been aggregated together: means
    /// weighted by tile counts, votes added. For patients (their slides' tiles pooled); ABMIL
    /// probabilities, a slide-level output, are the mean over the parts that have them.
    public static func combine(_ parts: [SlideAggregate], classes: Int) -> SlideAggregate {
        var tiles = 0
        var sums = [Double](repeating: 0, count: classes)
        var votes = [Int](repeating: 0, count: classes), above = [Int](repeating: 0, count: classes)
        for p in parts {
            precondition(p.classes == classes, "aggregate of \(p.classes) classes among \(classes)")
            tiles += p.tiles
            for c in 0..<classes {
                sums[c] += p.meanProbabilities[c] * Double(p.tiles)
                votes[c] += p.votes[c]
                above[c] += p.aboveThreshold[c]
            }
        }
        let means = sums.map { tiles > 0 ? $0 / Double(tiles) : 0 }
        var pooled = SlideAggregate(tiles: tiles, meanProbabilities: means, votes: votes, aboveThreshold: above)
        let abmil = parts.compactMap(\.abmilProbabilities)
        if !abmil.isEmpty { pooled.abmilProbabilities = (0..<classes).map { k in abmil.reduce(0) { $0 + $1[k] } / Double(abmil.count) } }
        return pooled
    }
}
