import TesseraCore

/// One class's one-vs-rest ROC AUC, with its bootstrap confidence interval.
public struct AUCEstimate: Equatable, Sendable, Codable {
    public var auc: Double
    /// 2.5th and 97.5th percentiles of the bootstrap AUCs (nil without resamples).
    public var ciLow: Double?
    public var ciHigh: Double?
    /// Items of the class and of the other classes.
    public var positives: Int
    public var negatives: Int
    /// Bootstrap resamples in which both positives and negatives were drawn (the CI is over these).
    public var resamples: Int
}

/// Accuracy, balanced accuracy, confusion matrix and per-class AUC of one level (tiles, slides or
/// patients) under one aggregation rule.
public struct LevelMetrics: Equatable, Sendable, Codable {
    /// Labelled items with a prediction.
    public var count: Int
    public var accuracy: Double
    /// Mean recall over the classes that occur among the true labels.
    public var balancedAccuracy: Double
    /// confusion[truth][predicted], in class order.
    public var confusion: [[Int]]
    /// Per class, in class order; nil where the class is absent, or is every item.
    @ByClassName public var auc: [AUCEstimate?]
    /// Mean of the defined per-class AUCs; nil when none is.
    public var macroAUC: Double?

    // `macroAuc` so that JSON's snake_case conversion reads back what it wrote (`macro_auc`).
    enum CodingKeys: String, CodingKey {
        case count, accuracy, balancedAccuracy, confusion, auc
        case macroAUC = "macroAuc"
    }

    /// The class names, in class order, given to the encoder or decoder as `userInfo[classNamesKey]`:
    /// then `auc` is an object keyed by class name (`{"LUAD": {...}, "normal": null}`), else a list
    /// in class order (as reports of earlier versions have it; both are read). See `ByClassName`.
    public static let classNamesKey = CodingUserInfoKey(rawValue: "tessera.classNames")!
}

/// Classification metrics; pure, checked in tests against hand-worked cases.
public enum ClassificationMetrics {
    /// counts[truth][predicted].
    public static func confusion(truth: [Int], predicted: [Int], classes: Int) -> [[Int]] {
        precondition(truth.count == predicted.count, "\(truth.count) labels, \(predicted.count) predictions")
        var m = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (t, p) in zip(truth, predicted) { m[t][p] += 1 }
        return m
    }

    /// Correct / all; nil for an empty matrix.
    public static func accuracy(_ confusion: [[Int]]) -> Double? {
        let total = confusion.joined().reduce(0, +)
        guard total > 0 else { return nil }
        return Double(confusion.indices.reduce(0) { $0 + confusion[$1][$1] }) / Double(total)
    }

    /// Mean per-class recall over the classes with at least one true item (as scikit-learn's
    /// `balanced_accuracy_score`); nil for an empty matrix.
    public static func balancedAccuracy(_ confusion: [[Int]]) -> Double? {
        let recalls = confusion.indices.compactMap { c -> Double? in
            let n = confusion[c].reduce(0, +)
            return n > 0 ? Double(confusion[c][c]) / Double(n) : nil
        }
        return recalls.isEmpty ? nil : recalls.reduce(0, +) / Double(recalls.count)
    }

    /// ROC AUC of `scores` for telling positives from negatives: the Mann–Whitney U statistic over
    /// n₊·n₋, i.e. the probability that a random positive scores above a random negative, with
    /// ties counted ½. nil without positives or without negatives.
    public static func auc(scores: [Double], positive: [Bool]) -> Double? {
        let ranking = Ranking(scores)
        return ranking.weightedAUC(positive: positive, weights: [Int](repeating: 1, count: scores.count))
    }

    /// Items sorted by score once, grouped into runs of equal scores, so that the AUC of any
    /// weighting of them (a bootstrap resample) takes one pass.
    struct Ranking {
        let order: [Int]
        /// Start of each run of equal scores in `order`, plus `order.count`.
        let runs: [Int]

        init(_ scores: [Double]) {
            order = scores.indices.sorted { scores[$0] < scores[$1] }
            var runs: [Int] = []
            for k in order.indices where k == 0 || scores[order[k]] != scores[order[k - 1]] { runs.append(k) }
            runs.append(order.count)
            self.runs = runs
        }

        func weightedAUC(positive: [Bool], weights: [Int]) -> Double? {
            var negativesBelow = 0.0, u = 0.0, positives = 0.0, negatives = 0.0
            for r in 0..<(runs.count - 1) {
                var p = 0.0, n = 0.0
                for k in runs[r]..<runs[r + 1] {
                    let i = order[k]
                    if positive[i] { p += Double(weights[i]) } else { n += Double(weights[i]) }
                }
                u += p * negativesBelow + 0.5 * p * n
                negativesBelow += n
                positives += p
                negatives += n
            }
            return positives > 0 && negatives > 0 ? u / (positives * negatives) : nil
        }
    }

    /// The p-quantile of sorted values, interpolated linearly between order statistics
    /// (NumPy's default, R's type 7).
    public static func quantile(sorted v: [Double], _ p: Double) -> Double {
        precondition(!v.isEmpty && (0...1).contains(p))
        let h = Double(v.count - 1) * p
        let lo = Int(h.rounded(.down))
        let hi = min(lo + 1, v.count - 1)
        return v[lo] + (h - Double(lo)) * (v[hi] - v[lo])
    }

    /// Every metric of one level.
    /// - Parameters:
    ///   - truth, predicted: class indices, one per labelled item.
    ///   - scores: items × classes, row-major: each item's score for each class (mean probability,
    ///     vote share, or a tile's probability).
    ///   - bootstrap: resamples for the 95% AUC intervals (0: none). Each resample draws as many
    ///     items as there are, with replacement, uniformly (tiles, slides or patients: whatever the
    ///     items are), from `SeededGenerator(seed: seed, stream: stream)` — the same seed gives the
    ///     same intervals.
    /// - Returns: nil without items.
    public static func evaluate(truth: [Int], predicted: [Int], scores: [Double], classes: Int, bootstrap: Int,
                                seed: UInt64, stream: UInt64) -> LevelMetrics? {
        let n = truth.count
        precondition(predicted.count == n && scores.count == n * classes, "metrics: inconsistent lengths")
        guard n > 0 else { return nil }
        let confusion = confusion(truth: truth, predicted: predicted, classes: classes)
        var aucs: [AUCEstimate?] = []
        var rankings: [Ranking] = []
        var positives: [[Bool]] = []
        for c in 0..<classes {
            let s = (0..<n).map { scores[$0 * classes + c] }
            let positive = truth.map { $0 == c }
            let ranking = Ranking(s)
            rankings.append(ranking)
            positives.append(positive)
            let pos = positive.filter { $0 }.count
            aucs.append(ranking.weightedAUC(positive: positive, weights: [Int](repeating: 1, count: n)).map {
                AUCEstimate(auc: $0, ciLow: nil, ciHigh: nil, positives: pos, negatives: n - pos, resamples: 0)
            })
        }
        if bootstrap > 0 && aucs.contains(where: { $0 != nil }) {
            var rng = SeededGenerator(seed: seed, stream: stream)
            var samples = [[Double]](repeating: [], count: classes)
            var weights = [Int](repeating: 0, count: n)
            for _ in 0..<bootstrap {
                for i in 0..<n { weights[i] = 0 }
                for _ in 0..<n { weights[Int(rng.next() % UInt64(n))] += 1 }
                for c in 0..<classes where aucs[c] != nil {
                    if let a = rankings[c].weightedAUC(positive: positives[c], weights: weights) { samples[c].append(a) }
                }
            }
            for c in 0..<classes where aucs[c] != nil && !samples[c].isEmpty {
                let sorted = samples[c].sorted()
                aucs[c]!.ciLow = quantile(sorted: sorted, 0.025)
                aucs[c]!.ciHigh = quantile(sorted: sorted, 0.975)
                aucs[c]!.resamples = sorted.count
            }
        }
        let defined = aucs.compactMap { $0?.auc }
        return LevelMetrics(count: n, accuracy: accuracy(confusion)!, balancedAccuracy: balancedAccuracy(confusion)!,
                            confusion: confusion, auc: aucs, macroAUC: defined.isEmpty ? nil : defined.reduce(0, +) / Double(defined.count))
    }
}
