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
}
