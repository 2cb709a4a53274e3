import Pictures
import TesseraCore
import XCTest
@testable import Prediction

/// The `Pictures` module (bitmap font, legend panel, scale bar) and the heatmap's legend strip.
final class PicturesTests: XCTestCase {
    /// Ink pixels of `text` drawn at scale 1, as rows of `#` and `.`.
    func rendered(_ text: String) -> [String] {
        var image = RGBImage(width: BitmapFont.width(of: text, scale: 1), height: BitmapFont.glyphHeight)
        image.draw(text: text, x: 0, y: 0)
        return (0..<image.height).map { y in String((0..<image.width).map { x in image.pixel(x: x, y: y).0 == 0 ? "#" : "." }) }
    }

    func testTheFontDrawsKnownGlyphs() {
        // Drawn by hand from the classic 5×7 character set.
        XCTAssertEqual(rendered("1"), ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."])
        XCTAssertEqual(rendered("L7"), [
            "#.....#####", "#.........#", "#........#.", "#.......#..", "#......#...", "#......#...", "#####..#...",
        ])
        XCTAssertEqual(rendered("é"), rendered("?"), "a character the font lacks is a ?")
        // Scale 2 doubles every pixel.
        var big = RGBImage(width: 10, height: 14)
        big.draw(text: "1", x: 0, y: 0, scale: 2)
        XCTAssertEqual(big.pixel(x: 4, y: 0).0, 0)
        XCTAssertEqual(big.pixel(x: 5, y: 1).0, 0)
        XCTAssertEqual(big.pixel(x: 3, y: 0).0, 255)
    }

    func testScaleBarIsARoundLengthThatFits() throws {
        let a = try XCTUnwrap(ScaleBar(micronsPerPixel: 2, maxPixels: 300))   // at most 600 µm
        XCTAssertEqual(a.microns, 500)
        XCTAssertEqual(a.pixels, 250)
        XCTAssertEqual(a.label, "500 µm")
        let b = try XCTUnwrap(ScaleBar(micronsPerPixel: 10, maxPixels: 300))  // at most 3000 µm
        XCTAssertEqual(b.microns, 2000)
        XCTAssertEqual(b.pixels, 200)
        XCTAssertEqual(b.label, "2 mm")
        XCTAssertEqual(ScaleBar(micronsPerPixel: 0.25, maxPixels: 50)?.microns, 10)
        XCTAssertNil(ScaleBar(micronsPerPixel: 0, maxPixels: 50))
    }

    /// The heatmap carries its legend: the map above is the legend-less render, pixel for pixel;
    /// below it the strip holds ink (text), both class colours (swatches) and a scale bar — so the
    /// strip differs from the white a legend-less picture would have there.
    func testHeatmapCarriesItsLegend() throws {
        let tiles = TileScores(classes: 2, x: [0, 1000], y: [0, 0], probabilities: [0.9, 0.1, 0.2, 0.8])
        let placement = SlidePlacement(width: 2000, height: 1000, tileSpan: 1000, resolution: .init(mpp: 0.5, source: .recorded))
        let row = SlidePrediction.predicted(slideID: "S-7", patientID: "P", label: "LUAD", aggregate: tiles.aggregate)
        let picture = HeatmapWriter.picture(placement, tiles: tiles, prediction: row, classes: ["LUAD", "LUSC"], maxSide: 400)
        let bare = Heatmap.render(background: RGBImage(width: 400, height: 200), slideWidth: 2000, slideHeight: 1000, tiles: tiles, tileSpan: 1000)
        XCTAssertEqual(picture.width, 400)
        XCTAssertGreaterThan(picture.height, 200)
        XCTAssertEqual(Array(picture.pixels.prefix(bare.pixels.count)), bare.pixels, "the map is unchanged above the legend")
        let strip = Set((200..<picture.height).flatMap { y in (0..<400).map { x in "\(picture.pixel(x: x, y: y))" } })
        XCTAssertTrue(strip.contains("\((UInt8(0xD5), UInt8(0x5E), UInt8(0)))"), "LUAD's swatch")
        XCTAssertTrue(strip.contains("\((UInt8(0), UInt8(0x72), UInt8(0xB2)))"), "LUSC's swatch")
        XCTAssertTrue(strip.contains("\((UInt8(0), UInt8(0), UInt8(0)))"), "text and scale bar")
        // The text says what the picture shows.
        let legend = HeatmapWriter.legend(placement, prediction: row, classes: ["LUAD", "LUSC"], canvasWidth: 400)
        XCTAssertEqual(legend.lines, ["slide S-7", "predicted LUAD p=0.55 (mean of 2 tiles), label LUAD"])
        XCTAssertEqual(try XCTUnwrap(legend.micronsPerPixel), 2.5, accuracy: 1e-12, "0.5 µm × 2000 px over 400 px")
        // The first line's first glyph is drawn where the panel puts it (padding 4, scale 1).
        XCTAssertEqual(picture.pixel(x: 4, y: 200 + 4 + 3).0, 0, "the left of the s of slide, row 3")
    }

    /// A class's continuous map: each tile painted in the ramp colour of its probability of that
    /// class at opacity 0.5 (the map above the legend pixel for pixel), and the colour bar's ends
    /// in the strip below.
    func testClassMapPaintsProbabilityOnTheRampWithAColourBar() throws {
        let tiles = TileScores(classes: 2, x: [0, 1000], y: [0, 0], probabilities: [0.9, 0.1, 0.2, 0.8])
        let placement = SlidePlacement(width: 2000, height: 1000, tileSpan: 1000, resolution: .init(mpp: 0.5, source: .recorded))
        let row = SlidePrediction.predicted(slideID: "S-7", patientID: "P", label: "LUAD", aggregate: tiles.aggregate)
        let white = RGBImage(width: 400, height: 200)
        let picture = HeatmapWriter.classMap(placement, tiles: tiles, prediction: row, classes: ["LUAD", "LUSC"], classIndex: 1, background: white)
        XCTAssertEqual(picture.width, 400)
        XCTAssertGreaterThan(picture.height, 200)
        // Hand-computed: white under the ramp colour at p(LUSC) = 0.1 (left tile) and 0.8 (right tile), half opaque.
        func expected(_ p: Double) -> (UInt8, UInt8, UInt8) {
            let c = Heatmap.ramp(p)
            func b(_ v: UInt8) -> UInt8 { UInt8((255 * 0.5 + Double(v) * 0.5).rounded()) }
            return (b(c.0), b(c.1), b(c.2))
        }
        XCTAssertTrue(picture.pixel(x: 50, y: 50) == expected(0.1), "\(picture.pixel(x: 50, y: 50)) vs \(expected(0.1))")
        XCTAssertTrue(picture.pixel(x: 350, y: 150) == expected(0.8))
        // The ramp: its ends and a stop (viridis at ½).
        XCTAssertTrue(Heatmap.ramp(0) == (68, 1, 84) && Heatmap.ramp(1) == (253, 231, 37) && Heatmap.ramp(0.5) == (33, 145, 140))
        XCTAssertTrue(Heatmap.ramp(0.125) == (64, 42, 112), "halfway between the first two stops: \(Heatmap.ramp(0.125))")
        let strip = Set((200..<picture.height).flatMap { y in (0..<400).map { x in "\(picture.pixel(x: x, y: y))" } })
        // The bar is 256 pixels wide at scale 1, framed in black: its inner ends are p = 1/255 and 254/255.
        XCTAssertTrue(strip.contains("\(Heatmap.ramp(1.0 / 255))") && strip.contains("\(Heatmap.ramp(254.0 / 255))"), "the colour bar's ends")
    }
}
