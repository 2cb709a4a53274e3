import JPEG
import Model
import TaskRunner
import TesseraCore
import Tiling

/// Predicts one slide of a task: from its file in a tile store (`StorePredictor`) or from the slide
/// file itself, tiled on the fly (`SlideFilePredictor`).
protocol SlidePredictor {
    var scorer: TileScorer { get }
    var classes: Int { get }
    /// The slide's result and what its heatmap needs. Throws `SlideFailure` when the slide cannot
    /// be read; anything else thrown ends the task.
    func predictSlide(_ item: PredictionItem) throws -> (SlideResult, SlidePlacement)
}

/// Why one slide has no prediction, and at which stage.
struct SlideFailure: Error {
    let stage: FailureStage
    let message: String

    /// The stage an error from cutting or decoding tiles belongs to.
    static func stage(of error: Error) -> FailureStage {
        switch error {
        case is JPEGError, is TesseraError: return .decode
        case is TilingPlanError: return .metadata
        default: return .read
        }
    }
}

extension SlidePredictor {
    /// Predicts one slide. A slide that cannot be read comes back as a failed result (with no
    /// drawing); a model that does not fit a store file, or a store file that fails its checksums,
    /// is thrown (the whole task is wrong, not the slide: a damaged store must not yield a partial
    /// result).
    func predict(_ item: PredictionItem) throws -> (SlideResult, SlidePlacement?) {
        do {
            return try predictSlide(item)
        } catch let failure as SlideFailure {
            scorer.reset()
            let row = SlidePrediction(slideID: item.slideID, patientID: item.patientID ?? "", label: item.label, outcome: .failed,
                                      message: "\(failure.stage): \(failure.message)")
            return (SlideResult(prediction: row, tiles: TileScores(classes: classes), source: item.path, stage: failure.stage), nil)
        }
    }
}
