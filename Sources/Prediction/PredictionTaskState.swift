import Foundation
import TaskRunner
import TesseraCore

/// Everything that decides what a prediction task writes. Kept in each task's status file: a
/// re-run with other parameters into the same folder is refused unless forced, and the merge
/// refuses parts that disagree.
public struct PredictionParameters: TaskParameters {
    /// FNV-1a of the model file's bytes.
    public var modelDigest: String
    /// `store <path>` or `manifest <path>` with the manifest's digest.
    public var source: String
    public var classes: [String]
    public var tileScores: Bool
    public var heatmaps: Bool
    /// Optional so that status files of earlier versions still read (nil: written before GeoJSON).
    public var geojson: Bool?
    /// nil without class maps, so that runs without them match status files written before them.
    public var classMaps: Bool?
    public var heatmapSize: Int
    public var assumeMPP: Double?
    public var jpegQuality: Int
    public var shards: Int

    /// How `source` begins when a tile store is predicted: `store <path>`.
    static let storeSourcePrefix = "store "

    /// The tile store predicted, when the source is one (where its QC tables are).
    var storeURL: URL? {
        source.hasPrefix(Self.storeSourcePrefix) ? URL(fileURLWithPath: String(source.dropFirst(Self.storeSourcePrefix.count))) : nil
    }
}

/// Which task predicts which slide, and what the merge needs to describe the run:
/// `PRED/parts/plan-of-N.json`, written (identically) by every task of an N-task run.
public struct PredictionPlan: Codable, Equatable, Sendable {
    public struct Entry: Codable, Equatable, Sendable {
        public var slideID: String
        public var task: Int
    }

    public var taskCount: Int
    /// Sorted by slide id.
    public var slides: [Entry]
    public var parameters: PredictionParameters
    public var model: PredictionReport.Model
    public var sourceDescription: String
}

/// A prediction task's resume state, `PRED/parts/task-I-of-N/status.json`. A slide counts as done
/// only once its result file was completed and renamed into place; `complete` is set when the
/// part's CSV files are written.
public typealias PredictionTaskStatus = SlideTaskStatus<PredictionParameters, PredictedSlide>

/// How one slide of a prediction task ended.
public struct PredictedSlide: SlideRecord {
    public var outcome: PredictionOutcome
    public var tiles: Int
    public var isFailure: Bool { outcome == .failed }
}

/// One finished slide of an unfinished task: `PRED/parts/task-I-of-N/work/<slide>.json`.
struct SlideResult: Codable, Equatable, Sendable {
    var prediction: SlidePrediction
    var tiles: TileScores
    /// The store file or slide file read.
    var source: String
    /// Where a failed slide failed: open, metadata, read, decode.
    var stage: FailureStage?
    /// Where the slide's tiles lie (for the pictures the merge draws later, such as attention
    /// heatmaps); nil for a failed slide and in work files of earlier versions.
    var placement: SlidePlacement? = nil
    /// Tiles stain-normalised and left as they were; nil without stain normalisation (and in work
    /// files of earlier versions).
    var stain: SlideStainCounts? = nil
}
