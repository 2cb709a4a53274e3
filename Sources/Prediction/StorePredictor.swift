import Foundation
import Model
import TaskRunner
import TileStore
import Tiling

/// Predicts a test slide from its tile store file (`STORE/test/<slide>.h5`, one slide a file),
/// after checking that the model fits the file.
struct StorePredictor: SlidePredictor {
    let scorer: TileScorer
    let model: ModelFile.Header
    /// For the error naming a model that does not fit.
    let modelPath: String

    var classes: Int { model.classes.count }

    func predictSlide(_ item: PredictionItem) throws -> (SlideResult, SlidePlacement) {
        let reader: TileStoreReader
        do { reader = try TileStoreReader(url: URL(fileURLWithPath: item.path)) } catch {
            if Self.isDamage(error) { throw error }
            throw SlideFailure(stage: .open, message: "\(error)")
        }
        defer { try? reader.close() }
        try ModelCompatibility.check(model: model, modelPath: modelPath, store: reader.attributes, storePath: item.path)
        guard reader.slides.count == 1, let record = reader.slides.first, record.slideID == item.slideID else {
            throw SlideFailure(stage: .open, message: "the file holds slides [\(reader.slides.map(\.slideID).joined(separator: ", "))], expected only \(item.slideID) (a test file holds its one slide)")
        }
        let tiles: TileScores
        do { tiles = try scorer.score(reader) } catch {
            if Self.isDamage(error) { throw error }
            throw SlideFailure(stage: SlideFailure.stage(of: error), message: "\(error)")
        }
        let prediction = SlidePrediction.predicted(slideID: item.slideID, patientID: record.patientID, label: record.label,
                                                   aggregate: tiles.aggregate)
        let drawing = SlidePlacement(width: record.width, height: record.height,
                                     tileSpan: Double(reader.attributes.tileSize) * record.downsample,
                                     resolution: record.mpp.map { ScanResolution(mpp: $0 / record.downsample, source: .store) })
        return (SlideResult(prediction: prediction, tiles: tiles, source: item.path), drawing)
    }

    /// Refuses a store whose tiles the model was not trained on, checking the first file that
    /// opens (every task checks the same one); each file is checked again when predicted.
    static func checkStore(_ items: [PredictionItem], model: ModelFile.Header, modelPath: String) throws {
        for item in items {
            guard let reader = try? TileStoreReader(url: URL(fileURLWithPath: item.path)) else { continue }
            defer { try? reader.close() }
            try ModelCompatibility.check(model: model, modelPath: modelPath, store: reader.attributes, storePath: item.path)
            return
        }
    }

    /// A store file that changed after it was written (checksum failure) or cannot be verified.
    private static func isDamage(_ error: Error) -> Bool {
        switch error as? TileStoreError {
        case .damagedTile?, .damagedData?, .writtenWithoutChecksums?: return true
        default: return false
        }
    }
}
