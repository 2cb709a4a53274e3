import Foundation
import Prediction

/// A macro AUC with the interval benchmark.md gives it: the mean of the per-class bounds.
public struct MacroAUCEstimate: Codable, Equatable, Sendable {
    public var value: Double
    public var ciLow: Double?
    public var ciHigh: Double?

    public init?(_ m: LevelMetrics?) {
        guard let m, let value = m.macroAUC else { return nil }
        self.value = value
        let lows = m.auc.compactMap { $0?.ciLow }, highs = m.auc.compactMap { $0?.ciHigh }
        if !lows.isEmpty && lows.count == highs.count {
            ciLow = lows.reduce(0, +) / Double(lows.count)
            ciHigh = highs.reduce(0, +) / Double(highs.count)
        }
    }
}

/// One row of a comparison table: a pipeline variant (a set of job-key overrides, or another
/// aggregator) judged on the same cohort as the first row, the baseline. Each row carries its own
/// figures and its paired difference against the baseline on the slides both predicted.
public struct AblationRow: Codable, Equatable, Sendable {
    /// The row's predictions: the site-mixed test split and, when there is one, the held-out sites.
    public struct Runs {
        public var name: String
        public var overrides: String
        public var siteMixed: SplitBenchmark
        public var siteHeldOut: SplitBenchmark?
        /// Slide id → mean tile probabilities, per run (`SlideScores.read`).
        public var siteMixedScores: [String: [Double]]
        public var siteHeldOutScores: [String: [Double]]?
        /// The QC figures of the row's store against the truth (nil: no store, or tiled without QC).
        public var tilingQC: TilingQCFigures?

        public init(name: String, overrides: String, siteMixed: SplitBenchmark, siteHeldOut: SplitBenchmark?,
                    siteMixedScores: [String: [Double]], siteHeldOutScores: [String: [Double]]?, tilingQC: TilingQCFigures? = nil) {
            self.name = name
            self.overrides = overrides
            self.siteMixed = siteMixed
            self.siteHeldOut = siteHeldOut
            self.siteMixedScores = siteMixedScores
            self.siteHeldOutScores = siteHeldOutScores
            self.tilingQC = tilingQC
        }
    }

    public var name: String
    /// The job-key overrides on the benchmark's job file, as `KEY=VALUE …`.
    public var overrides: String
    /// Slide macro AUC (mean of tile probabilities) on the site-mixed test split.
    public var slideMacroAuc: MacroAUCEstimate?
    /// Slide macro AUC on the held-out sites' slides.
    public var heldOutMacroAuc: MacroAUCEstimate?
    /// Tile macro AUC against the tiles' true labels (site-mixed split).
    public var tileMacroAuc: MacroAUCEstimate?
    /// Macro AUC of this row minus the baseline's, paired bootstrap over the slides both predicted
    /// (nil for the baseline itself).
    public var versusBaseline: PairedDifference?
    public var heldOutVersusBaseline: PairedDifference?
    /// What the row's tile QC kept of the artefact tiles and lost of the clean tissue, judged by the
    /// truth on every tile past the background rule of every slide tiled (nil without QC).
    public var tilingQC: TilingQCFigures?

    /// The rows of `runs`, the first being the baseline.
    public static func table(_ runs: [Runs], classes: [String], slideLabels: [String: String], bootstrap: Int, seed: UInt64) -> [AblationRow] {
        guard let baseline = runs.first else { return [] }
        return runs.enumerated().map { k, run in
            AblationRow(name: run.name, overrides: run.overrides,
                        slideMacroAuc: MacroAUCEstimate(run.siteMixed.slide.meanProbability),
                        heldOutMacroAuc: MacroAUCEstimate(run.siteHeldOut?.slide.meanProbability),
                        tileMacroAuc: MacroAUCEstimate(run.siteMixed.tileVersusTruth),
                        versusBaseline: k == 0 ? nil : difference(baseline.siteMixedScores, run.siteMixedScores, classes: classes,
                                                                  labels: slideLabels, bootstrap: bootstrap, seed: seed),
                        heldOutVersusBaseline: k == 0 ? nil : baseline.siteHeldOutScores.flatMap { a in
                            run.siteHeldOutScores.flatMap { b in
                                difference(a, b, classes: classes, labels: slideLabels, bootstrap: bootstrap, seed: seed)
                            }
                        },
                        tilingQC: run.tilingQC)
        }
    }

    /// B's macro AUC minus A's over the labelled slides both scored, in slide-id order.
    static func difference(_ a: [String: [Double]], _ b: [String: [Double]], classes: [String], labels: [String: String],
                           bootstrap: Int, seed: UInt64) -> PairedDifference? {
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        let slides = Set(a.keys).intersection(b.keys).filter { labels[$0].flatMap { index[$0] } != nil }.sorted()
        guard !slides.isEmpty else { return nil }
        return ClassificationMetrics.pairedMacroAUCDifference(
            truth: slides.map { index[labels[$0]!]! }, scoresA: slides.flatMap { a[$0]! }, scoresB: slides.flatMap { b[$0]! },
            classes: classes.count, bootstrap: bootstrap, seed: seed, stream: 13)
    }

    /// The best combination: the baseline's overrides with, for each key, the value of the row
    /// that changed it and improved the site-mixed macro AUC most (point estimate > 0); nil when no
    /// row improved. Rows are `KEY=VALUE …` strings (a row may repeat the baseline's); the
    /// baseline is the first.
    public static func bestCombination(_ rows: [AblationRow]) -> String? {
        guard let baseline = rows.first else { return nil }
        var keys = pairs(baseline.overrides).map(\.key)
        var values = Dictionary(pairs(baseline.overrides), uniquingKeysWith: { _, last in last })
        var gain: [String: Double] = [:]
        for row in rows.dropFirst() {
            guard let d = row.versusBaseline?.difference, d > 0 else { continue }
            for (key, value) in pairs(row.overrides) where value != values[key] && d > gain[key, default: 0] {
                if values[key] == nil { keys.append(key) }
                values[key] = value
                gain[key] = d
            }
        }
        guard !gain.isEmpty else { return nil }
        return keys.map { "\($0)=\(values[$0]!)" }.joined(separator: " ")
    }

    /// `KEY=VALUE …` as pairs, in order.
    static func pairs(_ overrides: String) -> [(key: String, value: String)] {
        overrides.split(separator: " ").compactMap { pair in
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            return kv.count == 2 ? (kv[0], kv[1]) : nil
        }
    }
}

/// Each slide's mean tile probabilities from a prediction folder's tiles.csv: the scores the
/// slide-level AUC is computed from, for the paired difference.
public enum SlideScores {
    public static func read(_ predictions: URL, classes: [String]) throws -> [String: [Double]] {
        let tiles = try TileTable(url: predictions.appendingPathComponent("tiles.csv"), classes: classes)
        var sums: [String: [Double]] = [:], counts: [String: Int] = [:]
        for t in tiles.rows {
            var s = sums[t.slideID] ?? [Double](repeating: 0, count: classes.count)
            for c in 0..<classes.count { s[c] += Double(t.probabilities[c]) }
            sums[t.slideID] = s
            counts[t.slideID, default: 0] += 1
        }
        return Dictionary(uniqueKeysWithValues: sums.map { id, s in (id, s.map { $0 / Double(counts[id]!) }) })
    }
}
