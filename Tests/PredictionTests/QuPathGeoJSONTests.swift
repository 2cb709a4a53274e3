import Foundation
import Prediction
import XCTest

/// The GeoJSON that QuPath imports: one tile a feature, its polygon, class and measurements.
final class QuPathGeoJSONTests: XCTestCase {
    func testEveryTileIsAFeatureWithItsPolygonClassAndMeasurements() throws {
        let tiles = TileScores(classes: 2, x: [0, 512], y: [256, 256], probabilities: [0.25, 0.75, 0.875, 0.125])
        let text = QuPathGeoJSON.document(tiles: tiles, classes: ["LUAD", "LU\"SC"], tileWidth: 512, tileHeight: 512,
                                          extraMeasurements: [.init(name: "attention", values: [0.5, 0.0000125])])
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(json["type"] as? String, "FeatureCollection")
        let features = try XCTUnwrap(json["features"] as? [[String: Any]])
        XCTAssertEqual(features.count, 2)
        let geometry = try XCTUnwrap(features[1]["geometry"] as? [String: Any])
        XCTAssertEqual(geometry["type"] as? String, "Polygon")
        XCTAssertEqual(geometry["coordinates"] as? [[[Int]]], [[[512, 256], [1024, 256], [1024, 768], [512, 768], [512, 256]]])
        let p0 = try XCTUnwrap(features[0]["properties"] as? [String: Any]), p1 = try XCTUnwrap(features[1]["properties"] as? [String: Any])
        XCTAssertEqual(p0["objectType"] as? String, "tile")
        let c0 = try XCTUnwrap(p0["classification"] as? [String: Any]), c1 = try XCTUnwrap(p1["classification"] as? [String: Any])
        XCTAssertEqual(c0["name"] as? String, "LU\"SC")
        XCTAssertEqual(c0["color"] as? [Int], [0x00, 0x72, 0xB2])
        XCTAssertEqual(c1["name"] as? String, "LUAD")
        XCTAssertEqual(c1["color"] as? [Int], [0xD5, 0x5E, 0x00])
        XCTAssertEqual(p0["measurements"] as? [String: Double], ["p_LUAD": 0.25, "p_LU\"SC": 0.75, "attention": 0.5])
        XCTAssertEqual(p1["measurements"] as? [String: Double], ["p_LUAD": 0.875, "p_LU\"SC": 0.125, "attention": 0.0000125])
        XCTAssertFalse(text.contains("e-"), "plain decimals")
        // No tiles: an empty collection, still valid.
        let empty = QuPathGeoJSON.document(tiles: TileScores(classes: 2), classes: ["A", "B"], tileWidth: 1, tileHeight: 1)
        XCTAssertEqual(((try JSONSerialization.jsonObject(with: Data(empty.utf8)) as? [String: Any])?["features"] as? [Any])?.count, 0)
    }

    /// Tiles at (0,0), (100,0), (300,0), (0,100), extent 100: runs [0,200)×[0,100), [300,400)×[0,100), [0,100)×[100,200).
    func testTissueOutlineMergesRowRunsAndCoversEveryTile() throws {
        let x = [100, 0, 300, 0], y = [0, 0, 0, 100]
        let outline = TissueOutline(x: x, y: y, extent: 100, source: "tiles")
        XCTAssertEqual(outline.runs, [.init(x0: 0, y0: 0, x1: 200, y1: 100), .init(x0: 300, y0: 0, x1: 400, y1: 100),
                                      .init(x0: 0, y0: 100, x1: 100, y1: 200)])
        let tiles = TileScores(classes: 2, x: x, y: y, probabilities: [0.9, 0.1, 0.8, 0.2, 0.3, 0.7, 0.6, 0.4])
        let text = QuPathGeoJSON.document(tiles: tiles, classes: ["A", "B"], tileWidth: 100, tileHeight: 100, outline: outline)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let features = try XCTUnwrap(json["features"] as? [[String: Any]])
        XCTAssertEqual(features.count, 5, "four tiles, then the outline")
        let properties = try XCTUnwrap(features[4]["properties"] as? [String: Any])
        XCTAssertEqual(properties["objectType"] as? String, "annotation")
        XCTAssertEqual((properties["classification"] as? [String: Any])?["name"] as? String, "Tissue")
        let geometry = try XCTUnwrap(features[4]["geometry"] as? [String: Any])
        XCTAssertEqual(geometry["type"] as? String, "MultiPolygon")
        let polygons = try XCTUnwrap(geometry["coordinates"] as? [[[[Int]]]])
        XCTAssertEqual(polygons.count, 3)
        for ring in polygons.map({ $0[0] }) {
            XCTAssertEqual(ring.count, 5)
            XCTAssertEqual(ring.first, ring.last, "closed rings")
        }
        // Every tile's polygon lies inside one rectangle of the outline.
        for t in 0..<tiles.count {
            let covered = polygons.contains { p in
                let xs = p[0].map { $0[0] }, ys = p[0].map { $0[1] }
                return xs.min()! <= x[t] && x[t] + 100 <= xs.max()! && ys.min()! <= y[t] && y[t] + 100 <= ys.max()!
            }
            XCTAssertTrue(covered, "tile \(x[t]),\(y[t])")
        }
    }

    /// The tiler's QC table: every position but background is tissue (QC-dropped tiles included).
    func testTissueOutlineFromQCTableKeepsAllButBackground() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("qc-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: url) }
        try "x,y,decision,ink_fraction,focus\n0,0,kept,,\n50,0,pen,0.2,\n100,0,background,,\n150,0,blur,,3\n".write(to: url, atomically: true, encoding: .utf8)
        let outline = try XCTUnwrap(TissueOutline.fromQCTable(url, extent: 50))
        XCTAssertEqual(outline.runs, [.init(x0: 0, y0: 0, x1: 100, y1: 50), .init(x0: 150, y0: 0, x1: 200, y1: 50)])
        XCTAssertNil(TissueOutline.fromQCTable(url.appendingPathExtension("missing"), extent: 50))
        XCTAssertNil(TissueOutline(x: [], y: [], extent: 50, source: "none").feature, "no tissue, no feature")
    }
}
