import Foundation
import Stain
import TesseraCore
import Tiling
import XCTest

@testable import Prediction

/// report.json's stain normalisation counts: per slide and summed in the summary; null without
/// stain normalisation; read back.
final class StainCountsReportTests: XCTestCase {
    let classes = ["LUAD", "LUSC"]

    func report(stain: [SlideStainCounts]?) -> PredictionReport {
        let rows: [(String, [Float])] = [("a", [0.9, 0.1, 0.6, 0.4]), ("b", [0.2, 0.8])]
        let slides = rows.map { SlidePrediction.predicted(slideID: $0.0, patientID: $0.0, label: "LUAD",
                                                         aggregate: SlideAggregator.aggregate(probabilities: $0.1, classes: 2)) }
        let tiles = Dictionary(uniqueKeysWithValues: rows.map { r in
            (r.0, TileScores(classes: 2, x: [Int](repeating: 0, count: r.1.count / 2), y: [Int](repeating: 0, count: r.1.count / 2), probabilities: r.1))
        })
        var model = PredictionReport.Model(path: "m", architecture: "refnet-s", inputSize: 32, tiling: .init(tileSize: 128, target: .level(0), jpegQuality: 90))
        model.stainNormalization = stain == nil ? nil : .builtIn(.macenko)
        return PredictionReport.build(model: model, source: "test", classes: classes, slides: slides,
                                      patients: PatientAggregator.aggregate(slides, classes: 2), tiles: tiles, stain: stain,
                                      bootstrap: .init(resamples: 0, seed: 1), created: "now")
    }

    func testCountsPerSlideAndSummedInTheSummary() throws {
        // From a normaliser's counts: slide a saw 2 tiles and fell back on 1, slide b saw 1 and normalised it.
        let counts = [SlideStainCounts(slideID: "a", tiles: 2, fallbacks: 1), SlideStainCounts(slideID: "b", tiles: 1, fallbacks: 0)]
        XCTAssertEqual(counts[0], SlideStainCounts(slideID: "a", normalizedTiles: 1, unnormalizedTiles: 1))
        let r = report(stain: counts)
        XCTAssertEqual(r.summary.stainNormalizedTiles, 2)
        XCTAssertEqual(r.summary.stainUnnormalizedTiles, 1)
        let json = try JSONSerialization.jsonObject(with: try r.json()) as! [String: Any]
        let summary = json["summary"] as! [String: Any]
        XCTAssertEqual(summary["stain_normalized_tiles"] as? Int, 2)
        XCTAssertEqual(summary["stain_unnormalized_tiles"] as? Int, 1)
        let bySlide = try XCTUnwrap(json["stain_tiles_by_slide"] as? [[String: Any]])
        XCTAssertEqual(bySlide.map { $0["slide_id"] as? String }, ["a", "b"])
        XCTAssertEqual(bySlide.map { $0["normalized_tiles"] as? Int }, [1, 1])
        XCTAssertEqual(bySlide.map { $0["unnormalized_tiles"] as? Int }, [1, 0])
        XCTAssertEqual(try PredictionReport.decode(try r.json()), r, "report.json reads back")
        XCTAssertTrue(r.markdown().contains("| tiles left as they were (too little tissue for a stain fit) | 1 |"))
    }

    func testWithoutStainNormalizationTheKeysAreNull() throws {
        let r = report(stain: nil)
        let json = try JSONSerialization.jsonObject(with: try r.json()) as! [String: Any]
        XCTAssertTrue(json["stain_tiles_by_slide"] is NSNull)
        let summary = json["summary"] as! [String: Any]
        XCTAssertTrue(summary["stain_normalized_tiles"] is NSNull)
        XCTAssertTrue(summary["stain_unnormalized_tiles"] is NSNull)
        XCTAssertFalse(r.markdown().contains("stain-normalised"))
        // A report written before the counts existed (no such keys) reads back with them nil.
        var old = json
        old.removeValue(forKey: "stain_tiles_by_slide")
        var oldSummary = summary
        oldSummary.removeValue(forKey: "stain_normalized_tiles")
        oldSummary.removeValue(forKey: "stain_unnormalized_tiles")
        old["summary"] = oldSummary
        let decoded = try PredictionReport.decode(try JSONSerialization.data(withJSONObject: old))
        XCTAssertNil(decoded.stainTilesBySlide)
        XCTAssertNil(decoded.summary.stainUnnormalizedTiles)
    }
}
