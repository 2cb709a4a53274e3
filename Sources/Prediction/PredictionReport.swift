import Foundation
import Stain
import TesseraCore
import Tiling

/// report.json (and, rendered, report.md): counts and metrics of a prediction run, at tile, slide
/// and patient level, for both aggregation rules, where labels exist.
public struct PredictionReport: Equatable, Sendable, Codable {
    public struct Counts: Equatable, Sendable, Codable {
        public var slides = 0
        public var slidesPredicted = 0
        public var slidesWithoutTissue = 0
        public var slidesFailed = 0
        public var tiles = 0
        public var patients = 0
        /// Slides with a label and a prediction: those in the slide-level metrics.
        public var labelledSlides = 0
        /// Patients with one label and a prediction: those in the patient-level metrics.
        public var labelledPatients = 0
        /// Patients whose slides have different labels: predicted, but in no patient metric.
        public var patientsWithMixedLabels = 0
        /// Predicted slides with an attached ABMIL prediction (0 without a MIL run).
        public var slidesPredictedByAbmil = 0

        enum CodingKeys: String, CodingKey {
            case slides, slidesPredicted, slidesWithoutTissue, slidesFailed, tiles, patients, labelledSlides, labelledPatients
            case patientsWithMixedLabels, slidesPredictedByAbmil
        }

        public init() {}

        // Reports written before ABMIL have no slides_predicted_by_abmil: 0.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            func n(_ k: CodingKeys) throws -> Int { try c.decodeIfPresent(Int.self, forKey: k) ?? 0 }
            (slides, slidesPredicted, slidesWithoutTissue, slidesFailed) = (try n(.slides), try n(.slidesPredicted), try n(.slidesWithoutTissue), try n(.slidesFailed))
            (tiles, patients, labelledSlides, labelledPatients) = (try n(.tiles), try n(.patients), try n(.labelledSlides), try n(.labelledPatients))
            (patientsWithMixedLabels, slidesPredictedByAbmil) = (try n(.patientsWithMixedLabels), try n(.slidesPredictedByAbmil))
        }
    }

    public struct Model: Equatable, Sendable, Codable {
        public var path: String
        public var architecture: String
        public var inputSize: Int
        /// How the model's training tiles were cut (and so the tiles predicted on).
        public var tiling: TilingSpec
        /// Which of its run's models it is: "the last epoch's (epoch 10, validation accuracy 0.870)"
        /// or "the best validation accuracy's (…)"; nil in reports of earlier versions.
        public var selection: String?
        /// The stain normalisation the model was trained with and prediction applied (nil: none).
        public var stainNormalization: StainNormalization?
    }

    public struct Bootstrap: Equatable, Sendable, Codable {
        public var resamples: Int
        public var seed: UInt64
        public var confidence = 0.95
    }

    /// Metrics of one level by aggregation rule (`mean_probability`, `majority_vote`,
    /// `percent_above_threshold`, `abmil`), side by side. `abmil` is over the labelled items with an
    /// ABMIL prediction, absent without a MIL run.
    public struct RuleMetrics: Equatable, Sendable, Codable {
        public var meanProbability: LevelMetrics?
        public var majorityVote: LevelMetrics?
        public var percentAboveThreshold: LevelMetrics?
        public var abmil: LevelMetrics?

        public subscript(rule: AggregationRule) -> LevelMetrics? {
            switch rule {
            case .meanProbability: meanProbability
            case .majorityVote: majorityVote
            case .percentAboveThreshold: percentAboveThreshold
            case .abmil: abmil
            }
        }
    }

    /// The headline figures, flat, for scripts (e.g. `r["summary"]["slide_accuracy_mean_probability"]`);
    /// null where there are no labels (every key is written, so that scripts can rely on them).
    public struct Summary: Equatable, Sendable, Codable {
        @NullWhenNil public var tileAccuracy: Double?
        @NullWhenNil public var slideAccuracyMeanProbability: Double?
        @NullWhenNil public var slideAccuracyMajorityVote: Double?
        @NullWhenNil public var slideBalancedAccuracyMeanProbability: Double?
        @NullWhenNil public var slideBalancedAccuracyMajorityVote: Double?
        @NullWhenNil public var patientAccuracyMeanProbability: Double?
        @NullWhenNil public var patientAccuracyMajorityVote: Double?
        @NullWhenNil public var slideAccuracyAbmil: Double?
        @NullWhenNil public var slideBalancedAccuracyAbmil: Double?
        @NullWhenNil public var patientAccuracyAbmil: Double?
        /// Tiles stain-normalised, and left as they were (too little tissue), over all slides;
        /// null without stain normalisation.
        @NullWhenNil public var stainNormalizedTiles: Int?
        @NullWhenNil public var stainUnnormalizedTiles: Int?
    }

    public var format = "tessera-prediction-report"
    public var tesseraVersion = TesseraVersion.current
    public var created: String
    public var model: Model
    public var source: String
    public var classes: [String]
    public var counts: Counts
    public var summary: Summary
    public var bootstrap: Bootstrap
    /// Each tile against its slide's label; a tile's class is its most probable one.
    public var tile: LevelMetrics?
    public var slide: RuleMetrics
    public var patient: RuleMetrics
    /// The heatmap colour of each class, `#rrggbb`, in class order.
    public var heatmapColours: [String]
    /// Each slide's stain normalisation counts, in slide order; null without stain normalisation.
    @NullWhenNil public var stainTilesBySlide: [SlideStainCounts]?

    /// Computes every metric.
    /// - Parameters:
    ///   - tiles: the tile probabilities of every predicted slide, by slide id.
    ///   - stain: each slide's stain normalisation counts; nil without stain normalisation.
    public static func build(model: Model, source: String, classes: [String], slides: [SlidePrediction],
                             patients: [PatientPrediction], tiles: [String: TileScores], stain: [SlideStainCounts]? = nil,
                             bootstrap: Bootstrap, created: String) -> PredictionReport {
        let c = classes.count
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var counts = Counts()
        counts.slides = slides.count
        counts.slidesPredicted = slides.filter { $0.outcome == .ok }.count
        counts.slidesWithoutTissue = slides.filter { $0.outcome == .noTissueTiles }.count
        counts.slidesFailed = slides.filter { $0.outcome == .failed }.count
        counts.tiles = slides.reduce(0) { $0 + ($1.aggregate?.tiles ?? 0) }
        counts.patients = patients.count
        counts.patientsWithMixedLabels = patients.filter { p in p.label == nil && p.message.contains("slide labels differ") }.count

        // Tiles: every tile of a labelled, predicted slide.
        var tileTruth: [Int] = [], tilePredicted: [Int] = [], tileScores: [Double] = []
        for s in slides {
            guard s.outcome == .ok, let label = s.label.flatMap({ index[$0] }), let t = tiles[s.slideID] else { continue }
            for k in 0..<t.count {
                let row = Array(t.row(k))
                tileTruth.append(label)
                tilePredicted.append(SlideAggregator.tileClass(row))
                tileScores += row.map(Double.init)
            }
        }
        let tile = ClassificationMetrics.evaluate(truth: tileTruth, predicted: tilePredicted, scores: tileScores, classes: c,
                                                  bootstrap: bootstrap.resamples, seed: bootstrap.seed, stream: 1)

        func level(_ items: [(label: Int, aggregate: SlideAggregate)], stream: UInt64) -> RuleMetrics {
            func rule(_ r: AggregationRule) -> LevelMetrics? {
                // Every item has the tile rules' predictions; only those with one attached have ABMIL's.
                let scored = items.filter { $0.aggregate.predicted(by: r) != nil }
                return ClassificationMetrics.evaluate(truth: scored.map(\.label), predicted: scored.map { $0.aggregate.predicted(by: r)! },
                                                      scores: scored.flatMap { $0.aggregate.scores(by: r) }, classes: c,
                                                      bootstrap: bootstrap.resamples, seed: bootstrap.seed, stream: stream)
            }
            return RuleMetrics(meanProbability: rule(.meanProbability), majorityVote: rule(.majorityVote),
                               percentAboveThreshold: rule(.percentAboveThreshold), abmil: rule(.abmil))
        }
        let slideItems = slides.compactMap { s -> (Int, SlideAggregate)? in
            guard let l = s.label.flatMap({ index[$0] }), let a = s.aggregate else { return nil }
            return (l, a)
        }
        let patientItems = patients.compactMap { p -> (Int, SlideAggregate)? in
            guard let l = p.label.flatMap({ index[$0] }), let a = p.aggregate else { return nil }
            return (l, a)
        }
        counts.labelledSlides = slideItems.count
        counts.labelledPatients = patientItems.count
        counts.slidesPredictedByAbmil = slides.filter { $0.aggregate?.abmilProbabilities != nil }.count
        let slide = level(slideItems, stream: 2), patient = level(patientItems, stream: 3)
        let summary = Summary(tileAccuracy: tile?.accuracy, slideAccuracyMeanProbability: slide.meanProbability?.accuracy,
                              slideAccuracyMajorityVote: slide.majorityVote?.accuracy,
                              slideBalancedAccuracyMeanProbability: slide.meanProbability?.balancedAccuracy,
                              slideBalancedAccuracyMajorityVote: slide.majorityVote?.balancedAccuracy,
                              patientAccuracyMeanProbability: patient.meanProbability?.accuracy,
                              patientAccuracyMajorityVote: patient.majorityVote?.accuracy, slideAccuracyAbmil: slide.abmil?.accuracy,
                              slideBalancedAccuracyAbmil: slide.abmil?.balancedAccuracy, patientAccuracyAbmil: patient.abmil?.accuracy,
                              stainNormalizedTiles: stain.map { $0.reduce(0) { $0 + $1.normalizedTiles } },
                              stainUnnormalizedTiles: stain.map { $0.reduce(0) { $0 + $1.unnormalizedTiles } })
        return PredictionReport(created: created, model: model, source: source, classes: classes, counts: counts, summary: summary,
                                bootstrap: bootstrap, tile: tile, slide: slide, patient: patient,
                                heatmapColours: (0..<c).map { Heatmap.hex(Heatmap.colour(ofClass: $0)) }, stainTilesBySlide: stain)
    }

    /// report.json: snake_case keys, sorted, indented; each level's `auc` keyed by class name. A
    /// metric that does not apply (no labels at that level) is absent; a class's AUC that does not
    /// apply is null.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.userInfo[LevelMetrics.classNamesKey] = classes
        return try encoder.encode(self)
    }

    /// Reads report.json (AUCs keyed by class name, or listed in class order as earlier versions wrote them).
    public static func decode(_ data: Data) throws -> PredictionReport {
        struct Classes: Decodable { var classes: [String] }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.userInfo[LevelMetrics.classNamesKey] = try decoder.decode(Classes.self, from: data).classes
        return try decoder.decode(PredictionReport.self, from: data)
    }
}
