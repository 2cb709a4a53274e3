import Foundation
import TesseraCore
import Tiling
import XCTest

/// Hand-made tiles for the artefact checks: H&E-like texture, the same with blue ink, the same
/// blurred; ink and focus against naive references.
enum QCTiles {
    /// A sharp H&E-like tile: pink eosin background with purple haematoxylin nuclei on a 16-pixel
    /// lattice, pixel noise of ±12 (seeded).
    static func hAndE(size: Int = 64, seed: UInt64 = 7) -> RGBImage {
        var rng = SeededGenerator(seed: seed)
        var image = RGBImage(width: size, height: size, fill: (232, 160, 200))
        for y in 0..<size {
            for x in 0..<size {
                let nucleus = (x % 16 - 8) * (x % 16 - 8) + (y % 16 - 8) * (y % 16 - 8) < 20
                let base: (Int, Int, Int) = nucleus ? (95, 60, 150) : (232, 160, 200)
                let n = Int.random(in: -12...12, using: &rng)
                let i = (y * size + x) * 3
                image.pixels[i] = UInt8(clamping: base.0 + n)
                image.pixels[i + 1] = UInt8(clamping: base.1 + n)
                image.pixels[i + 2] = UInt8(clamping: base.2 + n)
            }
        }
        return image
    }

    /// `image` with a pen line drawn on glass beside the tissue: the columns `columns` are glass
    /// (240) seen through blue ink (transmission 0.30, 0.45, 0.85).
    static func withBlueInk(_ image: RGBImage, columns: Range<Int>) -> RGBImage {
        var out = image
        for y in 0..<image.height {
            for x in columns {
                let i = (y * image.width + x) * 3
                out.pixels[i] = UInt8(240 * 0.30)
                out.pixels[i + 1] = UInt8(240 * 0.45)
                out.pixels[i + 2] = UInt8(240 * 0.85)
            }
        }
        return out
    }

    /// A (2r+1)² box blur, edges clamped.
    static func blurred(_ image: RGBImage, radius r: Int) -> RGBImage {
        var out = image
        let w = image.width, h = image.height
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 {
                    var sum = 0, n = 0
                    for dy in -r...r {
                        for dx in -r...r {
                            let xx = min(max(x + dx, 0), w - 1), yy = min(max(y + dy, 0), h - 1)
                            sum += Int(image.pixels[(yy * w + xx) * 3 + c])
                            n += 1
                        }
                    }
                    out.pixels[(y * w + x) * 3 + c] = UInt8((sum + n / 2) / n)
                }
            }
        }
        return out
    }

    /// The focus measure computed naively in Double: every second pixel of every second row from
    /// (1, 1), tissue pixels only, Laplacian of grey levels truncated toward zero.
    static func naiveFocus(_ image: RGBImage, threshold: Double = 220) -> Double {
        // Grey ×1000 is an integer in Double, so the truncation matches the integer code exactly.
        func grey(_ x: Int, _ y: Int) -> Double {
            let p = image.pixel(x: x, y: y)
            return 299 * Double(p.0) + 587 * Double(p.1) + 114 * Double(p.2)
        }
        var laplacians: [Double] = [], greys: [Double] = []
        for y in stride(from: 1, to: image.height - 1, by: 2) {
            for x in stride(from: 1, to: image.width - 1, by: 2) where grey(x, y) < threshold * 1000 {
                let lap = 4 * grey(x, y) - grey(x - 1, y) - grey(x + 1, y) - grey(x, y - 1) - grey(x, y + 1)
                laplacians.append((lap / 1000).rounded(.towardZero))
                greys.append(grey(x, y) / 1000)
            }
        }
        func variance(_ v: [Double]) -> Double {
            let mean = v.reduce(0, +) / Double(v.count)
            return v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)
        }
        return 100 * variance(laplacians) / variance(greys)
    }
}

final class TileQCTests: XCTestCase {
    func testHAndETileHasNoInkAndIsSharp() {
        let tile = QCTiles.hAndE()
        XCTAssertEqual(ArtefactQC.inkFraction(tile), 0)
        XCTAssertGreaterThan(ArtefactQC.focusMeasure(tile), ArtefactQC.defaultBlurMin)
        XCTAssertNil(ArtefactQC().dropReason(tile))
    }

    func testBlueInkStripeIsCountedPixelForPixelAndDropsTheTile() {
        // 13 of 64 columns inked: 20.3 % of the pixels, every one of them ink.
        let tile = QCTiles.withBlueInk(QCTiles.hAndE(), columns: 20..<33)
        XCTAssertEqual(ArtefactQC.inkFraction(tile), 13.0 / 64.0, accuracy: 1e-12)
        XCTAssertEqual(ArtefactQC().dropReason(tile), .pen)
        XCTAssertNil(ArtefactQC(checks: .blur).dropReason(tile), "pen check off: kept")
        XCTAssertNil(ArtefactQC(penMax: 0.25).dropReason(tile), "below a larger ink threshold: kept")
    }

    func testInkColoursAgainstStains() {
        // Inks over glass (transmission × 240): blue, green, black.
        XCTAssertTrue(ArtefactQC.isInk(72, 108, 204))
        XCTAssertTrue(ArtefactQC.isInk(84, 163, 108))
        XCTAssertTrue(ArtefactQC.isInk(38, 38, 46))
        // Stains: eosin, haematoxylin (pure, weak and strong), a dark nucleus, glass.
        for (r, g, b) in [(232, 160, 200), (96, 89, 164), (160, 150, 200), (36, 31, 106), (60, 40, 90), (240, 240, 240)] {
            XCTAssertFalse(ArtefactQC.isInk(r, g, b), "(\(r), \(g), \(b)) is stain or glass, not ink")
        }
        // Bluish haematoxylin (CMU-like, OD_R − OD_G ≈ 0.08) is not ink; nor, by the same rule, is
        // blue ink laid over eosin (69, 72, 170): OD adds, and the sum absorbs green as much as red.
        XCTAssertFalse(ArtefactQC.isInk(120, 130, 170))
        XCTAssertFalse(ArtefactQC.isInk(69, 72, 170))
    }

    func testInkFractionCountsExactlyThePixelsIsInkCalls() {
        // The counting loop against the per-pixel rule: every (r, g) for blue in steps of 5, one
        // 256 × 256 image each, then random tiles of an odd size.
        func naive(_ image: RGBImage) -> Double {
            var n = 0
            for i in stride(from: 0, to: image.pixels.count, by: 3)
            where ArtefactQC.isInk(Int(image.pixels[i]), Int(image.pixels[i + 1]), Int(image.pixels[i + 2])) { n += 1 }
            return Double(n) / Double(image.width * image.height)
        }
        var image = RGBImage(width: 256, height: 256, fill: (0, 0, 0))
        for b in stride(from: 0, through: 255, by: 5) {
            for r in 0..<256 {
                for g in 0..<256 {
                    let i = (r * 256 + g) * 3
                    image.pixels[i] = UInt8(r)
                    image.pixels[i + 1] = UInt8(g)
                    image.pixels[i + 2] = UInt8(b)
                }
            }
            XCTAssertEqual(ArtefactQC.inkFraction(image), naive(image), "blue \(b)")
            XCTAssertEqual(ArtefactQC.inkFraction(RGBPlanes(image)), naive(image), "planes, blue \(b)")
        }
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<4 {
            let tile = RGBImage(width: 61, height: 37, pixels: (0..<(61 * 37 * 3)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            XCTAssertEqual(ArtefactQC.inkFraction(tile), naive(tile))
        }
    }

    func testFocusMeasureMatchesTheNaiveReferenceOnTissueMixedWithGlass() {
        // Glass and tissue alternating at random: the samples the measure skips are the glass ones.
        var rng = SeededGenerator(seed: 12)
        var tile = QCTiles.hAndE(size: 96, seed: 5)
        for i in stride(from: 0, to: tile.pixels.count, by: 3) where Bool.random(using: &rng) {
            tile.pixels[i] = 245
            tile.pixels[i + 1] = 243
            tile.pixels[i + 2] = 246
        }
        let naive = QCTiles.naiveFocus(tile)
        XCTAssertTrue(naive.isFinite)
        XCTAssertEqual(ArtefactQC.focusMeasure(tile), naive, accuracy: 1e-9 * max(1, naive))
        XCTAssertEqual(ArtefactQC.focusMeasure(tile, planes: RGBPlanes(tile)), ArtefactQC.focusMeasure(tile))
    }

    func testFocusMeasureMatchesTheNaiveReferenceAndBlurDropsTheTile() {
        let sharp = QCTiles.hAndE()
        let blurred = QCTiles.blurred(sharp, radius: 2)
        for tile in [sharp, blurred] {
            let naive = QCTiles.naiveFocus(tile)
            XCTAssertEqual(ArtefactQC.focusMeasure(tile), naive, accuracy: 1e-9 * max(1, naive))
        }
        // The same tile at half the contrast (stain strength) has about the same measure.
        var faint = sharp
        for i in faint.pixels.indices { faint.pixels[i] = UInt8(128 + Int(faint.pixels[i]) / 2) }
        XCTAssertEqual(ArtefactQC.focusMeasure(faint) / ArtefactQC.focusMeasure(sharp), 1, accuracy: 0.15)
        XCTAssertLessThan(ArtefactQC.focusMeasure(blurred), ArtefactQC.defaultBlurMin)
        XCTAssertEqual(ArtefactQC().dropReason(blurred), .blur)
        XCTAssertNil(ArtefactQC(checks: .pen).dropReason(blurred), "blur check off: kept")
        // Glass only: nothing to judge, never blurred.
        XCTAssertEqual(ArtefactQC.focusMeasure(RGBImage(width: 32, height: 32, fill: (240, 240, 240))), .infinity)
    }

    /// The strip-wise and plane-wise background and ink counts and focus measure against per-pixel
    /// references on random and rendered tiles of sizes that end mid-vector and mid-strip (1, 3,
    /// 1023, 1025, 2049 pixels), so each loop's remainder and each strip boundary is exercised.
    func testPixelMeasuresEqualNaiveReferencesOnOddSizes() {
        func naiveBackground(_ image: RGBImage, _ rule: BackgroundRule) -> Double {
            let limit = Int((rule.threshold * 1000).rounded(.up))
            var n = 0
            for i in stride(from: 0, to: image.pixels.count, by: 3) {
                let (r, g, b) = (Int(image.pixels[i]), Int(image.pixels[i + 1]), Int(image.pixels[i + 2]))
                let background = rule.saturationThreshold.map { OtsuThreshold.saturation(r, g, b) <= $0 }
                if background ?? (299 * r + 587 * g + 114 * b >= limit) { n += 1 }
            }
            return image.width * image.height == 0 ? 1 : Double(n) / Double(image.width * image.height)
        }
        func naiveInk(_ image: RGBImage) -> Double {
            var n = 0
            for i in stride(from: 0, to: image.pixels.count, by: 3)
            where ArtefactQC.isInk(Int(image.pixels[i]), Int(image.pixels[i + 1]), Int(image.pixels[i + 2])) { n += 1 }
            return Double(n) / Double(image.width * image.height)
        }
        var rng = SeededGenerator(seed: 23)
        var tiles: [RGBImage] = []
        for (w, h) in [(1, 1), (3, 1), (1, 3), (3, 3), (17, 5), (1023, 1), (1025, 1), (1, 1025), (683, 3), (61, 37)] {
            // Pixels near the 220 boundary as well as anywhere, so both sides of the rule are hit.
            tiles.append(RGBImage(width: w, height: h, pixels: (0..<(w * h * 3)).map { _ in
                Bool.random(using: &rng) ? UInt8.random(in: 0...255, using: &rng) : UInt8.random(in: 205...235, using: &rng)
            }))
        }
        var glassy = QCTiles.hAndE(size: 67, seed: 3)
        for i in stride(from: 0, to: glassy.pixels.count, by: 3) where Bool.random(using: &rng) {
            (glassy.pixels[i], glassy.pixels[i + 1], glassy.pixels[i + 2]) = (221, 220, 219)
        }
        tiles += [QCTiles.hAndE(), QCTiles.blurred(QCTiles.hAndE(size: 45), radius: 2), glassy]
        let rules = [BackgroundRule(), BackgroundRule(threshold: 219.5), BackgroundRule(threshold: 0),
                     BackgroundRule(threshold: 255), BackgroundRule(saturationThreshold: 20)]
        for tile in tiles {
            let size = "\(tile.width)×\(tile.height)"
            for rule in rules {
                XCTAssertEqual(rule.backgroundFraction(tile), naiveBackground(tile, rule), "\(size), \(rule.description)")
                XCTAssertEqual(rule.backgroundFraction(RGBPlanes(tile)), naiveBackground(tile, rule), "planes \(size), \(rule.description)")
            }
            XCTAssertEqual(ArtefactQC.inkFraction(tile), naiveInk(tile), size)
            XCTAssertEqual(ArtefactQC.inkFraction(RGBPlanes(tile)), naiveInk(tile), "planes \(size)")
            let qc = ArtefactQC(checks: .all)
            XCTAssertEqual(qc.evaluate(tile, planes: RGBPlanes(tile)), qc.evaluate(tile), "planes \(size)")
            // Fewer than 16 sampled tissue pixels: nothing to judge (infinite), as documented.
            var samples = 0
            for y in stride(from: 1, to: tile.height - 1, by: 2) {
                for x in stride(from: 1, to: tile.width - 1, by: 2) {
                    let p = tile.pixel(x: x, y: y)
                    if 299 * Int(p.0) + 587 * Int(p.1) + 114 * Int(p.2) < 220_000 { samples += 1 }
                }
            }
            let focus = samples >= 16 ? QCTiles.naiveFocus(tile) : .infinity
            XCTAssertEqual(ArtefactQC.focusMeasure(tile), focus, accuracy: 1e-9 * max(1, focus.isFinite ? focus : 1), size)
            // The same integer sums from the planes' grey rows: equal, not just close.
            XCTAssertEqual(ArtefactQC.focusMeasure(tile, planes: RGBPlanes(tile)), ArtefactQC.focusMeasure(tile), "planes \(size)")
        }
    }

    func testChecksParseAndPrint() {
        XCTAssertEqual(QCChecks(parsing: "pen,blur,bubble"), .standard)
        XCTAssertEqual(QCChecks(parsing: "bubble, blur, pen"), .standard)
        XCTAssertEqual(QCChecks(parsing: "none"), QCChecks.none)
        XCTAssertEqual(QCChecks(parsing: "pen"), .pen)
        XCTAssertEqual(QCChecks(parsing: "bubble,pen,fold,blur"), .all)
        XCTAssertEqual(QCChecks(parsing: "pen,fold"), [.pen, .fold])
        XCTAssertNil(QCChecks(parsing: "pen,dust"))
        XCTAssertNil(QCChecks(parsing: ""))
        XCTAssertEqual(QCChecks.standard.description, "pen,blur,bubble")
        XCTAssertEqual(QCChecks.all.description, "pen,blur,fold,bubble")
        XCTAssertEqual(QCChecks.none.description, "none")
    }

    func testStrictIsEveryCheckWithTheBlockRule() {
        XCTAssertEqual(ArtefactQC.resolve("strict", blurBlockMin: 0)?.checks, .all)
        XCTAssertEqual(ArtefactQC.resolve(" Strict", blurBlockMin: 0)?.blurBlockMin, ArtefactQC.suggestedBlurBlockMin, "off turns into the suggested minimum")
        XCTAssertEqual(ArtefactQC.resolve("strict", blurBlockMin: 12)?.blurBlockMin, 12, "a minimum given is kept")
        // Named checks keep the minimum as given, off included.
        XCTAssertEqual(ArtefactQC.resolve("pen,blur,fold,bubble", blurBlockMin: 0)?.blurBlockMin, 0)
        XCTAssertEqual(ArtefactQC.resolve("pen,blur", blurBlockMin: 9)?.checks, [.pen, .blur])
        XCTAssertEqual(ArtefactQC.resolve("none", blurBlockMin: 0)?.checks, QCChecks.none)
        XCTAssertNil(ArtefactQC.resolve("strict,pen", blurBlockMin: 0))
        XCTAssertNil(ArtefactQC.resolve("pen,dust", blurBlockMin: 0))
    }
}

final class OtsuTissueRuleTests: XCTestCase {
    func testOtsuThresholdOfAHandWorkedHistogram() {
        // Bins 0…6: 2, 3, 0, 0, 0, 4, 1 (total 10, Σ value·count = 29). Between-class variance
        // w0·w1·(μ0 − μ1)²: t = 0: 2·8·(29/8)² = 210.25; t = 1…4: 5·5·(0.6 − 5.2)² = 529;
        // t = 5: 9·1·(23/9 − 6)² = 106.8. Largest at t = 1 (the lowest of the tie).
        XCTAssertEqual(OtsuThreshold.threshold(histogram: [2, 3, 0, 0, 0, 4, 1]), 1)
        XCTAssertNil(OtsuThreshold.threshold(histogram: [0, 5, 0]), "one occupied bin: no split")
        // Two equal modes at 40 and 200: the split lies between them, at the lower mode.
        var h = [Int](repeating: 0, count: 256)
        h[40] = 100; h[200] = 100
        XCTAssertEqual(OtsuThreshold.threshold(histogram: h), 40)
    }

    func testSaturationAndTheOtsuBackgroundRule() {
        XCTAssertEqual(OtsuThreshold.saturation(200, 100, 100), 127)
        XCTAssertEqual(OtsuThreshold.saturation(0, 0, 0), 0)
        // Dim grey glass (luminance 200 < 220) is tissue by luminance but background by saturation.
        let grey = RGBImage(width: 4, height: 4, fill: (200, 200, 200))
        XCTAssertEqual(BackgroundRule().backgroundFraction(grey), 0)
        XCTAssertEqual(BackgroundRule(saturationThreshold: 20).backgroundFraction(grey), 1)
        XCTAssertEqual(BackgroundRule(saturationThreshold: 20).backgroundFraction(QCTiles.hAndE()), 0)
    }

    /// A 256² "slide": dim grey glass (luminance ~200), tissue pieces of varied stain with faint
    /// edges. Every 32² tile the Otsu rule keeps must be one the mask (built from the 8× area
    /// reduction, as from a pyramid level) may not skip.
    func testOtsuMaskNeverSkipsATileTheOtsuRuleKeeps() {
        var rng = SeededGenerator(seed: 11)
        let side = 256
        var slide = RGBImage(width: side, height: side, fill: (200, 201, 203))
        for _ in 0..<9 {
            let cx = Double.random(in: 0..<Double(side), using: &rng), cy = Double.random(in: 0..<Double(side), using: &rng)
            let radius = Double.random(in: 8...40, using: &rng)
            let strength = Double.random(in: 0.15...1, using: &rng)
            for y in 0..<side {
                for x in 0..<side {
                    let d = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)).squareRoot()
                    guard d < radius else { continue }
                    let a = strength * min(1, (radius - d) / 6)  // faint towards the edge
                    let i = (y * side + x) * 3
                    slide.pixels[i] = UInt8(Double(slide.pixels[i]) * (1 - a) + 220 * a)
                    slide.pixels[i + 1] = UInt8(Double(slide.pixels[i + 1]) * (1 - a) + 120 * a)
                    slide.pixels[i + 2] = UInt8(Double(slide.pixels[i + 2]) * (1 - a) + 180 * a)
                }
            }
        }
        let thumbnail = AreaResampler(sourceSize: Double(side), outputSize: side / 8).resample(slide)
        let t = TissueMask.otsuSaturationThreshold(thumbnail: thumbnail)
        let rule = BackgroundRule(saturationThreshold: t)
        let mask = TissueMask(image: thumbnail, downsample: 8, rule: rule)
        var kept = 0, skipped = 0
        for y in stride(from: 0, to: side, by: 32) {
            for x in stride(from: 0, to: side, by: 32) {
                var tile = RGBImage(width: 32, height: 32)
                for yy in 0..<32 {
                    for xx in 0..<32 {
                        let s = ((y + yy) * side + x + xx) * 3, d = (yy * 32 + xx) * 3
                        tile.pixels[d] = slide.pixels[s]; tile.pixels[d + 1] = slide.pixels[s + 1]; tile.pixels[d + 2] = slide.pixels[s + 2]
                    }
                }
                let may = mask.mayContainTissue(x: x, y: y, width: 32, height: 32)
                if !may { skipped += 1 }
                if rule.keeps(backgroundFraction: rule.backgroundFraction(tile)) {
                    kept += 1
                    XCTAssertTrue(may, "tile (\(x), \(y)) is kept by the Otsu rule but the mask skips it")
                }
            }
        }
        XCTAssertGreaterThan(kept, 3, "the slide has tissue tiles")
        XCTAssertEqual(BackgroundRule().backgroundFraction(RGBImage(width: 2, height: 2, fill: (200, 201, 203))), 0,
                       "the luminance rule calls this glass tissue")
        print("Otsu threshold \(t): \(kept) of 64 tiles kept, \(skipped) skipped by the mask")
    }
}
