import Foundation
import OpenSlide
import TesseraCore
import TesseraTestSupport
import Tiler
import Tiling
import XCTest

/// The tissue mask may only skip tiles the per-tile background rule would drop anyway. Checked on
/// the real slides: every 512² tile is read and judged, and no kept tile may be masked out.
final class TissueMaskOnRealSlidesTests: XCTestCase {
    func check(slide: Slide, maskImage: RGBImage, maskDownsample: Double, tile: Int = 512) throws -> (kept: Int, skipped: Int) {
        let rule = BackgroundRule()
        let mask = TissueMask(image: maskImage, downsample: maskDownsample, rule: rule)
        let (w, h) = slide.dimensions(level: 0)
        var kept = 0, skipped = 0
        for y in stride(from: 0, through: h - tile, by: tile) {
            for x in stride(from: 0, through: w - tile, by: tile) {
                let may = mask.mayContainTissue(x: x, y: y, width: tile, height: tile)
                if !may { skipped += 1 }
                let fraction = rule.backgroundFraction(try slide.readRegion(x: x, y: y, level: 0, width: tile, height: tile))
                if rule.keeps(backgroundFraction: fraction) {
                    kept += 1
                    XCTAssertTrue(may, "tile at (\(x), \(y)) has \(fraction) background and is kept by the rule, but the mask would skip it")
                }
            }
        }
        return (kept, skipped)
    }

    func testTCGASlideMaskFromItsLowerLevel() throws {
        let slide = try Slide(path: try TestEnvironment.realSlide("tcga-cr-7395-01a-01-ts1.svs"))
        let (w, h) = slide.dimensions(level: 1)
        let low = try slide.readRegion(x: 0, y: 0, level: 1, width: w, height: h)
        let (kept, skipped) = try check(slide: slide, maskImage: low, maskDownsample: slide.downsample(level: 1))
        print("TCGA slide: \(kept) tiles kept, \(skipped) skipped by the mask")
        XCTAssertGreaterThan(kept, 10)
    }

    func testCMUSlideMaskFromItsThumbnail() throws {
        let slide = try Slide(path: try TestEnvironment.realSlide("cmu-1-small-region.svs"))
        let thumb = try slide.associatedImage("thumbnail")
        let (kept, skipped) = try check(slide: slide, maskImage: thumb,
                                        maskDownsample: Double(slide.dimensions(level: 0).width) / Double(thumb.width), tile: 256)
        print("CMU slide: \(kept) tiles kept, \(skipped) skipped by the mask")
        XCTAssertGreaterThan(kept, 10)
    }
}
