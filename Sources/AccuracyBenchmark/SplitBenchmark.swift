import Foundation
import Prediction
import SyntheticSlides

/// The figures of one prediction run (a test split) on a realistic cohort, against its truth.
public struct SplitBenchmark: Codable, Equatable, Sendable {
    /// Metrics by aggregation rule (`mean_probability`, `majority_vote`).
    public struct Rules: Codable, Equatable, Sendable {
        public var meanProbability: LevelMetrics?
        public var majorityVote: LevelMetrics?
    }

    public var name: String
    public var slides: Int
    public var patients: Int
    /// From the predictor's report.json: slides and patients against their labels.
    public var slide: Rules
    public var patient: Rules
    /// Every kept tile against its slide's label (what the predictor reports).
    public var tileVersusSlideLabel: LevelMetrics?
    /// Kept tiles whose truth is a class (not glass, not artefact) against that true label.
    public var tileVersusTruth: LevelMetrics?
    /// Kept tiles by true label: LUAD, LUSC, normal, glass, artefact.
    public var keptTiles: [String: Int]
    /// The oracle: each slide aggregated over its truly-its-class tiles only (tumour tiles of a
    /// tumour slide, non-tumour tissue of a normal slide).
    public var oracleSlide: Rules
    /// Slides with no truly-its-class tile (not in the oracle).
    public var oracleSlidesWithoutTiles: Int
    /// Slide aggregators on the same slides (mean, vote, above threshold, ABMIL when given).
    public var aggregators: [AggregatorRow]?
    /// With a MIL run: the share of top-decile attention on truly tumour tiles.
    public var attentionOnTumour: AttentionOnTumour?

    /// - Parameters:
    ///   - predictions: a tessera-predict output folder with report.json and tiles.csv.
    ///   - truth: the tile truth table (`TileTruthTable`) of that folder's tiles.
    ///   - milSlides: a `tessera-mil predict` mil-slides.csv of the same slides: adds the ABMIL row.
    public init(name: String, predictions: URL, tileTruthCSV: String, slideLabels: [String: String],
                bootstrap: Int, seed: UInt64, milSlides: URL? = nil) throws {
        self.name = name
        let reportURL = predictions.appendingPathComponent("report.json")
        let report: PredictionReport
        do {
            report = try PredictionReport.decode(try Data(contentsOf: reportURL))
        } catch {
            throw BenchmarkError("\(reportURL.path): cannot read the predictor's report (\(error)); run tessera-predict with --tile-scores first")
        }
        let classes = report.classes
        slides = report.counts.labelledSlides
        patients = report.counts.labelledPatients
        slide = Rules(meanProbability: report.slide.meanProbability, majorityVote: report.slide.majorityVote)
        patient = Rules(meanProbability: report.patient.meanProbability, majorityVote: report.patient.majorityVote)
        tileVersusSlideLabel = report.tile

        let tiles = try TileTable(url: predictions.appendingPathComponent("tiles.csv"), classes: classes)
        var truth: [String: String] = [:]
        for line in tileTruthCSV.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count == 8 else { throw BenchmarkError("tile truth: a line with \(f.count) fields, expected 8") }
            truth["\(f[0]),\(f[1]),\(f[2])"] = String(f[7])
        }
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var kept: [String: Int] = [:]
        var t: [Int] = [], p: [Int] = [], s: [Double] = []
        var perSlide: [String: [Float]] = [:], allTiles: [String: [Float]] = [:]
        for tile in tiles.rows {
            allTiles[tile.slideID, default: []] += tile.probabilities
            guard let label = truth["\(tile.slideID),\(tile.x),\(tile.y)"] else {
                throw BenchmarkError("tile \(tile.slideID) (\(tile.x), \(tile.y)) has no row in the tile truth")
            }
            kept[label, default: 0] += 1
            guard let k = index[label] else { continue }
            t.append(k)
            p.append(SlideAggregator.tileClass(tile.probabilities))
            s += tile.probabilities.map(Double.init)
            if label == slideLabels[tile.slideID] { perSlide[tile.slideID, default: []] += tile.probabilities }
        }
        keptTiles = kept
        aggregators = AggregatorComparison.rows(perSlide: allTiles, slideLabels: slideLabels, classes: classes,
                                                mil: try milSlides.map { try AggregatorComparison.readMILSlides($0, classes: classes) },
                                                bootstrap: bootstrap, seed: seed)
        if let milSlides {
            attentionOnTumour = try AttentionOnTumour.measure(folder: milSlides.deletingLastPathComponent().appendingPathComponent("attention"),
                                                              truth: truth, slideLabels: slideLabels,
                                                              tumourClasses: Set(classes.filter { $0 != "normal" }))
        }
        tileVersusTruth = ClassificationMetrics.evaluate(truth: t, predicted: p, scores: s, classes: classes.count,
                                                         bootstrap: bootstrap, seed: seed, stream: 11)
        var items: [(Int, SlideAggregate)] = []
        var missing = 0
        for id in Set(tiles.rows.map(\.slideID)).sorted() {
            guard let label = slideLabels[id].flatMap({ index[$0] }) else { continue }
            guard let probabilities = perSlide[id] else { missing += 1; continue }
            items.append((label, SlideAggregator.aggregate(probabilities: probabilities, classes: classes.count)))
        }
        oracleSlidesWithoutTiles = missing
        func rule(_ r: AggregationRule) -> LevelMetrics? {
            ClassificationMetrics.evaluate(truth: items.map(\.0), predicted: items.map { $0.1.predicted(by: r)! },
                                           scores: items.flatMap { $0.1.scores(by: r) }, classes: classes.count,
                                           bootstrap: bootstrap, seed: seed, stream: 12)
        }
        oracleSlide = Rules(meanProbability: rule(.meanProbability), majorityVote: rule(.majorityVote))
    }
}

/// tessera-predict's tiles.csv: `slide_id,x,y,p_<class>…`.
struct TileTable {
    struct Row { var slideID: String; var x: Int; var y: Int; var probabilities: [Float] }
    var rows: [Row] = []

    init(url: URL, classes: [String]) throws {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw BenchmarkError("\(url.path): cannot read it; run tessera-predict with --tile-scores (TILE_SCORES=1)")
        }
        let lines = text.split(separator: "\n")
        let expected = (["slide_id", "x", "y", "width", "height"] + classes.map { "p_\($0)" }).joined(separator: ",")
        guard let head = lines.first, head == expected else {
            throw BenchmarkError("\(url.path): header is not \(expected)")
        }
        for (i, line) in lines.dropFirst().enumerated() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count == 5 + classes.count, let x = Int(f[1]), let y = Int(f[2]) else {
                throw BenchmarkError("\(url.path): line \(i + 2) is not slide_id,x,y,width,height and \(classes.count) probabilities")
            }
            let p = f.dropFirst(5).compactMap { Float($0) }
            guard p.count == classes.count else { throw BenchmarkError("\(url.path): line \(i + 2) has a probability that is not a number") }
            rows.append(Row(slideID: String(f[0]), x: x, y: y, probabilities: p))
        }
    }
}

public struct BenchmarkError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
