import Foundation
import Model
import OpenSlide
import SlideTiles
import TaskRunner
import Tiling

/// Predicts a slide from its slide file: cut as the model's training store was (`spec`, JPEG-encoded
/// at the chosen quality even for a raw store's model), on a background thread while the tiles
/// already cut are scored.
struct SlideFilePredictor: SlidePredictor {
    let scorer: TileScorer
    let classes: Int
    let spec: TilingSpec
    /// µm per pixel of slides that record neither MPP nor objective power.
    let assumeMPP: Double?
    /// Tiling worker threads.
    let threads: Int

    func predictSlide(_ item: PredictionItem) throws -> (SlideResult, SlidePlacement) {
        let tiler = SlideTiler(spec: spec, assumeMPP: assumeMPP, workers: threads)
        let source: any SlideSource
        do { source = try SlideSources.open(path: item.path) } catch { throw SlideFailure(stage: .open, message: "\(error)") }
        let slide = source.slide
        let plan: TilingPlan
        do { plan = try tiler.plan(for: source) } catch { throw SlideFailure(stage: .metadata, message: "\(error)") }
        let (width, height) = slide.dimensions(level: 0)
        var x: [Int] = [], y: [Int] = [], waiting: [TilePayload] = [], submitted = 0
        let probabilities: [Float]
        let stream = SlideTileStream(tiler: tiler, source: source, plan: plan)
        do {
            while let outputs = try stream.next() {
                for tile in outputs {
                    x.append(tile.x)
                    y.append(tile.y)
                    waiting.append(.jpeg(tile.bytes))
                    if waiting.count == scorer.batchSize {
                        try scorer.submit(waiting, source: item.path, firstIndex: submitted)
                        submitted += waiting.count
                        waiting = []
                    }
                }
            }
            try scorer.submit(waiting, source: item.path, firstIndex: submitted)
            probabilities = try scorer.finish()
        } catch {
            stream.cancel()
            throw SlideFailure(stage: SlideFailure.stage(of: error), message: "\(error)")
        }
        let tiles = TileScores(classes: classes, x: x, y: y, probabilities: probabilities)
        let prediction = SlidePrediction.predicted(slideID: item.slideID, patientID: item.patientID ?? "", label: item.label,
                                                   aggregate: tiles.aggregate)
        let drawing = SlidePlacement(width: width, height: height, tileSpan: Double(spec.tileSize) * plan.downsample, slidePath: item.path,
                                     resolution: ScanResolution(geometry: SlideTiler.geometry(of: slide), assumeMPP: assumeMPP))
        return (SlideResult(prediction: prediction, tiles: tiles, source: item.path), drawing)
    }
}
