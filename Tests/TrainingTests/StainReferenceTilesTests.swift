import Model
import TesseraCore
import XCTest

@testable import Training

/// The reference slide's tiles as rank 0 sends them: what is decoded is what was encoded.
final class StainReferenceTilesTests: XCTestCase {
    func testEncodedTilesDecodeToTheSameTiles() {
        let raw = RGBImage(width: 2, height: 3, pixels: (0..<18).map { UInt8($0 * 13 % 256) })
        let tiles = StainReferenceTiles(payloads: [.jpeg([0xFF, 0xD8, 1, 2, 3]), .raw(raw), .jpeg([])], name: "slide ref.svs region 1,2,3,4")
        let back = StainReferenceTiles(encoded: tiles.encoded())
        XCTAssertEqual(back.name, tiles.name)
        XCTAssertEqual(back.payloads.count, 3)
        guard case let .jpeg(a) = back.payloads[0], case let .raw(b) = back.payloads[1], case let .jpeg(c) = back.payloads[2] else {
            return XCTFail("payload kinds: \(back.payloads)")
        }
        XCTAssertEqual(a, [0xFF, 0xD8, 1, 2, 3])
        XCTAssertEqual([b.width, b.height], [2, 3])
        XCTAssertEqual(b.pixels, raw.pixels)
        XCTAssertEqual(c, [])
        // Bytes: name (8 + 28), count 8, then 4 × 8 + 5, 4 × 8 + 18, 4 × 8 + 0.
        XCTAssertEqual(tiles.encoded().count, 8 + 28 + 8 + (32 + 5) + (32 + 18) + 32)
        XCTAssertEqual(StainReferenceTiles(encoded: StainReferenceTiles(payloads: [], name: "").encoded()).payloads.count, 0)
    }
}
