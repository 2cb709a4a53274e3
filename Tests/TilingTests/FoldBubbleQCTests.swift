import Foundation
import TesseraCore
import Tiling
import XCTest

/// The fold and bubble checks on hand-made tiles whose answers are counted by hand.
final class FoldBubbleQCTests: XCTestCase {
    /// Moderately stained stroma (OD sum 1.48) with nuclei (OD sum 2.94) as discs on a 32-pixel
    /// lattice, no noise, and whether each pixel is a nucleus.
    static func stroma(size: Int = 64) -> (tile: RGBImage, nucleus: [Bool]) {
        var tile = RGBImage(width: size, height: size, fill: (200, 110, 170))
        var nucleus = [Bool](repeating: false, count: size * size)
        for y in 0..<size {
            for x in 0..<size where (x % 32 - 16) * (x % 32 - 16) + (y % 32 - 16) * (y % 32 - 16) < 20 {
                nucleus[y * size + x] = true
                let i = (y * size + x) * 3
                (tile.pixels[i], tile.pixels[i + 1], tile.pixels[i + 2]) = (95, 60, 150)
            }
        }
        return (tile, nucleus)
    }

    /// Two layers of the same tissue: every channel's OD doubled, I' = 256·((I + 1)/256)² − 1.
    static func folded(_ image: RGBImage) -> RGBImage {
        var out = image
        for i in out.pixels.indices {
            let t = (Double(image.pixels[i]) + 1) / 256
            out.pixels[i] = UInt8((256 * t * t - 1).rounded())
        }
        return out
    }

    func testDoublyDarkPixelsAgainstTheODSumInDouble() {
        // Grey 110: OD sum 3·ln(256/111) = 2.507 > 2.5, dark; grey 111: 3·ln(256/112) = 2.480, not.
        var tile = RGBImage(width: 4, height: 2, fill: (240, 240, 240))
        for (k, v) in [110, 111, 150].enumerated() {
            (tile.pixels[3 * k], tile.pixels[3 * k + 1], tile.pixels[3 * k + 2]) = (UInt8(v), UInt8(v), UInt8(v))
        }
        // Three tissue pixels (the glass at 240 is not tissue), one of them doubly dark.
        XCTAssertEqual(ArtefactQC.foldFraction(tile), 1.0 / 3.0, accuracy: 1e-12)
        // The integer test equals the OD sum in Double on every pixel of a seeded random tile.
        var rng = SeededGenerator(seed: 5)
        let random = RGBImage(width: 40, height: 40, pixels: (0..<4800).map { _ in UInt8.random(in: 20...230, using: &rng) })
        var tissue = 0, dark = 0
        for k in 0..<1600 {
            let p = (0..<3).map { Double(random.pixels[3 * k + $0]) }
            guard 299 * p[0] + 587 * p[1] + 114 * p[2] < 220_000 else { continue }
            tissue += 1
            if p.map({ -log(($0 + 1) / 256) }).reduce(0, +) > ArtefactQC.foldOpticalDensity { dark += 1 }
        }
        XCTAssertEqual(ArtefactQC.foldFraction(random), Double(dark) / Double(tissue), accuracy: 1e-12)
        XCTAssertEqual(ArtefactQC.foldFraction(RGBImage(width: 8, height: 8, fill: (240, 240, 240))), 0, "glass: nothing to judge")
    }

    func testOneLayerIsKeptAndAFoldIsDropped() {
        let (tile, nucleus) = Self.stroma()
        let nuclei = Double(nucleus.filter { $0 }.count) / Double(nucleus.count)
        // One layer: only the nuclei are doubly dark (4 discs of 61 pixels in 64²: 6 %).
        XCTAssertEqual(ArtefactQC.foldFraction(tile), nuclei, accuracy: 1e-12)
        XCTAssertLessThan(nuclei, ArtefactQC.defaultFoldMax)
        XCTAssertNil(ArtefactQC(checks: .fold).dropReason(tile))
        // Folded: the stroma's OD sum becomes 2.96, every tissue pixel is doubly dark.
        let fold = Self.folded(tile)
        XCTAssertEqual(ArtefactQC.foldFraction(fold), 1, accuracy: 1e-12)
        XCTAssertEqual(ArtefactQC(checks: .fold).dropReason(fold), .fold)
        XCTAssertNil(ArtefactQC(checks: .standard).dropReason(fold), "fold check off: kept")
        XCTAssertNil(ArtefactQC(checks: .fold, foldMax: 1).dropReason(fold), "at most the largest share: kept")
    }

    /// `image` with every pixel whose centre lies `inner`…`outer` from (cx, cy) dimmed as a bubble rim
    /// dims the light (transmission 0.45, 0.45, 0.5).
    static func withRim(_ image: RGBImage, cx: Double, cy: Double, inner: Double, outer: Double) -> RGBImage {
        var out = image
        for y in 0..<image.height {
            for x in 0..<image.width {
                let d = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)).squareRoot()
                guard d >= inner && d < outer else { continue }
                let i = (y * image.width + x) * 3
                for (c, t) in [0.45, 0.45, 0.5].enumerated() { out.pixels[i + c] = UInt8((Double(image.pixels[i + c]) * t).rounded(.down)) }
            }
        }
        return out
    }

    func testRimPixelsAgainstTheODRiseWorkedByHand() {
        // Glass (240) on both sides of a 3-pixel column of rim over glass (108, 108, 120): the rise in
        // OD is ln(241/109) = 0.793 in red and green, ln(241/121) = 0.689 in blue (0.87 of the largest).
        let d = ArtefactQC.rimReach
        func column(_ colour: (UInt8, UInt8, UInt8), on ground: (UInt8, UInt8, UInt8)) -> [Bool] {
            var tile = RGBImage(width: 4 * d, height: 2 * d + 2, fill: ground)
            for y in 0..<tile.height {
                for x in (2 * d - 1)...(2 * d + 1) {
                    let i = (y * tile.width + x) * 3
                    (tile.pixels[i], tile.pixels[i + 1], tile.pixels[i + 2]) = colour
                }
            }
            return ArtefactQC.rimMask(tile)
        }
        let rim = column((108, 108, 120), on: (240, 240, 240))
        let w = 4 * d
        // Only the band's pixels (rows d…d+1, inside the border margin) are rim.
        XCTAssertEqual(rim.indices.filter { rim[$0] }.map { ($0 % w) }, Array(repeating: Array((2 * d - 1)...(2 * d + 1)), count: 2).flatMap { $0 })
        XCTAssertEqual(rim.indices.filter { rim[$0] }.map { $0 / w }, [d, d, d, d + 1, d + 1, d + 1])
        // A nucleus line (95, 60, 150) on eosin (232, 160, 200): blue rises ln(201/151) = 0.29 < 0.4.
        XCTAssertFalse(column((95, 60, 150), on: (232, 160, 200)).contains(true))
        // Grey rim (170, 170, 170) on glass: a rise of ln(241/171) = 0.34 in every channel, too faint.
        XCTAssertFalse(column((170, 170, 170), on: (240, 240, 240)).contains(true))
        // An eosin fibre (200, 60, 160) on glass: red rises only ln(241/201) = 0.18.
        XCTAssertFalse(column((200, 60, 160), on: (240, 240, 240)).contains(true))
        // A near-neutral (CMU-like purple-grey) nucleus (120, 100, 130) on pink (220, 170, 200) rises
        // 0.60, 0.53, 0.43 (0.71 of the largest): a rim pixel; only its length tells it apart.
        XCTAssertTrue(column((120, 100, 130), on: (220, 170, 200)).contains(true))
    }

    func testLongestRunIsTheLargerSideOfTheLargestEightConnectedSet() {
        // 10 × 6: a diagonal of 5 (8-connected: one set, 5 wide), an L of 3 down and 2 across, a dot.
        var mask = [Bool](repeating: false, count: 60)
        for k in 0..<5 { mask[k * 10 + k] = true }
        for (x, y) in [(8, 0), (8, 1), (8, 2), (9, 2)] { mask[y * 10 + x] = true }
        mask[5 * 10 + 9] = true
        XCTAssertEqual(ArtefactQC.longestRun(mask, width: 10, height: 6), 5)
        mask[5 * 10 + 5] = true  // touches the diagonal's end (4, 4): 6 × 6
        XCTAssertEqual(ArtefactQC.longestRun(mask, width: 10, height: 6), 6)
        XCTAssertEqual(ArtefactQC.longestRun([Bool](repeating: false, count: 60), width: 10, height: 6), 0)
    }

    func testABubbleRimAcrossTheTileIsDroppedAndNucleiAreNot() {
        // A 200-px H&E tile; a rim 6 px wide on a circle of radius 60–66 px about the centre: one ring
        // whose bounding box is 131–133 px (the outermost pixels are where the band is found).
        let clean = QCTiles.hAndE(size: 200)
        let tile = Self.withRim(clean, cx: 100, cy: 100, inner: 60, outer: 66)
        let length = ArtefactQC.rimLength(tile)
        XCTAssertGreaterThanOrEqual(length, 125)
        XCTAssertLessThanOrEqual(length, 133)
        XCTAssertEqual(ArtefactQC(checks: .bubble).dropReason(tile), .bubble)
        XCTAssertNil(ArtefactQC(checks: .bubble, bubbleMax: 140).dropReason(tile), "at most the longest rim: kept")
        XCTAssertNil(ArtefactQC(checks: .standard).dropReason(tile), "bubble check off: kept")
        // The clean tile: its nuclei are not neutral; kept.
        XCTAssertEqual(ArtefactQC.rimLength(clean), 0)
        XCTAssertNil(ArtefactQC(checks: .bubble).dropReason(clean))
        // Near-neutral nuclei (discs of radius 4 on a 16-px lattice) are rim pixels but short ones.
        var grey = RGBImage(width: 200, height: 200, fill: (220, 170, 200))
        for y in 0..<200 {
            for x in 0..<200 where (x % 16 - 8) * (x % 16 - 8) + (y % 16 - 8) * (y % 16 - 8) < 20 {
                let i = (y * 200 + x) * 3
                (grey.pixels[i], grey.pixels[i + 1], grey.pixels[i + 2]) = (120, 100, 130)
            }
        }
        XCTAssertGreaterThan(ArtefactQC.rimLength(grey), 0)
        XCTAssertLessThanOrEqual(ArtefactQC.rimLength(grey), 9)
        XCTAssertNil(ArtefactQC(checks: .bubble).dropReason(grey))
    }

    func testChecksRunInOrderAndRecordTheirMeasures() {
        let fold = Self.folded(Self.stroma().tile)
        let verdict = ArtefactQC(checks: .all).evaluate(fold)
        XCTAssertNotNil(verdict.inkFraction)
        XCTAssertNotNil(verdict.focus)
        XCTAssertEqual(verdict.foldFraction ?? -1, 1, accuracy: 1e-12)
        XCTAssertEqual(verdict.rimLength, ArtefactQC.rimLength(fold))
        let standard = ArtefactQC().evaluate(fold)
        XCTAssertNil(standard.foldFraction)
        XCTAssertNil(standard.rimLength)
    }

    func testTilingSpecRecordsAndComparesTheThresholds() throws {
        var spec = TilingSpec(tileSize: 256, target: TilingTarget(mpp: 0.5, magnification: nil, level: nil), jpegQuality: 90)
        spec.qc = .all
        spec.foldMax = 0.2
        spec.bubbleMax = 150
        let decoded = try JSONDecoder().decode(TilingSpec.self, from: JSONEncoder().encode(spec))
        XCTAssertEqual(decoded, spec)
        XCTAssertEqual(decoded.artefactQC, ArtefactQC(checks: .all, foldMax: 0.2, bubbleMax: 150))
        var other = spec
        other.foldMax = 0.12
        XCTAssertEqual(spec.differences(from: other).map(\.name), [TilingSpec.Key.foldMax.rawValue])
        // A record written before these checks (no fold or bubble fields) reads with the defaults.
        var old = spec
        old.qc = .standard
        old.foldMax = ArtefactQC.defaultFoldMax
        old.bubbleMax = ArtefactQC.defaultBubbleMax
        let json = String(decoding: try JSONEncoder().encode(old), as: UTF8.self)
        XCTAssertFalse(json.contains("foldMax"))
        XCTAssertEqual(try JSONDecoder().decode(TilingSpec.self, from: Data(json.utf8)), old)
    }
}
