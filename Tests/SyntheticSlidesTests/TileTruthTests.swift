import Foundation
import XCTest

@testable import SyntheticSlides

/// A tile's true composition against hand-worked cases.
final class TileTruthTests: XCTestCase {
    /// Tissue: the square (0,0)–(1000,1000). Tumour (LUAD): its left half. Necrosis over the tumour
    /// (125,0)–(250,1000). A pen stroke: the top quarter, over tissue and glass (0,0)–(2000,250).
    private let geoJSON = """
        {"type":"FeatureCollection","properties":{"slide_id":"S1","width":2000,"height":1000},"features":[
        {"type":"Feature","properties":{"kind":"tissue"},"geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1000,0],[1000,1000],[0,1000],[0,0]]]]}},
        {"type":"Feature","properties":{"kind":"tumour_luad"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[500,0],[500,1000],[0,1000],[0,0]]]}},
        {"type":"Feature","properties":{"kind":"necrosis"},"geometry":{"type":"Polygon","coordinates":[[[125,0],[250,0],[250,1000],[125,1000],[125,0]]]}},
        {"type":"Feature","properties":{"kind":"pen","colour":"blue"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[2000,0],[2000,250],[0,250],[0,0]]]}}
        ]}
        """

    private func truth() throws -> SlideTruth {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tile-truth-\(UUID().uuidString).geojson")
        defer { try? FileManager.default.removeItem(at: url) }
        try geoJSON.write(to: url, atomically: true, encoding: .utf8)
        return try SlideTruth.read(url)
    }

    func testHandWorkedTiles() throws {
        let t = try truth()
        // (x, y, side): tissue, tumour and artefact fractions, label; all of the slide labelled LUAD.
        let cases: [(x: Int, y: Int, size: Int, fractions: [Double], label: String, why: String)] = [
            // The whole tissue square on a 32 × 32 grid (points every 31.25 px): tissue 1; tumour = the
            // 16 left columns minus the 4 of the necrosis band = 12/32; pen 8 rows of 32.
            (0, 0, 1000, [1, 0.375, 0.25], "normal", "tumour 0.375 < half of the tissue"),
            // Tumour is x 250–500 of 250–750: half; no pen.
            (250, 500, 500, [1, 0.5, 0], "LUAD", "half tumour"),
            // Straddling the tissue's right edge: tissue half, no tumour.
            (750, 500, 500, [0.5, 0, 0], "normal", "tissue edge"),
            (1200, 0, 250, [0, 0, 1], "artefact", "on glass, wholly under the pen"),
            (1200, 500, 400, [0, 0, 0], "glass", "bare glass, away from every region"),
        ]
        for c in cases {
            let tile = TileTruth(truth: t, x: c.x, y: c.y, size: c.size, tumourLabel: "LUAD")
            XCTAssertEqual([tile.tissueFraction, tile.tumourFraction, tile.artefactFraction], c.fractions, c.why)
            XCTAssertEqual(tile.label, c.label, c.why)
        }
        // The same tumour tile on a slide labelled normal is never called tumour.
        XCTAssertEqual(TileTruth(truth: t, x: 250, y: 500, size: 500, tumourLabel: "normal").label, "normal")
    }

    func testTheTableSizesTilesByTheSlidesRecordedResolution() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tile-truth-cohort-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("truth"), withIntermediateDirectories: true)
        try geoJSON.write(to: dir.appendingPathComponent("truth/S1.geojson"), atomically: true, encoding: .utf8)
        try (TruthTable.header + "S1,P1,44,LUAD,0,0.4000,0.4000,0.25,0.25,40,80,0.5,pen\n"
             + "S2,P2,44,LUSC,0,0.4000,0.4000,0.5,,20,80,0.5,\n")
            .write(to: dir.appendingPathComponent("truth.csv"), atomically: true, encoding: .utf8)
        try geoJSON.replacingOccurrences(of: "tumour_luad", with: "tumour_lusc")
            .write(to: dir.appendingPathComponent("truth/S2.geojson"), atomically: true, encoding: .utf8)
        let table = TileTruthTable(cohort: dir, tileSize: 125, micronsPerPixel: 1.0, assumeMPP: 0.25)
        // 125 px at 1 µm = 500 level-0 px at 0.25 µm/px (S1 records it; S2 records none: assumed 0.25).
        let out = try table.compute(tilesCSV: "slide_id,x,y,p_LUAD\nS1,250,500,0.9\nS2,250,500,0.1\nS1,0,0,0.5\n", tilesPath: "tiles.csv")
        XCTAssertEqual(out, TileTruthTable.header
            + "S1,250,500,500,1.0000,0.5000,0.0000,LUAD\nS2,250,500,500,1.0000,0.5000,0.0000,LUSC\nS1,0,0,500,1.0000,0.7500,0.5000,artefact\n")
        // A size column wins.
        let sized = try table.compute(tilesCSV: "slide_id,x,y,size\nS1,0,0,1000\n", tilesPath: "tiles.csv")
        XCTAssertTrue(sized.hasSuffix("S1,0,0,1000,1.0000,0.3750,0.2500,normal\n"), sized)
        // Unknown slides and bad rows name the file and line.
        XCTAssertThrowsError(try table.compute(tilesCSV: "slide_id,x,y\nS9,0,0\n", tilesPath: "t.csv")) { error in
            XCTAssertTrue("\(error)".contains("t.csv: line 2: slide S9"), "\(error)")
        }
        XCTAssertThrowsError(try table.compute(tilesCSV: "slide,x,y\n", tilesPath: "t.csv")) { error in
            XCTAssertTrue("\(error)".contains("no slide_id"), "\(error)")
        }
    }

    func testPolygonsWithHolesAndSpans() {
        let ring = RegionPolygon.annulus(cx: 500, cy: 500, radius: 200, width: 40, wobble: 0, seed: 1)
        XCTAssertTrue(ring.contains(x: 700, y: 500))
        XCTAssertFalse(ring.contains(x: 500, y: 500), "the hole")
        XCTAssertFalse(ring.contains(x: 760, y: 500))
        XCTAssertEqual(ring.spans(y: 500).count, 2)
        let square = RegionPolygon.rectangle(x: 10, y: 10, width: 20, height: 20)
        var cells: [Int] = []
        RegionRaster.forEachCell(of: square, cell: 8, columns: 10, rows: 10) { cells.append($0) }
        // Cell centres 12, 20, 28 lie in [10, 30): columns and rows 1...3.
        XCTAssertEqual(cells, [11, 12, 13, 21, 22, 23, 31, 32, 33])
    }
}
