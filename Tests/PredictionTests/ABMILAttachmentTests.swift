import Foundation
import Model
import Pictures
import TesseraCore
import Tiling
import XCTest

@testable import Prediction

/// A MIL run's predictions beside the tile aggregators: the columns, the patient rule, the report's
/// metrics, the attention heatmap and the GeoJSON alignment, against hand-computed values.
final class ABMILAttachmentTests: XCTestCase {
    let classes = ["LUAD", "LUSC"]

    func aggregate(_ p: [Float], abmil: [Double]?) -> SlideAggregate {
        var a = SlideAggregator.aggregate(probabilities: p, classes: 2)
        a.abmilProbabilities = abmil
        return a
    }

    func testColumnsAreNamedByAggregatorAndReadBack() throws {
        let header = SlidePrediction.header(classes: classes, abmil: true)
        XCTAssertEqual(Array(header[header.firstIndex(of: "predicted_by_above_threshold")! + 1..<header.count - 2]),
                       ["abmil_p_LUAD", "abmil_p_LUSC", "predicted_by_abmil"])
        XCTAssertFalse(SlidePrediction.header(classes: classes).contains("predicted_by_abmil"), "no ABMIL columns without a MIL run")
        var row = SlidePrediction.predicted(slideID: "s1", patientID: "p1", label: "LUSC", aggregate: aggregate([0.8, 0.2, 0.6, 0.4], abmil: [0.25, 0.75]))
        let f = row.fields(classes: classes, abmil: true)
        XCTAssertEqual(f[header.firstIndex(of: "abmil_p_LUSC")!], "0.75")
        XCTAssertEqual(f[header.firstIndex(of: "predicted_by_abmil")!], "LUSC", "ABMIL disagrees with the mean (LUAD)")
        XCTAssertEqual(f[header.firstIndex(of: "predicted_by_mean")!], "LUAD")
        XCTAssertEqual(try SlidePrediction(fields: f, classes: classes), row, "read back bit for bit")
        // A slide the MIL model did not predict: empty ABMIL fields, read back as none.
        row.aggregate!.abmilProbabilities = nil
        let empty = row.fields(classes: classes, abmil: true)
        XCTAssertEqual(empty[header.firstIndex(of: "predicted_by_abmil")!], "")
        XCTAssertEqual(try SlidePrediction(fields: empty, classes: classes), row)
        XCTAssertEqual(PatientPrediction.header(classes: classes, abmil: true).suffix(5), ["abmil_p_LUAD", "abmil_p_LUSC", "predicted_by_abmil", "status", "message"])
    }

    func testPatientABMILIsTheMeanOfItsSlides() {
        let a = aggregate([0.9, 0.1], abmil: [0.9, 0.1]), b = aggregate([0.2, 0.8, 0.3, 0.7], abmil: [0.3, 0.7])
        let c = aggregate([0.5, 0.5], abmil: nil)
        let pooled = SlideAggregator.combine([a, b, c], classes: 2)
        XCTAssertEqual(pooled.abmilProbabilities![0], 0.6, accuracy: 1e-12, "(0.9 + 0.3) / 2: the slide without one is left out")
        XCTAssertEqual(pooled.abmilProbabilities![1], 0.4, accuracy: 1e-12)
        XCTAssertEqual(pooled.predicted(by: .abmil), 0)
        XCTAssertNil(SlideAggregator.combine([c], classes: 2).abmilProbabilities)
    }

    func testReportGivesABMILBesideTheOtherAggregators() throws {
        // Four labelled slides; ABMIL predicts three of them, two correctly. Mean gets all four right.
        let rows: [(String, String, [Float], [Double]?)] = [
            ("a", "LUAD", [0.9, 0.1], [0.8, 0.2]), ("b", "LUSC", [0.1, 0.9], [0.3, 0.7]),
            ("c", "LUAD", [0.7, 0.3], [0.4, 0.6]), ("d", "LUSC", [0.2, 0.8], nil),
        ]
        let slides = rows.map { SlidePrediction.predicted(slideID: $0.0, patientID: $0.0, label: $0.1, aggregate: aggregate($0.2, abmil: $0.3)) }
        let patients = PatientAggregator.aggregate(slides, classes: 2)
        let tiles = Dictionary(uniqueKeysWithValues: rows.map { ($0.0, TileScores(classes: 2, x: [0], y: [0], probabilities: $0.2)) })
        let model = PredictionReport.Model(path: "m", architecture: "refnet-s", inputSize: 32, tiling: .init(tileSize: 128, target: .level(0), jpegQuality: 90))
        let report = PredictionReport.build(model: model, source: "test", classes: classes, slides: slides, patients: patients, tiles: tiles,
                                            bootstrap: .init(resamples: 20, seed: 1), created: "now")
        XCTAssertEqual(report.slide.meanProbability?.count, 4)
        XCTAssertEqual(report.slide.meanProbability?.accuracy, 1)
        XCTAssertEqual(report.slide.abmil?.count, 3, "only the slides with an ABMIL prediction")
        XCTAssertEqual(report.slide.abmil?.accuracy ?? 0, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(report.slide.abmil?.confusion, [[1, 1], [0, 1]])
        XCTAssertEqual(report.counts.slidesPredictedByAbmil, 3)
        XCTAssertEqual(report.summary.slideAccuracyAbmil ?? 0, 2.0 / 3, accuracy: 1e-12)
        let json = try JSONSerialization.jsonObject(with: try report.json()) as! [String: Any]
        XCTAssertNotNil((json["slide"] as! [String: Any])["abmil"])
        XCTAssertNotNil((json["patient"] as! [String: Any])["abmil"])
        XCTAssertEqual((json["summary"] as! [String: Any])["slide_accuracy_abmil"] as? Double ?? 0, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual((json["counts"] as! [String: Any])["slides_predicted_by_abmil"] as? Int, 3)
        XCTAssertEqual(try PredictionReport.decode(try report.json()).slide.abmil, report.slide.abmil, "report.json reads back")
        XCTAssertTrue(report.markdown().contains("Slides, by gated attention MIL"))

        // Without a MIL run: no abmil metrics, the summary's ABMIL keys null.
        let plain = PredictionReport.build(model: model, source: "test", classes: classes, slides: slides.map { s in
            var t = s
            t.aggregate!.abmilProbabilities = nil
            return t
        }, patients: patients, tiles: tiles, bootstrap: .init(resamples: 20, seed: 1), created: "now")
        XCTAssertNil(plain.slide.abmil)
        let plainJSON = try JSONSerialization.jsonObject(with: try plain.json()) as! [String: Any]
        XCTAssertTrue((plainJSON["summary"] as! [String: Any])["slide_accuracy_abmil"] is NSNull)
    }

    func testAttentionHeatmapPaintsTheTopTileInTheBarsTopColourWithALegend() {
        // A 1000×500 slide drawn 100×50; tiles of 100 level-0 pixels are 10×10 pixels.
        let d = SlidePlacement(width: 1000, height: 500, tileSpan: 100, slidePath: nil, resolution: ScanResolution(mpp: 0.5, source: .recorded))
        let attention = MILOutputs.Attention(x: [0, 500, 800], y: [0, 200, 400], weights: [0.1, 0.6, 0.3])
        let background = RGBImage(width: 100, height: 50)
        let image = AttentionHeatmap.picture(d, background: background, attention: attention, slideID: "s1", verdict: "predicted LUAD")
        XCTAssertEqual(image.width, 100)
        XCTAssertGreaterThan(image.height, 50, "a legend strip below the map")
        func expected(_ v: Double) -> RGB {
            let c = AttentionHeatmap.colour(v), a = AttentionHeatmap.opacity(v)
            return (Heatmap.blend(255, c.0, a), Heatmap.blend(255, c.1, a), Heatmap.blend(255, c.2, a))
        }
        let top = image.pixel(x: 55, y: 25)
        let want = expected(1)
        XCTAssertEqual([top.0, top.1, top.2], [want.0, want.1, want.2], "the most attended tile: the bar's top colour at opacity 0.5")
        XCTAssertEqual([want.0, want.1, want.2], [Heatmap.blend(255, 253, 0.5), Heatmap.blend(255, 231, 0.5), Heatmap.blend(255, 37, 0.5)],
                       "the bar's top is the ramp's last anchor (yellow)")
        let low = image.pixel(x: 5, y: 5), lowWant = expected(0.1 / 0.6)
        XCTAssertEqual([low.0, low.1, low.2], [lowWant.0, lowWant.1, lowWant.2])
        XCTAssertEqual([image.pixel(x: 30, y: 45).0, image.pixel(x: 30, y: 45).1], [255, 255], "no tile there: the background")
        // The legend differs from a legend-less render (white), and holds the colour bar's top colour.
        var legendPixels: [RGB] = []
        for y in 50..<image.height { for x in 0..<image.width { legendPixels.append(image.pixel(x: x, y: y)) } }
        XCTAssertTrue(legendPixels.contains { $0 != (255, 255, 255) }, "the legend strip is drawn")
        // The bar's end columns carry its frame; the column next to each end is one step (1/91 of the
        // ramp, at most 7 per channel) from the end colour.
        func distance(_ p: RGB, _ q: RGB) -> Int { max(abs(Int(p.0) - Int(q.0)), abs(Int(p.1) - Int(q.1)), abs(Int(p.2) - Int(q.2))) }
        XCTAssertLessThanOrEqual(legendPixels.map { distance($0, AttentionHeatmap.colour(1)) }.min()!, 8, "the colour bar reaches the top colour")
        XCTAssertLessThanOrEqual(legendPixels.map { distance($0, AttentionHeatmap.colour(0)) }.min()!, 8, "and starts at the bottom colour")
    }

    func testRampIsMonotoneInBrightnessAndClamped() {
        let luminance = stride(from: 0.0, through: 1.0, by: 0.05).map { v -> Double in
            let c = AttentionHeatmap.colour(v)
            return 0.2126 * Double(c.0) + 0.7152 * Double(c.1) + 0.0722 * Double(c.2)
        }
        XCTAssertEqual(luminance, luminance.sorted(), "brighter with more attention (readable in grey)")
        XCTAssertTrue(AttentionHeatmap.colour(2) == AttentionHeatmap.colour(1) && AttentionHeatmap.colour(-1) == AttentionHeatmap.colour(0))
        XCTAssertEqual(AttentionHeatmap.opacity(0), 0.15, accuracy: 1e-12)
    }

    func testAttentionIsAlignedToTheTilesByPosition() {
        let tiles = TileScores(classes: 2, x: [256, 0, 128], y: [0, 0, 128], probabilities: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
        let a = MILOutputs.Attention(x: [0, 128, 256], y: [0, 128, 0], weights: [0.2, 0.3, 0.5])
        XCTAssertEqual(MILAttachment.aligned(a, to: tiles), [0.5, 0.2, 0.3])
        XCTAssertNil(MILAttachment.aligned(MILOutputs.Attention(x: [0, 128, 999], y: [0, 128, 0], weights: [0.2, 0.3, 0.5]), to: tiles),
                     "a tile without a weight: none")
        let doc = QuPathGeoJSON.document(tiles: tiles, classes: classes, tileWidth: 128, tileHeight: 128,
                                         extraMeasurements: [.init(name: "abmil_attention", values: [0.5, 0.2, 0.3])])
        XCTAssertTrue(doc.contains(#""p_LUSC":0.5,"abmil_attention":0.2"#), "the second tile's measurements")
    }
}
