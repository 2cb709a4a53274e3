import Foundation
import Prediction
import TesseraCore

/// Slide aggregators side by side on the same slides of one split: mean probability, majority
/// vote, percentage of tiles above threshold (all from tiles.csv) and, when a MIL run's
/// `mil-slides.csv` is given, gated attention MIL — each with its slide macro AUC and the paired
/// bootstrap difference of its macro AUC from the mean's (`pairedMacroAUCDifference`).
public struct AggregatorRow: Codable, Equatable, Sendable {
    /// `mean`, `vote`, `above_threshold`, `abmil`.
    public var aggregator: String
    public var metrics: LevelMetrics?
    /// Macro AUC of this aggregator minus the mean's, paired over the same resampled slides.
    public var differenceFromMean: PairedDifference?
}

enum AggregatorComparison {
    /// - Parameters:
    ///   - perSlide: each slide's tile probabilities (tiles × classes).
    ///   - mil: slide id → ABMIL probabilities (classes), or nil without a MIL run. With it, every
    ///     row is on the slides both have.
    static func rows(perSlide: [String: [Float]], slideLabels: [String: String], classes: [String], mil: [String: [Double]]?,
                     bootstrap: Int, seed: UInt64) -> [AggregatorRow] {
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        let ids = perSlide.keys.sorted().filter { id in slideLabels[id].flatMap { index[$0] } != nil && (mil == nil || mil![id] != nil) }
        let truth = ids.map { index[slideLabels[$0]!]! }
        let aggregates = ids.map { SlideAggregator.aggregate(probabilities: perSlide[$0]!, classes: classes.count) }
        var scores: [(String, [Double])] = [
            ("mean", aggregates.flatMap { $0.scores(by: .meanProbability) }),
            ("vote", aggregates.flatMap { $0.scores(by: .majorityVote) }),
            ("above_threshold", aggregates.flatMap { $0.scores(by: .percentAboveThreshold) }),
        ]
        if let mil { scores.append(("abmil", ids.flatMap { mil[$0]! })) }
        let mean = scores[0].1
        return scores.enumerated().map { k, named in
            let (name, s) = named
            let predicted = truth.indices.map { SlideAggregator.argmax(Array(s[($0 * classes.count)..<(($0 + 1) * classes.count)])) }
            let metrics = ClassificationMetrics.evaluate(truth: truth, predicted: predicted, scores: s, classes: classes.count,
                                                         bootstrap: bootstrap, seed: seed, stream: 20 + UInt64(k))
            let difference = k == 0 ? nil : ClassificationMetrics.pairedMacroAUCDifference(
                truth: truth, scoresA: mean, scoresB: s, classes: classes.count, bootstrap: bootstrap, seed: seed, stream: 30)
            return AggregatorRow(aggregator: name, metrics: metrics, differenceFromMean: difference)
        }
    }

    /// `mil-slides.csv` of `tessera-mil predict`: slide id → `abmil_p_<class>` in `classes` order.
    static func readMILSlides(_ url: URL, classes: [String]) throws -> [String: [Double]] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw BenchmarkError("\(url.path): cannot read it (\(error.localizedDescription)); run tessera-mil predict first")
        }
        let records = try CSV.parse(text)
        guard let header = records.first?.fields, let id = header.firstIndex(of: "slide_id") else {
            throw BenchmarkError("\(url.path): no slide_id column")
        }
        let columns = try classes.map { c in
            guard let i = header.firstIndex(of: "abmil_p_\(c)") else { throw BenchmarkError("\(url.path): no abmil_p_\(c) column") }
            return i
        }
        var out: [String: [Double]] = [:]
        for r in records.dropFirst() {
            let p = columns.compactMap { Double(r.fields[$0]) }
            guard p.count == classes.count else { throw BenchmarkError("\(url.path): slide \(r.fields[id]) has a probability that is not a number") }
            out[r.fields[id]] = p
        }
        return out
    }
}

/// Does attention land on tumour? Over the tumour slides of a split that have a MIL attention
/// file: the share of the top 10 % attention tiles (at least one) that are truly tumour, against
/// the share of tumour tiles among all the slide's tiles (what attention at random would give);
/// each the mean over slides.
public struct AttentionOnTumour: Codable, Equatable, Sendable {
    public var slides: Int
    public var topDecileTumourShare: Double
    public var tumourShare: Double

    /// - Parameters:
    ///   - folder: `attention/` of `tessera-mil predict` (`<slide>.csv`: x, y, attention).
    ///   - truth: `slide,x,y` → true label of the tile.
    static func measure(folder: URL, truth: [String: String], slideLabels: [String: String], tumourClasses: Set<String>) throws -> AttentionOnTumour? {
        var top: [Double] = [], base: [Double] = []
        for (slide, label) in slideLabels.sorted(by: { $0.key < $1.key }) where tumourClasses.contains(label) {
            let url = folder.appendingPathComponent("\(slide).csv")
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            let tiles = try CSV.parse(text).dropFirst().map { r -> (weight: Double, tumour: Bool) in
                guard r.fields.count == 3, let w = Double(r.fields[2]) else { throw BenchmarkError("\(url.path): line \(r.line) is not x,y,attention") }
                return (w, tumourClasses.contains(truth["\(slide),\(r.fields[0]),\(r.fields[1])"] ?? ""))
            }
            guard !tiles.isEmpty else { continue }
            let k = max(1, Int((Double(tiles.count) * 0.1).rounded(.up)))
            let ranked = tiles.sorted { $0.weight > $1.weight }
            top.append(Double(ranked.prefix(k).filter(\.tumour).count) / Double(k))
            base.append(Double(tiles.filter(\.tumour).count) / Double(tiles.count))
        }
        guard !top.isEmpty else { return nil }
        return AttentionOnTumour(slides: top.count, topDecileTumourShare: top.reduce(0, +) / Double(top.count),
                                 tumourShare: base.reduce(0, +) / Double(base.count))
    }
}
