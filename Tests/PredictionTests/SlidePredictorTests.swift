import Foundation
import JPEG
import Model
import NeuralNet
import TaskRunner
import TesseraCore
import XCTest
@testable import Prediction

/// The per-slide pieces a prediction task is made of, without slides: what becomes of a slide
/// that fails, and the heatmap file.
final class SlidePredictorTests: XCTestCase {
    /// Fails every slide with `error`, or scores nothing.
    struct Failing: SlidePredictor {
        let scorer: TileScorer
        var classes: Int { scorer.classes }
        let error: Error

        func predictSlide(_ item: PredictionItem) throws -> (SlideResult, SlidePlacement) { throw error }
    }

    static func scorer() throws -> TileScorer {
        try TileScorer(network: try Network(model: "refnet-s", classes: 3, inputSize: 16, seed: 1),
                       normalization: Normalization(mean: [0, 0, 0], std: [1, 1, 1]), tileSize: 32, batchSize: 2)
    }

    static let item = PredictionItem(slideID: "S-7", patientID: "P-2", label: "b", path: "/data/S-7.svs", size: 10)

    /// A slide that cannot be read is a failed row naming the stage and the message, with an empty
    /// tile table and no heatmap; the task goes on.
    func testAnUnreadableSlideBecomesAFailedRowWithItsStage() throws {
        let predictor = Failing(scorer: try Self.scorer(), error: SlideFailure(stage: .decode, message: "bad JPEG in tile 4"))
        let (result, drawing) = try predictor.predict(Self.item)
        XCTAssertNil(drawing)
        XCTAssertEqual(result.prediction.outcome, .failed)
        XCTAssertEqual(result.prediction.message, "decode: bad JPEG in tile 4")
        XCTAssertEqual(result.prediction.slideID, "S-7")
        XCTAssertEqual(result.prediction.patientID, "P-2")
        XCTAssertEqual(result.stage, .decode)
        XCTAssertEqual(result.source, "/data/S-7.svs")
        XCTAssertEqual(result.tiles, TileScores(classes: 3))
    }

    /// Anything else (a damaged store, a model that does not fit) ends the task.
    func testOtherErrorsAreThrown() throws {
        let damage = TesseraError.invalidInput(path: "/store/test/S-7.h5", message: "checksum mismatch", hint: "re-tile")
        let predictor = Failing(scorer: try Self.scorer(), error: damage)
        XCTAssertThrowsError(try predictor.predict(Self.item)) { XCTAssertTrue("\($0)".contains("checksum mismatch"), "\($0)") }
    }

    /// Errors while cutting or decoding tiles are filed under the stage they belong to.
    func testStagesOfTileErrors() {
        XCTAssertEqual(SlideFailure.stage(of: TesseraError.invalidInput(path: "x", message: "m", hint: "h")), .decode)
        XCTAssertEqual(SlideFailure.stage(of: CocoaError(.fileReadUnknown)), .read)
    }

    /// The heatmap of a slide whose file cannot be read is drawn on white, at the asked size,
    /// under PRED/heatmaps/<slide>.jpg.
    func testHeatmapWithoutItsSlideIsDrawnOnWhiteAtTheAskedSize() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("heatmap-writer-\(getpid())")
        defer { try? FileManager.default.removeItem(at: output) }
        try FileManager.default.createDirectory(at: PredictionLayout.Folder.heatmaps.url(in: output), withIntermediateDirectories: true)
        let tiles = TileScores(classes: 2, x: [0], y: [0], probabilities: [1, 0])
        let drawing = SlidePlacement(width: 2000, height: 1000, tileSpan: 500, slidePath: nil)
        let row = SlidePrediction.predicted(slideID: "S 1", patientID: "P", label: nil, aggregate: tiles.aggregate)
        var placement = drawing
        placement.slidePath = "/nowhere/S 1.svs"
        try HeatmapWriter(output: output, maxSide: 200).write(placement, tiles: tiles, prediction: row, classes: ["A", "B"])
        let image = try JPEGDecoder().decode([UInt8](try Data(contentsOf: PredictionLayout.heatmapURL(output, slideID: "S 1"))))
        XCTAssertEqual(image.width, 200)
        XCTAssertGreaterThan(image.height, 100, "the map and its legend strip")
        // Far from the one tile (top left, 50 px square): white, within JPEG's error.
        let corner = image.pixels[(99 * image.width + image.width - 1) * 3]
        XCTAssertGreaterThan(corner, 245)
    }
}
