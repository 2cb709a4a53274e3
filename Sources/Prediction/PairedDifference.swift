import TesseraCore

/// How much a method B changes the macro AUC of a method A on the same items (slides of one split),
/// with a paired bootstrap interval: each resample draws the items once and scores both methods on
/// that draw, so the interval is of the difference itself, narrower than two separate intervals
/// would suggest when the methods err on the same items.
public struct PairedDifference: Equatable, Sendable, Codable {
    /// Macro AUC of B minus macro AUC of A on all items.
    public var difference: Double
    /// 2.5% and 97.5% quantiles of the resampled differences (nil without resamples).
    public var ciLow: Double?
    public var ciHigh: Double?
    /// Resamples in which both macro AUCs were defined.
    public var resamples: Int
    public var count: Int

    enum CodingKeys: String, CodingKey {
        case difference, resamples, count
        case ciLow = "ci_low", ciHigh = "ci_high"
    }
}

extension ClassificationMetrics {
    /// Macro AUC of `scoresB` minus that of `scoresA` for the same `truth`, with a paired bootstrap.
    /// - Parameters:
    ///   - truth: class index per item.
    ///   - scoresA, scoresB: items × classes, row-major, as in `evaluate`.
    ///   - bootstrap: resamples (0: none); each draws `truth.count` items with replacement from
    ///     `SeededGenerator(seed: seed, stream: stream)`, exactly as `evaluate` draws them.
    /// - Returns: nil without items or when neither method has a defined macro AUC (a split of one class).
    ///   The macro AUC is the mean over the classes whose AUC is defined on the (re)sample.
    public static func pairedMacroAUCDifference(truth: [Int], scoresA: [Double], scoresB: [Double], classes: Int,
                                                bootstrap: Int, seed: UInt64, stream: UInt64) -> PairedDifference? {
        let n = truth.count
        precondition(scoresA.count == n * classes && scoresB.count == n * classes, "paired difference: inconsistent lengths")
        guard n > 0 else { return nil }
        let positives = (0..<classes).map { c in truth.map { $0 == c } }
        func rankings(_ scores: [Double]) -> [Ranking] {
            (0..<classes).map { c in Ranking((0..<n).map { scores[$0 * classes + c] }) }
        }
        let a = rankings(scoresA), b = rankings(scoresB)
        func macro(_ r: [Ranking], _ weights: [Int]) -> Double? {
            let defined = (0..<classes).compactMap { r[$0].weightedAUC(positive: positives[$0], weights: weights) }
            return defined.isEmpty ? nil : defined.reduce(0, +) / Double(defined.count)
        }
        let all = [Int](repeating: 1, count: n)
        guard let macroA = macro(a, all), let macroB = macro(b, all) else { return nil }
        var result = PairedDifference(difference: macroB - macroA, ciLow: nil, ciHigh: nil, resamples: 0, count: n)
        guard bootstrap > 0 else { return result }
        var rng = SeededGenerator(seed: seed, stream: stream)
        var weights = [Int](repeating: 0, count: n)
        var samples: [Double] = []
        for _ in 0..<bootstrap {
            for i in 0..<n { weights[i] = 0 }
            for _ in 0..<n { weights[Int(rng.next() % UInt64(n))] += 1 }
            if let ra = macro(a, weights), let rb = macro(b, weights) { samples.append(rb - ra) }
        }
        if !samples.isEmpty {
            samples.sort()
            result.ciLow = quantile(sorted: samples, 0.025)
            result.ciHigh = quantile(sorted: samples, 0.975)
            result.resamples = samples.count
        }
        return result
    }
}
