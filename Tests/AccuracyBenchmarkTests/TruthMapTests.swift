import AccuracyBenchmark
import Foundation
import JPEG
import Pictures
import Prediction
import SyntheticSlides
import TesseraCore
import XCTest

/// The ground-truth map drawn beside a heatmap: colours at known places of a hand-made truth, the
/// whole map against a naive point-by-point reference, and the side-by-side picture's halves.
final class TruthMapTests: XCTestCase {
    let classes = ["LUAD", "LUSC", "normal"]

    /// A 400 × 200 slide: tissue on its left 301.3 pixels, a LUAD rectangle in it, a pen stroke
    /// over its right edge, a stroma triangle.
    func handMadeTruth() -> SlideTruth {
        SlideTruth(slideID: "S1", width: 400, height: 200, regions: [
            TruthRegion(kind: .tissue, polygon: .rectangle(x: 0, y: 0, width: 301.3, height: 200)),
            TruthRegion(kind: .tumourLUAD, polygon: .rectangle(x: 100.7, y: 50.2, width: 100, height: 100)),
            TruthRegion(kind: .stroma, polygon: RegionPolygon(rings: [[.init(10.1, 190.3), .init(90.2, 190.3), .init(50.4, 120.7)]])),
            TruthRegion(kind: .pen, polygon: .rectangle(x: 250.6, y: 0, width: 40.2, height: 200)),
        ])
    }

    func testPixelsAtKnownPlacesHaveTheirKindsColour() {
        let (image, kinds) = TruthMap.render(handMadeTruth(), classes: classes, width: 200, height: 100)
        // Pixel (x, y) shows level-0 point (2x + 1, 2y + 1).
        XCTAssertTrue(image.pixel(x: 10, y: 10) == Heatmap.colour(ofClass: 2), "normal lung in the class colour of normal")
        XCTAssertTrue(image.pixel(x: 75, y: 50) == Heatmap.colour(ofClass: 0), "LUAD in the class colour of LUAD")
        XCTAssertTrue(image.pixel(x: 180, y: 50) == TruthMap.glass, "glass right of the tissue")
        XCTAssertTrue(image.pixel(x: 25, y: 90) == TruthMap.colour(of: .stroma, classes: classes), "stroma inside the triangle")
        // The pen stroke (level-0 x 250.6–290.8: pixels 125–144) striped over the normal lung.
        let pen = TruthMap.colour(of: .pen, classes: classes)
        XCTAssertTrue(image.pixel(x: 130, y: 50) == pen, "(130 + 50) % 4 = 0: a stripe")
        XCTAssertTrue(image.pixel(x: 131, y: 50) == pen, "(131 + 50) % 4 = 1: a stripe")
        XCTAssertTrue(image.pixel(x: 132, y: 50) == Heatmap.colour(ofClass: 2), "(132 + 50) % 4 = 2: the tissue under the pen")
        XCTAssertEqual(kinds, [.normal, .stroma, .tumourLUAD, .pen, nil], "the kinds shown, in RegionKind order, glass last")
    }

    /// Every pixel of the scan-line map against `SlideTruth.composition` at its centre.
    func testMapMatchesNaivePointTests() {
        let truth = handMadeTruth()
        let (w, h) = (57, 31)
        let (image, _) = TruthMap.render(truth, classes: classes, width: w, height: h)
        var mismatches = 0
        for y in 0..<h {
            for x in 0..<w {
                let px = (Double(x) + 0.5) * 400 / Double(w), py = (Double(y) + 0.5) * 200 / Double(h)
                let (kind, artefact) = truth.composition(x: px, y: py)
                var expected = TruthMap.colour(of: kind, classes: classes)
                if artefact && (x + y) % 4 < 2 { expected = TruthMap.colour(of: .pen, classes: classes) }
                if !(image.pixel(x: x, y: y) == expected) { mismatches += 1 }
            }
        }
        XCTAssertEqual(mismatches, 0, "pixels differing from the point-by-point reference, of \(w * h)")
    }

    func testSideBySidePictureHasBothHalves() throws {
        let heatmap = RGBImage(width: 200, height: 150, fill: (90, 91, 92))
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("truth-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: csv) }
        try (TruthTable.header + "S1,P1,05,LUAD,0,0.3,0.25,0.5,0.5,20,90,0.6,pen\n").write(to: csv, atomically: true, encoding: .utf8)
        let row = try TruthTable.read(csv)[0]
        let truth = handMadeTruth()
        let picture = TruthMapComparison.picture(heatmap: heatmap, truth: truth, row: row, classes: classes)
        let map = TruthMap.render(truth, classes: classes, width: 200, height: 100).image
        XCTAssertEqual(picture.width, 200 + 16 + 200)
        XCTAssertGreaterThan(picture.height, 100, "the truth map's legend lies below it")
        XCTAssertTrue(picture.pixel(x: 5, y: 5) == (90, 91, 92), "left: the heatmap")
        XCTAssertTrue(picture.pixel(x: 208, y: 5) == (255, 255, 255), "the gap")
        for (x, y) in [(10, 10), (75, 50), (130, 50), (180, 50)] {
            XCTAssertTrue(picture.pixel(x: 216 + x, y: y) == map.pixel(x: x, y: y), "right: the truth map at (\(x), \(y))")
        }
        XCTAssertTrue(picture.pixel(x: 5, y: 149) == (90, 91, 92), "the heatmap keeps its full height")
    }

    /// One picture per label from files: the first slide by id of each label with both a heatmap
    /// and a truth file; a slide without a heatmap is passed over.
    func testWritesOnePicturePerLabelFromFiles() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("truth-map-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let predictions = root.appendingPathComponent("predictions"), cohort = root.appendingPathComponent("cohort")
        try FileManager.default.createDirectory(at: predictions.appendingPathComponent("heatmaps"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: cohort.appendingPathComponent("truth"), withIntermediateDirectories: true)
        let geojson = """
            {"type":"FeatureCollection","properties":{"slide_id":"X","width":400,"height":200},"features":[
            {"type":"Feature","properties":{"kind":"tissue"},"geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[300,0],[300,200],[0,200],[0,0]]]]}},
            {"type":"Feature","properties":{"kind":"tumour_lusc"},"geometry":{"type":"Polygon","coordinates":[[[100,50],[200,50],[200,150],[100,150],[100,50]]]}}]}
            """
        var csv = TruthTable.header
        for (id, label) in [("A", "LUSC"), ("B", "LUSC"), ("C", "normal"), ("D", "normal")] {
            csv += "\(id),P\(id),05,\(label),0,0.3,0.3,0.5,0.5,20,90,0.6,\n"
            try geojson.write(to: cohort.appendingPathComponent("truth/\(id).geojson"), atomically: true, encoding: .utf8)
            guard id != "C" else { continue }
            let heatmap = RGBImage(width: 100, height: 60, fill: (40, 40, 40))
            try Data(try JPEGEncoder(quality: 95).encode(heatmap)).write(to: PredictionLayout.heatmapURL(predictions, slideID: id))
        }
        try csv.write(to: cohort.appendingPathComponent("truth.csv"), atomically: true, encoding: .utf8)
        let rows = try TruthTable.read(cohort.appendingPathComponent("truth.csv"))
        let written = try TruthMapComparison.write(predictions: predictions, cohort: cohort, rows: rows, classes: classes, out: root)
        XCTAssertEqual(written, ["truth-maps/A.jpg", "truth-maps/D.jpg"])
        let picture = try JPEGDecoder().decode([UInt8](try Data(contentsOf: root.appendingPathComponent("truth-maps/A.jpg"))))
        XCTAssertEqual(picture.width, 100 + 16 + 100)
        // Right half, slide point (150, 100): LUSC, in the class colour of LUSC (JPEG: within 40 per channel).
        let p = picture.pixel(x: 116 + 37, y: 25), lusc = Heatmap.colour(ofClass: 1)
        let diff = max(abs(Int(p.0) - Int(lusc.0)), abs(Int(p.1) - Int(lusc.1)), abs(Int(p.2) - Int(lusc.2)))
        XCTAssertLessThanOrEqual(diff, 40, "LUSC colour \(lusc), drawn \(p)")
        let left = picture.pixel(x: 50, y: 30)
        XCTAssertLessThanOrEqual(abs(Int(left.0) - 40), 6, "left: the heatmap's grey")
    }
}
