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

    func testBubbleRimIsCountedPixelForPixelAndDropsTheTile() {
        // A rim over glass (transmission 0.45, 0.45, 0.5 of 240) drawn as a ring on the H&E tile.
        var tile = QCTiles.hAndE()
        var ring = 0
        for y in 0..<64 {
            for x in 0..<64 {
                let d2 = (x - 32) * (x - 32) + (y - 32) * (y - 32)
                guard d2 >= 20 * 20 && d2 < 23 * 23 else { continue }
                ring += 1
                let i = (y * 64 + x) * 3
                (tile.pixels[i], tile.pixels[i + 1], tile.pixels[i + 2]) = (108, 108, 120)
            }
        }
        XCTAssertEqual(ArtefactQC.rimFraction(QCTiles.hAndE()), 0, "stained tissue keeps its hue")
        XCTAssertEqual(ArtefactQC.rimFraction(tile), Double(ring) / 4096, accuracy: 1e-12)
        XCTAssertEqual(ArtefactQC(checks: .bubble).dropReason(tile), .bubble)
        XCTAssertNil(ArtefactQC(checks: .bubble, bubbleMax: 0.5).dropReason(tile))
        // Rim grey, against glass, black ink, a nucleus, eosin and a pale bubble interior.
        XCTAssertTrue(ArtefactQC.isRimGrey(108, 108, 120))
        for (r, g, b) in [(240, 240, 240), (38, 38, 46), (95, 60, 150), (232, 160, 200), (200, 200, 205)] {
            XCTAssertFalse(ArtefactQC.isRimGrey(r, g, b), "(\(r), \(g), \(b)) is not a rim")
        }
    }

    func testChecksRunInOrderAndRecordTheirMeasures() {
        let fold = Self.folded(Self.stroma().tile)
        let verdict = ArtefactQC(checks: .all).evaluate(fold)
        XCTAssertNotNil(verdict.inkFraction)
        XCTAssertNotNil(verdict.focus)
        XCTAssertEqual(verdict.foldFraction ?? -1, 1, accuracy: 1e-12)
        XCTAssertEqual(verdict.rimFraction, ArtefactQC.rimFraction(fold))
        let standard = ArtefactQC().evaluate(fold)
        XCTAssertNil(standard.foldFraction)
        XCTAssertNil(standard.rimFraction)
    }

    func testTilingSpecRecordsAndComparesTheThresholds() throws {
        var spec = TilingSpec(tileSize: 256, target: TilingTarget(mpp: 0.5, magnification: nil, level: nil), jpegQuality: 90)
        spec.qc = .all
        spec.foldMax = 0.2
        spec.bubbleMax = 0.01
        let decoded = try JSONDecoder().decode(TilingSpec.self, from: JSONEncoder().encode(spec))
        XCTAssertEqual(decoded, spec)
        XCTAssertEqual(decoded.artefactQC, ArtefactQC(checks: .all, foldMax: 0.2, bubbleMax: 0.01))
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
