import Foundation
import Prediction
import SyntheticSlides
import TesseraCore

/// benchmark.json and benchmark.md: the accuracy of a pipeline run on a realistic cohort, per test
/// split, against labels and against the ground truth. benchmark.json holds no wall times, so the
/// same cohort, seeds and ranks give the same file; the times go to benchmark.md only.
public struct BenchmarkReport: Codable, Equatable, Sendable {
    public struct Cohort: Codable, Equatable, Sendable {
        public var patients: Int
        public var slides: Int
        public var seed: UInt64
        public var width: Int
        public var height: Int
        public var realism: RealismOptions?
        public var sites: [String]
        public var heldOutSites: [String]
        public var medianPurity: Double
    }

    /// One stage's wall time and CPU time (user + system, when known), seconds.
    public struct Timing: Codable, Equatable, Sendable {
        public var stage: String
        public var wall: Double
        public var cpu: Double?
    }

    public var format = "tessera-accuracy-benchmark"
    public var tesseraVersion = TesseraVersion.current
    public var commit: String
    public var cohort: Cohort
    public var splits: [SplitBenchmark]
    /// The ablation's rows (`Jobs/benchmark --ablation`), the baseline first; nil for a single run.
    public var ablation: [AblationRow]?
    /// The tiler's QC judged by the truth, when the report was given a store tiled with QC.
    public var tilingQC: TilingQCFigures?

    public init(commit: String, cohort: Cohort, splits: [SplitBenchmark], ablation: [AblationRow]? = nil,
                tilingQC: TilingQCFigures? = nil) {
        self.commit = commit
        self.cohort = cohort
        self.splits = splits
        self.ablation = ablation
        self.tilingQC = tilingQC
    }

    /// The cohort's description from its folder (cohort.json and truth.csv).
    public static func cohort(at url: URL) throws -> (Cohort, [TruthTable.Row]) {
        let recordURL = url.appendingPathComponent(CohortDirectory.recordName)
        guard let data = try? Data(contentsOf: recordURL), let record = try? CohortRecord.decode(data) else {
            throw BenchmarkError("\(recordURL.path): not a tessera-synth cohort record")
        }
        let rows = try TruthTable.read(url.appendingPathComponent(CohortDirectory.truthTableName))
        let purities = rows.filter { $0.label != "normal" }.map(\.purity).sorted()
        let sites = Array(Set(rows.map(\.site))).sorted()
        let heldOut = Array(Set(rows.filter(\.heldOut).map(\.site))).sorted()
        let o = record.options
        return (Cohort(patients: o.patients, slides: rows.count, seed: o.seed, width: o.width, height: o.height, realism: o.realism,
                       sites: sites, heldOutSites: heldOut, medianPurity: purities.isEmpty ? 0 : purities[purities.count / 2]), rows)
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    /// benchmark.md.
    /// - Parameters:
    ///   - pictures: linked from it (paths relative to it): the QC pictures of a few slides.
    ///   - truthMaps: the same, the heatmaps beside their ground truth (`TruthMapComparison`).
    public func markdown(classes: [String], timings: [Timing], pictures: [String] = [], truthMaps: [String] = []) -> String {
        func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "–" }
        func auc(_ m: LevelMetrics, _ k: Int) -> String {
            guard k < m.auc.count, let a = m.auc[k] else { return "–" }
            return f(a.auc) + (a.ciLow.map { " (\(f($0))–\(f(a.ciHigh)))" } ?? "")
        }
        func macroCI(_ m: LevelMetrics) -> String {
            // The macro AUC's interval: the mean of the per-class bounds (a conservative summary).
            let lows = m.auc.compactMap { $0?.ciLow }, highs = m.auc.compactMap { $0?.ciHigh }
            guard !lows.isEmpty, lows.count == highs.count else { return f(m.macroAUC) }
            return f(m.macroAUC) + " (\(f(lows.reduce(0, +) / Double(lows.count)))–\(f(highs.reduce(0, +) / Double(highs.count))))"
        }
        var s = "# Tessera accuracy benchmark\n\n"
        s += "Tessera \(tesseraVersion), commit \(commit). Realistic synthetic cohort: \(cohort.patients) patients, \(cohort.slides) slides "
        s += "(\(cohort.width)×\(cohort.height) px), seed \(cohort.seed), sites \(cohort.sites.joined(separator: ", ")); "
        s += "held out: \(cohort.heldOutSites.isEmpty ? "none" : cohort.heldOutSites.joined(separator: ", ")); median tumour purity \(f(cohort.medianPurity)).\n\n"
        s += "AUC: one class against the rest, 95% bootstrap interval in brackets (macro: mean of the per-class bounds).\n\n"
        s += "| split | level | rule | n | accuracy | balanced acc. | macro AUC | " + classes.map { "AUC \($0)" }.joined(separator: " | ") + " |\n"
        s += "|---|---|---|---:|---:|---:|---:|" + classes.map { _ in "---:|" }.joined() + "\n"
        for split in splits {
            var rows: [(String, String, LevelMetrics?)] = [
                ("slide", "mean", split.slide.meanProbability), ("slide", "vote", split.slide.majorityVote),
                ("patient", "mean", split.patient.meanProbability), ("patient", "vote", split.patient.majorityVote),
                ("slide, oracle (truly-class tiles)", "mean", split.oracleSlide.meanProbability),
                ("slide, oracle (truly-class tiles)", "vote", split.oracleSlide.majorityVote),
            ]
            rows.append(("tile vs slide label", "–", split.tileVersusSlideLabel))
            rows.append(("tile vs true label", "–", split.tileVersusTruth))
            for (level, rule, m) in rows {
                guard let m else { continue }
                s += "| \(split.name) | \(level) | \(rule) | \(m.count) | \(f(m.accuracy)) | \(f(m.balancedAccuracy)) | \(macroCI(m)) | "
                s += classes.indices.map { auc(m, $0) }.joined(separator: " | ") + " |\n"
            }
        }
        s += aggregatorsSection(macroCI: macroCI)
        s += "\nKept tiles by their true label (the tiler's choice judged by the truth):\n\n| split | "
        let labels = ["LUAD", "LUSC", "normal", "glass", "artefact"]
        s += labels.joined(separator: " | ") + " | total |\n|---|" + labels.map { _ in "---:|" }.joined() + "---:|\n"
        for split in splits {
            let total = split.keptTiles.values.reduce(0, +)
            s += "| \(split.name) | " + labels.map { l in
                let n = split.keptTiles[l] ?? 0
                return "\(n) (\(total > 0 ? String(format: "%.1f", 100 * Double(n) / Double(total)) : "0")%)"
            }.joined(separator: " | ") + " | \(total) |\n"
        }
        if let tilingQC { s += tilingQC.markdown }
        if !pictures.isEmpty {
            s += "\nPictures: " + pictures.map { "[\(($0 as NSString).lastPathComponent)](\($0))" }.joined(separator: " · ") + "\n"
        }
        if !truthMaps.isEmpty {
            s += "\nPredicted heatmap (left) beside the slide's ground truth at the same scale (right), one slide per class: "
            s += truthMaps.map { "[\(($0 as NSString).lastPathComponent)](\($0))" }.joined(separator: " · ") + "\n"
        }
        if let ablation, !ablation.isEmpty { s += Self.ablationMarkdown(ablation) }
        if !timings.isEmpty {
            s += "\nWall time and CPU time (user + system) per stage:\n\n| stage | wall s | CPU s | CPU / wall |\n|---|---:|---:|---:|\n"
            for t in timings {
                let cpu = t.cpu.map { String(format: "%.0f", $0) } ?? "–"
                let share = t.cpu.flatMap { c in t.wall > 0 ? String(format: "%.2f", c / t.wall) : nil } ?? "–"
                s += "| \(t.stage) | \(String(format: "%.0f", t.wall)) | \(cpu) | \(share) |\n"
            }
        }
        return s
    }

    /// The ablation table: one line per row, the paired differences against the first row.
    static func ablationMarkdown(_ rows: [AblationRow]) -> String {
        func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "–" }
        func signed(_ v: Double?) -> String { v.map { String(format: "%+.3f", $0) } ?? "–" }
        func auc(_ a: MacroAUCEstimate?) -> String {
            guard let a else { return "–" }
            return f(a.value) + (a.ciLow.map { " [\(f($0))–\(f(a.ciHigh))]" } ?? "")
        }
        func diff(_ d: PairedDifference?) -> String {
            guard let d else { return "–" }
            return signed(d.difference) + (d.ciLow.map { " [\(signed($0)), \(signed(d.ciHigh))]" } ?? "") + " (n \(d.count))"
        }
        var s = "\nAblation: each row is the benchmark job with these job keys changed; macro AUC with its 95% bootstrap interval; "
        s += "Δ: the row's slide macro AUC minus the baseline's (\(rows[0].name)) on the slides both predicted, paired bootstrap 95% interval.\n\n"
        s += "| row | job keys | slide macro AUC (site-mixed) | site-held-out macro AUC | tile macro AUC (truth) | Δ site-mixed | Δ held-out |\n"
        s += "|---|---|---:|---:|---:|---:|---:|\n"
        for r in rows {
            s += "| \(r.name) | `\(r.overrides)` | \(auc(r.slideMacroAuc)) | \(auc(r.heldOutMacroAuc)) | \(auc(r.tileMacroAuc)) | "
            s += "\(diff(r.versusBaseline)) | \(diff(r.heldOutVersusBaseline)) |\n"
        }
        let qc = rows.compactMap { r in r.tilingQC.map { (r.name, $0) } }
        guard !qc.isEmpty else { return s }
        let pct = TilingQCFigures.percent
        s += "\nTile QC of the rows that tile with it, judged by the truth (tiles past the background rule, i.e. what QC off keeps; "
        s += "artefact tiles: true label artefact; clean: no artefact at all; targets: ≥ 80 % fewer artefact tiles kept, ≤ 2 % of clean tissue lost):\n\n"
        s += "| row | tiles past background | artefact tiles kept | change | clean tissue lost | dropped: pen / blur / fold / bubble |\n"
        s += "|---|---:|---:|---:|---:|---|\n"
        for (name, q) in qc {
            s += "| \(name) | \(q.tilesPassedBackground) | \(q.artefactTilesKept) of \(q.artefactTiles) | −\(pct(q.artefactReduction)) | "
            s += "\(q.cleanTilesDropped) of \(q.cleanTiles) (\(pct(q.cleanLost))) | \(q.droppedPen) / \(q.droppedBlur) / \(q.droppedFold) / \(q.droppedBubble) |\n"
        }
        return s
    }

    /// The aggregators section: per split, each slide aggregator's macro AUC and its paired
    /// difference from mean aggregation, on the same slides.
    func aggregatorsSection(macroCI: (LevelMetrics) -> String) -> String {
        let withRows = splits.filter { !($0.aggregators ?? []).isEmpty }
        guard !withRows.isEmpty else { return "" }
        var s = "\n## Aggregators\n\nSlide-level, on the same slides of each split; Δ: macro AUC minus the mean's, paired bootstrap 95% interval.\n\n"
        s += "| split | aggregator | slides | macro AUC | Δ vs mean |\n|---|---|---:|---:|---:|\n"
        for split in withRows {
            for row in split.aggregators ?? [] {
                let d = row.differenceFromMean.map { d in
                    String(format: "%+.3f", d.difference) + (d.ciLow.map { String(format: " (%+.3f to %+.3f)", $0, d.ciHigh ?? 0) } ?? "")
                } ?? "–"
                s += "| \(split.name) | \(row.aggregator) | \(row.metrics?.count ?? 0) | \(row.metrics.map(macroCI) ?? "–") | \(d) |\n"
            }
        }
        for split in withRows {
            guard let a = split.attentionOnTumour else { continue }
            s += String(format: "\n%@: on %d tumour slides, %.1f%% of the top-10%% attention tiles are truly tumour, against %.1f%% of all their tiles.\n",
                        split.name, a.slides, 100 * a.topDecileTumourShare, 100 * a.tumourShare)
        }
        return s
    }

    /// Reads a timings file: lines `stage wall_seconds [cpu_seconds]`.
    public static func timings(_ text: String) -> [Timing] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            guard f.count == 2 || f.count == 3, let w = Double(f[1]) else { return nil }
            return Timing(stage: String(f[0]), wall: w, cpu: f.count == 3 ? Double(f[2]) : nil)
        }
    }
}
