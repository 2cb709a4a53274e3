import Foundation
import TesseraCore
import Tiling
import XCTest

/// The fold and bubble checks on hand-made tiles whose answers are worked by hand.
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

    /// OD sum of one colour, −ln((R+1)/256) − ln((G+1)/256) − ln((B+1)/256), in Double.
    static func density(_ r: Double, _ g: Double, _ b: Double) -> Double {
        -log((r + 1) / 256) - log((g + 1) / 256) - log((b + 1) / 256)
    }

    func testBlockDensitiesAreTheODOfEachTissueBlocksMeanColour() {
        // 192 × 64 in three 64² blocks: stroma; stroma and nuclei in alternate columns (mean colour
        // (147.5, 85, 160)); half glass (240), half stroma: 50 % tissue, not judged.
        let side = ArtefactQC.foldBlock
        var tile = RGBImage(width: 3 * side, height: side, fill: (200, 110, 170))
        for y in 0..<side {
            for x in side..<(3 * side) {
                let i = (y * tile.width + x) * 3
                if x < 2 * side && x % 2 == 1 { (tile.pixels[i], tile.pixels[i + 1], tile.pixels[i + 2]) = (95, 60, 150) }
                if x >= 2 * side && y < side / 2 { (tile.pixels[i], tile.pixels[i + 1], tile.pixels[i + 2]) = (240, 240, 240) }
            }
        }
        let blocks = ArtefactQC.blockDensities(tile, side: side)
        XCTAssertEqual(blocks.count, 2)
        XCTAssertEqual(blocks[0], Self.density(200, 110, 170), accuracy: 1e-12)  // 1.488
        XCTAssertEqual(blocks[1], Self.density(147.5, 85, 160), accuracy: 1e-12)  // 2.040
        // The reference is the median block: of the two, their mean; a partial block is left out.
        XCTAssertEqual(ArtefactQC.foldReference(thumbnail: tile, side: side) ?? -1, (blocks[0] + blocks[1]) / 2, accuracy: 1e-12)
        XCTAssertEqual(ArtefactQC.foldReference(thumbnail: tile, side: 1) ?? -1, Self.density(200, 110, 170), accuracy: 1e-12,
                       "per pixel: stroma is the median colour")
        XCTAssertNil(ArtefactQC.foldReference(thumbnail: RGBImage(width: 64, height: 64, fill: (240, 240, 240)), side: 8), "glass: none")
    }

    func testOneLayerIsKeptAndAFoldIsDropped() {
        // 256² of stroma with nuclei: 16 blocks, all alike; the slide's reference is one layer's.
        let (tile, _) = Self.stroma(size: 256)
        let reference = ArtefactQC.blockDensities(tile, side: ArtefactQC.foldBlock)[0]
        let qc = ArtefactQC(checks: .fold, foldReference: reference)
        XCTAssertEqual(ArtefactQC.foldShare(tile, reference: reference), 0)
        XCTAssertNil(qc.dropReason(tile))
        // Folded: every block's OD sum about doubles, above 1.6 × the reference.
        let fold = Self.folded(tile)
        XCTAssertEqual(ArtefactQC.foldShare(fold, reference: reference), 1)
        XCTAssertEqual(qc.dropReason(fold), .fold)
        // Folded on one block of 16 (6 %, below the 15 % kept), on four (25 %, dropped).
        func partly(_ blocks: Int) -> RGBImage {
            var out = tile
            for y in 0..<64 {
                for x in 0..<(64 * blocks) {
                    let i = (y * 256 + x) * 3
                    for c in 0..<3 { out.pixels[i + c] = fold.pixels[i + c] }
                }
            }
            return out
        }
        XCTAssertEqual(ArtefactQC.foldShare(partly(1), reference: reference), 1.0 / 16)
        XCTAssertNil(qc.dropReason(partly(1)))
        XCTAssertEqual(ArtefactQC.foldShare(partly(4), reference: reference), 4.0 / 16)
        XCTAssertEqual(qc.dropReason(partly(4)), .fold)
        // A darker slide (its reference from the fold itself) keeps the folded tile: the rule is relative.
        XCTAssertNil(ArtefactQC(checks: .fold, foldReference: ArtefactQC.blockDensities(fold, side: 64)[0]).dropReason(fold))
        XCTAssertNil(ArtefactQC(checks: .fold).evaluate(fold).foldShare, "no reference: nothing measured")
        XCTAssertNil(ArtefactQC(checks: .fold).dropReason(fold))
        XCTAssertNil(ArtefactQC(checks: .standard, foldReference: reference).dropReason(fold), "fold check off: kept")
        XCTAssertNil(ArtefactQC(checks: .fold, foldMax: 1, foldReference: reference).dropReason(fold), "at most the largest share: kept")
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
        XCTAssertNil(ArtefactQC(checks: [.pen, .blur]).dropReason(tile), "bubble check off: kept")
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
        let (tile, _) = Self.stroma(size: 256)
        let fold = Self.folded(tile)
        let reference = ArtefactQC.blockDensities(tile, side: ArtefactQC.foldBlock)[0]
        let verdict = ArtefactQC(checks: .all, foldReference: reference).evaluate(fold)
        XCTAssertNotNil(verdict.inkFraction)
        XCTAssertNotNil(verdict.focus)
        XCTAssertEqual(verdict.foldShare, 1)
        XCTAssertEqual(verdict.rimLength, ArtefactQC.rimLength(fold))
        // The default checks: pen, blur and bubble; fold is opt-in.
        let standard = ArtefactQC(foldReference: reference).evaluate(fold)
        XCTAssertNil(standard.foldShare)
        XCTAssertEqual(standard.rimLength, ArtefactQC.rimLength(fold))
        XCTAssertNil(ArtefactQC(checks: [.pen, .blur]).evaluate(fold).rimLength)
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
        old.qc = [.pen, .blur]
        old.foldMax = ArtefactQC.defaultFoldMax
        old.bubbleMax = ArtefactQC.defaultBubbleMax
        let json = String(decoding: try JSONEncoder().encode(old), as: UTF8.self)
        XCTAssertFalse(json.contains("foldMax"))
        XCTAssertEqual(try JSONDecoder().decode(TilingSpec.self, from: Data(json.utf8)), old)
    }
}
