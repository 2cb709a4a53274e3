import Foundation
import TesseraCore
import TileStore
import Tiler
import XCTest

/// One JSON key style: status files and the audit JSON are written in snake_case, and a status
/// file in camelCase, as versions before wrote them, still reads (a run resumed across an upgrade).
final class StatusKeyStyleTests: XCTestCase {
    /// A tiling status file exactly as earlier versions wrote it (camelCase keys).
    let oldStatus = """
        {"complete":true,"parameters":{"assumeMPP":0.25,"classes":["LUAD","normal"],"manifestDigest":"abc","overlap":0,
        "shards":2,"splitFractions":[0.6,0.2,0.2],"splitSeed":1,"tiling":{"backgroundThreshold":220,"jpegQuality":90,
        "maxBackground":0.5,"targetMPP":0.5,"tileSize":512},"tissueMask":true},
        "slides":{"TCGA-AB_1-01Z":{"split":"train","state":"done","tilesConsidered":5,"tilesDropped":{"background":2},"tilesKept":3},
        "slide_two":{"message":"cannot open","split":"test","stage":"open","state":"failed","tilesConsidered":0,"tilesKept":0}}}
        """

    func testPropertyNamesFromSnakeCaseKeepAcronymsAndLeaveCamelCaseAlone() {
        XCTAssertEqual(JSONKeyStyle.propertyName("assume_mpp"), "assumeMPP")
        XCTAssertEqual(JSONKeyStyle.propertyName("slide_id"), "slideID")
        XCTAssertEqual(JSONKeyStyle.propertyName("tiles_per_class"), "tilesPerClass")
        XCTAssertEqual(JSONKeyStyle.propertyName("tilesKept"), "tilesKept")
        XCTAssertEqual(JSONKeyStyle.propertyName("complete"), "complete")
        XCTAssertEqual(JSONKeyStyle.propertyName("_x"), "_x")
    }

    func testOldCamelCaseStatusReadsAndIsRewrittenInSnakeCase() throws {
        let old = try JSONDecoder().decode(TaskStatus.self, from: Data(oldStatus.utf8))
        let read = try JSONKeyStyle.snakeCase.decoder().decode(TaskStatus.self, from: Data(oldStatus.utf8))
        XCTAssertEqual(read, old, "the tolerant decoder reads an old file as the old decoder did")
        XCTAssertEqual(read.parameters.assumeMPP, 0.25)
        XCTAssertEqual(read.slides["TCGA-AB_1-01Z"]?.tilesKept, 3)
        XCTAssertEqual(read.failedItems, ["slide_two"])

        let written = try JSONKeyStyle.snakeCase.encoder().encode(read)
        let text = String(decoding: written, as: UTF8.self)
        for key in ["\"assume_mpp\"", "\"manifest_digest\"", "\"split_fractions\"", "\"target_mpp\"", "\"tile_size\"", "\"tiles_kept\"",
                    "\"tiles_dropped\"", "\"tissue_mask\""] {
            XCTAssertTrue(text.contains(key), "\(key) in \(text)")
        }
        for key in ["assumeMPP", "tilesKept", "targetMPP", "tileSize"] { XCTAssertFalse(text.contains(key), "\(key) left in \(text)") }
        // Dictionary keys are data (slide ids, drop reasons), never respelled.
        XCTAssertTrue(text.contains("\"TCGA-AB_1-01Z\"") && text.contains("\"slide_two\"") && text.contains("\"background\""), text)
        XCTAssertEqual(try JSONKeyStyle.snakeCase.decoder().decode(TaskStatus.self, from: written), old, "snake_case reads back")
    }

    func testAuditReportIsSnakeCaseWithClassNamesKept() throws {
        var report = StoreAuditReport(store: "store")
        report.classes = ["LUAD", "normal"]
        report.targetMPP = 0.5
        report.tilesChecked = 15
        report.completenessChecked = true
        let data = try JSONKeyStyle.snakeCase.encoder().encode(report)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["tiles_checked"] as? Int, 15)
        XCTAssertEqual(object["target_mpp"] as? Double, 0.5)
        XCTAssertEqual(object["completeness_checked"] as? Bool, true)
        XCTAssertEqual(object.keys.filter { $0.contains(where: \.isUppercase) }, [], "no camelCase key left")
        XCTAssertEqual(try JSONKeyStyle.snakeCase.decoder().decode(StoreAuditReport.self, from: data), report)
    }
}
