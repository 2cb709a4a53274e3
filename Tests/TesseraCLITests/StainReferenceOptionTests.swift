import ArgumentParser
import TesseraCLI
import XCTest

/// `--stain-reference` (job key STAIN_REFERENCE): builtin, train, slide:PATH, slide:PATH@X,Y,W,H.
final class StainReferenceOptionTests: XCTestCase {
    func testTheFormsParseAndSpellBack() throws {
        let cases: [(String, StainReferenceOption)] = [
            ("builtin", .builtin), ("train", .train),
            ("slide:ref.svs", .slide(path: "ref.svs", region: nil)),
            ("slide:/data/ref slides/ref.svs@2000,1500,4096,4096", .slide(path: "/data/ref slides/ref.svs", region: [2000, 1500, 4096, 4096])),
            // An @ in the path: only a numeric tail after the last @ is a region.
            ("slide:/data/run@2/ref.svs", .slide(path: "/data/run@2/ref.svs", region: nil)),
            ("slide:/data/run@2/ref.svs@0,0,1,1", .slide(path: "/data/run@2/ref.svs", region: [0, 0, 1, 1])),
        ]
        for (text, expected) in cases {
            let parsed = try StainReferenceOption.parse(text)
            XCTAssertEqual(parsed, expected, text)
            XCTAssertEqual(parsed.spelled, text, "spelled back as written")
        }
    }

    func testBadValuesAreUsageErrorsThatShowTheForms() {
        let cases: [(String, String)] = [
            ("slides", "--stain-reference must be builtin, train, slide:PATH or slide:PATH@X,Y,W,H; got 'slides'"),
            ("slide:", "name the reference slide file"),
            ("slide:@1,2,3,4", "name the reference slide file"),
            ("slide:ref.svs@1,2,3", "the region after @ must be four integers X,Y,W,H"),
            ("slide:ref.svs@1,2,3,4,5", "the region after @ must be four integers X,Y,W,H"),
            ("slide:ref.svs@-1,2,3,4", "the region after @ must be four integers X,Y,W,H"),
            ("slide:ref.svs@1,2,0,4", "the region after @ must be four integers X,Y,W,H"),
            ("slide:ref.svs@1,,3,4", "the region after @ must be four integers X,Y,W,H"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try StainReferenceOption.parse(text), text) { error in
                XCTAssertTrue("\(error)".contains(message), "\(text): \(error)")
            }
        }
    }
}
