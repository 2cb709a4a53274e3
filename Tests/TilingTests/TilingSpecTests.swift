import Foundation
import TesseraCore
import Tiling
import XCTest

/// `TilingSpec`: the one record of how tiles were cut, its one target conversion, its JSON shape,
/// and the field-by-field comparison that task parameters share.
final class TilingSpecTests: XCTestCase {
    func testTargetFromFieldsPrefersLevelThenMPPThenMagnificationAndFieldsInvertIt() {
        XCTAssertEqual(TilingTarget(mpp: 0.5, magnification: 40, level: 2), .level(2))
        XCTAssertEqual(TilingTarget(mpp: 0.5, magnification: 40, level: nil), .mpp(0.5))
        XCTAssertEqual(TilingTarget(mpp: nil, magnification: 40, level: nil), .magnification(40))
        XCTAssertEqual(TilingTarget(mpp: nil, magnification: nil, level: nil), .magnification(20), "20× when nothing is given")
        for target in [TilingTarget.mpp(0.25), .magnification(10), .level(0)] {
            let f = target.fields
            XCTAssertEqual(TilingTarget(mpp: f.mpp, magnification: f.magnification, level: f.level), target)
            XCTAssertEqual([f.mpp != nil, f.magnification != nil, f.level != nil].filter { $0 }.count, 1)
        }
        XCTAssertEqual("\(TilingTarget.mpp(0.5))", "0.5 µm/px")
        XCTAssertEqual("\(TilingTarget.magnification(20))", "20.0×")
        XCTAssertEqual("\(TilingTarget.level(1))", "level 1")
    }

    func testJSONIsFlatAndRoundTrips() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let jpeg = TilingSpec(tileSize: 256, target: .mpp(0.5), backgroundThreshold: 210, maxBackground: 0.4, jpegQuality: 95)
        XCTAssertEqual(String(decoding: try encoder.encode(jpeg), as: UTF8.self),
                       #"{"backgroundThreshold":210,"jpegQuality":95,"maxBackground":0.4,"targetMPP":0.5,"tileSize":256}"#)
        let raw = TilingSpec(tileSize: 64, target: .level(1), jpegQuality: nil)
        XCTAssertEqual(String(decoding: try encoder.encode(raw), as: UTF8.self),
                       #"{"backgroundThreshold":220,"level":1,"maxBackground":0.5,"tileSize":64}"#)
        for spec in [jpeg, raw, TilingSpec(tileSize: 512, target: .magnification(40), jpegQuality: 1)] {
            XCTAssertEqual(try JSONDecoder().decode(TilingSpec.self, from: try encoder.encode(spec)), spec)
        }
    }

    func testDifferencesNameLabelAndRenderEachField() {
        let a = TilingSpec(tileSize: 256, target: .magnification(10), maxBackground: 0.5, jpegQuality: 90)
        var b = a
        XCTAssertEqual(a.differences(from: b), [])
        b.tileSize = 128
        b.target = .magnification(20)
        b.jpegQuality = nil
        XCTAssertEqual(a.differences(from: b).map { [$0.name, $0.label, $0.mine, $0.theirs] }, [
            ["tileSize", "tile size", "256", "128"],
            ["targetMagnification", "magnification", "10.0×", "20.0×"],
            ["jpegQuality", "JPEG quality", "90", "none (raw)"],
        ])
        // mpp → level: both of the target's fields change.
        XCTAssertEqual(TilingSpec(tileSize: 8, target: .mpp(0.5), jpegQuality: nil)
            .differences(from: TilingSpec(tileSize: 8, target: .level(2), jpegQuality: nil)).map(\.description),
                       ["targetMPP: none → 0.5", "level: 2 → none"])
    }

    /// The generic mechanism the task parameter records use: stored properties by reflection, a
    /// nested spec contributing its own fields.
    private struct Parameters: FieldComparable {
        var digest: String
        var tiling: TilingSpec
        var shards: Int
        var assumeMPP: Double?
    }

    func testParameterRecordsCompareFieldByFieldWithANestedSpecFlattened() {
        let before = Parameters(digest: "ab", tiling: TilingSpec(tileSize: 16, target: .mpp(0.5), maxBackground: 0.5, jpegQuality: 90),
                                shards: 2, assumeMPP: nil)
        var now = before
        XCTAssertEqual(now.differences(from: before), [])
        now.tiling.maxBackground = 0.3
        now.shards = 4
        now.assumeMPP = 0.25
        XCTAssertEqual(now.differences(from: before).map(\.description),
                       ["maxBackground: 0.5 → 0.3", "shards: 2 → 4", "assumeMPP: nil → Optional(0.25)"])
        XCTAssertEqual(before.comparedFields.map(\.name),
                       ["digest", "tileSize", "targetMPP", "targetMagnification", "level", "backgroundThreshold", "maxBackground",
                        "jpegQuality", "tissueRule", "qc", "penMax", "blurMin", "foldMax", "bubbleMax", "blurBlockMin", "shards", "assumeMPP"])
    }
}
