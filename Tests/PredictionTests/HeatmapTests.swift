import Prediction
import TesseraCore
import XCTest

final class HeatmapTests: XCTestCase {
    func testTilesArePaintedInTheirClassColourByConfidence() {
        // A 1000×500 slide drawn 100×50: tiles of 100 level-0 pixels are 10×10 pixels.
        let size = Heatmap.canvasSize(slideWidth: 1000, slideHeight: 500, maxSide: 100)
        XCTAssertEqual(size.width, 100)
        XCTAssertEqual(size.height, 50)
        let tiles = TileScores(classes: 2, x: [0, 500], y: [0, 200], probabilities: [1, 0, 0.5, 0.5])
        let image = Heatmap.render(background: RGBImage(width: 100, height: 50), slideWidth: 1000, slideHeight: 500,
                                   tiles: tiles, tileSpan: 100)
        // Certain class 0 (vermilion #d55e00) at opacity 0.5 over white: the slide shows through.
        let certain = image.pixel(x: 5, y: 5)
        XCTAssertEqual(certain.0, UInt8((255 * 0.5 + 0xD5 * 0.5).rounded()))
        XCTAssertEqual(certain.1, UInt8((255 * 0.5 + 0x5E * 0.5).rounded()))
        XCTAssertEqual(certain.2, UInt8((255 * 0.5).rounded()))
        // Undecided tile: the tie goes to class 0, at opacity 0.15.
        let undecided = image.pixel(x: 55, y: 25)
        XCTAssertEqual(undecided.0, UInt8((255 * 0.85 + 0xD5 * 0.15).rounded()))
        // Outside the tiles the background is untouched, and the tile ends where it should.
        XCTAssertEqual(image.pixel(x: 30, y: 30).0, 255)
        XCTAssertEqual(image.pixel(x: 10, y: 5).1, 255)
        XCTAssertTrue(image.pixel(x: 9, y: 9) == certain)
        XCTAssertEqual(Heatmap.hex(Heatmap.colour(ofClass: 1)), "#0072b2")
    }

    func testResizeAveragesWhenShrinking() {
        var pixels = [UInt8](repeating: 0, count: 4 * 2 * 3)
        for i in 0..<(4 * 2) where i % 2 == 0 { pixels[i * 3] = 200 }
        let small = Heatmap.resize(RGBImage(width: 4, height: 2, pixels: pixels), width: 2, height: 1)
        XCTAssertEqual(small.width, 2)
        XCTAssertEqual(small.pixel(x: 0, y: 0).0, 100)
        XCTAssertEqual(small.pixel(x: 1, y: 0).0, 100)
        let big = Heatmap.resize(small, width: 4, height: 2)
        XCTAssertEqual(big.pixel(x: 3, y: 1).0, 100)
    }
}
