import Foundation
import TesseraCore
import TesseraTestSupport
import XCTest

/// The QuPath round trip, end to end: a two-task run's GeoJSON files against its merged tiles.csv,
/// and the slides' resolution and file in slides.csv.
extension PredictorEndToEndTests {
    func testGeoJSONHoldsEveryTileOfTilesCSVWithItsPolygon() throws {
        let f = try PredictionFixture.shared()
        let out = try TestEnvironment.temporaryDirectory(self, "predict-qupath").appendingPathComponent("pred")
        let common = ["--model", f.model.path, "--manifest", f.testManifest.path, "--assume-mpp", "0.5", "--out", out.path,
                      "--tile-scores", "--geojson", "--shards", "2"]
        for shard in ["0", "1"] {
            let r = try predict(common + ["--shard", shard])
            XCTAssertEqual(r.status, 0, r.output)
        }
        XCTAssertEqual(try merge(["--out", out.path]).status, 0)

        let slides = try CSVTable(out.appendingPathComponent("slides.csv"))
        let manifest = Dictionary(uniqueKeysWithValues: try CSVTable(f.testManifest).rows.map { ($0[1], $0[0]) })
        let tiles = try CSVTable(out.appendingPathComponent("tiles.csv"))
        let classes = tiles.header.dropFirst(5).map { String($0.dropFirst(2)) }
        var checked = 0
        for row in slides.rows {
            let id = row[0]
            XCTAssertEqual(slides.value(row, "slide_path"), manifest[id], id)
            XCTAssertTrue(["recorded", "magnification", "assumed"].contains(slides.value(row, "mpp_source")), "\(id): \(row)")
            XCTAssertGreaterThan(try XCTUnwrap(Double(slides.value(row, "mpp"))), 0)

            let url = out.appendingPathComponent("geojson/\(id).geojson")
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any], url.path)
            XCTAssertEqual(json["type"] as? String, "FeatureCollection")
            let all = try XCTUnwrap(json["features"] as? [[String: Any]])
            let features = all.filter { ($0["properties"] as? [String: Any])?["objectType"] as? String == "tile" }
            let own = tiles.rows.filter { $0[0] == id }
            // Then the tissue outline (from the tiles: a manifest run has no QC table), covering every tile.
            if !own.isEmpty {
                XCTAssertEqual(all.count, features.count + 1, "\(id): the tiles and one tissue annotation")
                let outline = try XCTUnwrap(all.last?["geometry"] as? [String: Any])
                let rectangles = try XCTUnwrap(outline["coordinates"] as? [[[[Int]]]]).map { p in
                    (p[0].map { $0[0] }.min()!, p[0].map { $0[1] }.min()!, p[0].map { $0[0] }.max()!, p[0].map { $0[1] }.max()!)
                }
                for tile in own {
                    let (x, y, w) = (Int(tile[1])!, Int(tile[2])!, Int(tile[3])!)
                    XCTAssertTrue(rectangles.contains { $0.0 <= x && $0.1 <= y && x + w <= $0.2 && y + w <= $0.3 }, "\(id) tile \(x),\(y) in the outline")
                }
            }
            XCTAssertEqual(features.count, own.count, "\(id): one feature per tile of tiles.csv")
            XCTAssertEqual(String(features.count), slides.value(row, "n_tiles"))
            for (feature, tile) in zip(features, own) {
                let (x, y, w, h) = (Int(tile[1])!, Int(tile[2])!, Int(tile[3])!, Int(tile[4])!)
                XCTAssertEqual(w, h)
                XCTAssertGreaterThan(w, 0)
                let geometry = try XCTUnwrap(feature["geometry"] as? [String: Any])
                XCTAssertEqual(geometry["coordinates"] as? [[[Int]]], [[[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]], "\(id) tile \(x),\(y)")
                let properties = try XCTUnwrap(feature["properties"] as? [String: Any])
                let measurements = try XCTUnwrap(properties["measurements"] as? [String: Double])
                let p = tile[5...].map { Double($0)! }
                XCTAssertEqual(classes.indices.map { measurements["p_\(classes[$0])"] }, p, "tolerance 0: the same decimals as tiles.csv")
                let best = p.indices.max { p[$0] < p[$1] || (p[$0] == p[$1] && $0 > $1) }!
                XCTAssertEqual((properties["classification"] as? [String: Any])?["name"] as? String, classes[best])
                checked += 1
            }
        }
        XCTAssertEqual(checked, tiles.rows.count, "every tile of tiles.csv appears once")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("geojson").path).filter { !$0.hasSuffix(".geojson") }
        XCTAssertEqual(leftovers, [], "no temporaries")
    }
}
