import TesseraCore
import Tiling
import XCTest

final class TilingPlanTests: XCTestCase {
    let g40 = SlideGeometry(levelSizes: [(40000, 30000), (10000, 7500), (2500, 1875)], levelDownsamples: [1, 4, 16],
                            mpp: 0.25, objectivePower: 40)

    func testFortyXSlideAtTwentyX() throws {
        let plan = try TilingPlan(geometry: g40, target: .magnification(20), tileSize: 512)
        XCTAssertEqual(plan.downsample, 2)
        XCTAssertEqual(plan.level, 0)
        XCTAssertEqual(plan.footprint, 1024)
        XCTAssertEqual(plan.readSize, 1024)
        XCTAssertEqual(plan.mpp, 0.5)
        XCTAssertEqual(plan.columns, 39)  // 40000 / 1024 = 39.06
        XCTAssertEqual(plan.rows, 29)
        XCTAssertEqual(plan.origin(40).x, 1024)
        XCTAssertEqual(plan.origin(40).y, 1024)
        // Same via mpp.
        XCTAssertEqual(try TilingPlan(geometry: g40, target: .mpp(0.5), tileSize: 512), plan)
    }

    func testLowMagnificationReadsFromAPyramidLevel() throws {
        let plan = try TilingPlan(geometry: g40, target: .magnification(5), tileSize: 256)
        XCTAssertEqual(plan.downsample, 8)
        XCTAssertEqual(plan.level, 1)
        XCTAssertEqual(plan.footprint, 512)
    }

    func testNonIntegerFactorAndOverlap() throws {
        let g = SlideGeometry(levelSizes: [(2220, 2967)], levelDownsamples: [1], mpp: 0.499, objectivePower: 20)
        let plan = try TilingPlan(geometry: g, target: .mpp(0.5), tileSize: 512, overlap: 12)
        XCTAssertEqual(plan.footprint, 512 * 0.5 / 0.499, accuracy: 1e-9)
        XCTAssertEqual(plan.readSize, 514)
        XCTAssertEqual(plan.stride, 500 * 0.5 / 0.499, accuracy: 1e-9)
        XCTAssertEqual(plan.columns, 4)  // (2220 − 513.03)/501.0 = 3.4 → 3 + 1
        XCTAssertFalse(plan.isExact)
    }

    func testMissingMetadataAndUpsampling() throws {
        let g = SlideGeometry(levelSizes: [(4443, 3567), (2221, 1783)], levelDownsamples: [1, 2.0004], mpp: nil, objectivePower: nil)
        XCTAssertThrowsError(try TilingPlan(geometry: g, target: .mpp(0.5), tileSize: 512)) {
            XCTAssertTrue("\($0)".contains("--assume-mpp"))
        }
        XCTAssertThrowsError(try TilingPlan(geometry: g, target: .magnification(20), tileSize: 512))
        let assumed = try TilingPlan(geometry: g, target: .magnification(20), tileSize: 512, assumeMPP: 0.25)
        XCTAssertEqual(assumed.downsample, 2, accuracy: 1e-12)
        XCTAssertEqual(assumed.level, 0, "2.0004 > 2: reading level 1 would upsample")
        XCTAssertEqual(try TilingPlan(geometry: g, target: .level(1), tileSize: 512).footprint, 512)
        XCTAssertThrowsError(try TilingPlan(geometry: g, target: .level(2), tileSize: 512))
        XCTAssertThrowsError(try TilingPlan(geometry: g40, target: .magnification(80), tileSize: 512)) {
            XCTAssertTrue("\($0)".contains("upsampling"))
        }
    }

    func testTinySlideHasNoTiles() throws {
        let g = SlideGeometry(levelSizes: [(300, 300)], levelDownsamples: [1], mpp: 0.5, objectivePower: 20)
        XCTAssertEqual(try TilingPlan(geometry: g, target: .magnification(20), tileSize: 512).count, 0)
    }
}

final class AreaResamplerTests: XCTestCase {
    func testIntegerFactorIsTheBlockMean() {
        var p = [UInt8](repeating: 0, count: 8 * 8 * 3)
        for i in 0..<p.count { p[i] = UInt8((i * 37) % 256) }
        let image = RGBImage(width: 8, height: 8, pixels: p)
        let out = AreaResampler(sourceSize: 8, outputSize: 4).resample(image)
        for y in 0..<4 {
            for x in 0..<4 {
                for c in 0..<3 {
                    var s = 0
                    for dy in 0..<2 { for dx in 0..<2 { s += Int(p[((2 * y + dy) * 8 + 2 * x + dx) * 3 + c]) } }
                    XCTAssertEqual(Int(out.pixels[(y * 4 + x) * 3 + c]), Int((Double(s) / 4).rounded()), accuracy: 1)
                }
            }
        }
        XCTAssertEqual(AreaResampler(sourceSize: 5, outputSize: 5).resample(RGBImage(width: 5, height: 5, pixels: Array(p[0..<75]))).pixels, Array(p[0..<75]))
    }

    func testFractionalFactorPreservesMeanAndConstants() {
        let flat = RGBImage(width: 10, height: 10, fill: (200, 100, 50))
        XCTAssertEqual(AreaResampler(sourceSize: 9.5, outputSize: 4).resample(flat), RGBImage(width: 4, height: 4, fill: (200, 100, 50)))
        // A horizontal ramp keeps its mean within rounding.
        var p = [UInt8](repeating: 0, count: 514 * 514 * 3)
        for y in 0..<514 { for x in 0..<514 { for c in 0..<3 { p[(y * 514 + x) * 3 + c] = UInt8(x / 3) } } }
        let out = AreaResampler(sourceSize: 512 * 0.5 / 0.499, outputSize: 512).resample(RGBImage(width: 514, height: 514, pixels: p))
        let meanIn = Double((0..<513).reduce(0) { $0 + $1 / 3 }) / 513
        let meanOut = Double(out.pixels.reduce(0) { $0 + Int($1) }) / Double(out.pixels.count)
        XCTAssertEqual(meanOut, meanIn, accuracy: 0.6)
    }
}

final class BackgroundTests: XCTestCase {
    func testLuminanceRuleAtTheThreshold() {
        let rule = BackgroundRule()
        // (220,220,220) has luminance exactly 220: background. (219,220,220): 219.299, tissue.
        XCTAssertEqual(rule.backgroundFraction(RGBImage(width: 2, height: 2, fill: (220, 220, 220))), 1)
        XCTAssertEqual(rule.backgroundFraction(RGBImage(width: 2, height: 2, fill: (219, 220, 220))), 0)
        var img = RGBImage(width: 4, height: 1, fill: (255, 255, 255))
        img.pixels[0] = 120; img.pixels[3] = 100
        XCTAssertEqual(rule.backgroundFraction(img), 0.5)
        XCTAssertTrue(rule.keeps(backgroundFraction: 0.5))
        XCTAssertFalse(rule.keeps(backgroundFraction: 0.5001))
    }

    /// The branch-free count against `y ≥ limit` pixel by pixel, on every red–green pair with blue
    /// in steps of 5, at thresholds from 0 to 255: the counts must be equal.
    func testLuminanceRuleMatchesTheNaiveRuleOnEveryColour() {
        for threshold in [0, 100.5, 219.5, 220, 254.9, 255] {
            let rule = BackgroundRule(threshold: threshold)
            let limit = Int((threshold * 1000).rounded(.up))
            var image = RGBImage(width: 256, height: 256, fill: (0, 0, 0))
            for b in stride(from: 0, through: 255, by: 5) {
                var naive = 0
                for r in 0..<256 {
                    for g in 0..<256 {
                        let i = (r * 256 + g) * 3
                        (image.pixels[i], image.pixels[i + 1], image.pixels[i + 2]) = (UInt8(r), UInt8(g), UInt8(b))
                        if 299 * r + 587 * g + 114 * b >= limit { naive += 1 }
                    }
                }
                XCTAssertEqual(rule.backgroundFraction(image), Double(naive) / 65536, "threshold \(threshold), blue \(b)")
                XCTAssertEqual(rule.backgroundFraction(RGBPlanes(image)), Double(naive) / 65536, "planes, threshold \(threshold), blue \(b)")
            }
        }
    }

    func testTissueMaskIsConservative() {
        // 20×20 mask of glass with one faint pink pixel at (10,10).
        var img = RGBImage(width: 20, height: 20, fill: (245, 245, 245))
        let i = (10 * 20 + 10) * 3
        img.pixels[i] = 240; img.pixels[i + 1] = 200; img.pixels[i + 2] = 230
        let mask = TissueMask(image: img, downsample: 32, rule: BackgroundRule())
        XCTAssertTrue(mask.mayContainTissue(x: 320, y: 320, width: 32, height: 32))
        XCTAssertTrue(mask.mayContainTissue(x: 352, y: 352, width: 16, height: 16), "dilated neighbour")
        XCTAssertFalse(mask.mayContainTissue(x: 0, y: 0, width: 128, height: 128))
        XCTAssertEqual(mask.tissueFraction, 9.0 / 400, accuracy: 1e-12)
    }
}
