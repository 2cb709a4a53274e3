import Foundation
import TesseraCore
import Tiling
import XCTest

/// The block focus rule: the focus measure per 128² block against a per-sample reference, a tile
/// blurred over half its area dropped by it (and not by the whole-tile measure), and its threshold
/// in the tiling record.
final class BlockFocusTests: XCTestCase {
    /// The lowest block focus measure computed naively in Double: the samples of `QCTiles.naiveFocus`
    /// (every second pixel of every second row from (1, 1), tissue only) grouped by the 128² block
    /// they fall in; blocks with fewer than 2,048 tissue samples (half of 64²) are not judged.
    static func naiveLowestBlockFocus(_ image: RGBImage, threshold: Double = 220) -> Double {
        func grey(_ x: Int, _ y: Int) -> Double {
            let p = image.pixel(x: x, y: y)
            return 299 * Double(p.0) + 587 * Double(p.1) + 114 * Double(p.2)
        }
        var samples: [Int: (laplacians: [Double], greys: [Double])] = [:]
        for y in stride(from: 1, to: image.height - 1, by: 2) {
            for x in stride(from: 1, to: image.width - 1, by: 2) where grey(x, y) < threshold * 1000 {
                let lap = 4 * grey(x, y) - grey(x - 1, y) - grey(x + 1, y) - grey(x, y - 1) - grey(x, y + 1)
                samples[(y / 128) * 1000 + x / 128, default: ([], [])].laplacians.append((lap / 1000).rounded(.towardZero))
                samples[(y / 128) * 1000 + x / 128, default: ([], [])].greys.append(grey(x, y) / 1000)
            }
        }
        func variance(_ v: [Double]) -> Double {
            let mean = v.reduce(0, +) / Double(v.count)
            return v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)
        }
        var lowest = Double.infinity
        for (_, s) in samples where s.greys.count >= 2048 {
            let g = variance(s.greys)
            lowest = min(lowest, g < 1e-9 ? .infinity : 100 * variance(s.laplacians) / g)
        }
        return lowest
    }

    /// The top left w × h of a square H&E-like tile, the left `blurred` columns box-blurred (radius 2)
    /// and the pixels in `glass` rows (every other one) made glass, so blocks differ in focus and tissue.
    static func tile(width w: Int, height h: Int, blurredColumns: Int = 0, glassRows: Range<Int> = 0..<0, seed: UInt64 = 5) -> RGBImage {
        let side = max(w, h)
        let sharp = QCTiles.hAndE(size: side, seed: seed)
        let soft = blurredColumns > 0 ? QCTiles.blurred(sharp, radius: 2) : sharp
        var out = RGBImage(width: w, height: h)
        for y in 0..<h {
            for x in 0..<w {
                let source = x < blurredColumns ? soft : sharp
                let s = (y * side + x) * 3, d = (y * w + x) * 3
                let glass = glassRows.contains(y) && (x + y) % 2 == 0
                out.pixels[d] = glass ? 244 : source.pixels[s]
                out.pixels[d + 1] = glass ? 242 : source.pixels[s + 1]
                out.pixels[d + 2] = glass ? 246 : source.pixels[s + 2]
            }
        }
        return out
    }

    func testBlockFocusEqualsThePerSampleReferenceOnOddSizes() {
        // Sizes that end mid-block (partial blocks judged or not by their tissue samples), a single
        // block, a strip too thin to judge, and blur and glass that make the blocks differ.
        let cases: [(Int, Int, Int, Range<Int>)] = [
            (301, 259, 140, 0..<0), (129, 385, 60, 200..<300), (127, 127, 0, 0..<0), (513, 3, 0, 0..<0),
            (385, 200, 250, 130..<200), (260, 260, 130, 0..<128),
        ]
        for (w, h, blurred, glass) in cases {
            let image = Self.tile(width: w, height: h, blurredColumns: blurred, glassRows: glass)
            let size = "\(w)×\(h), blurred \(blurred), glass rows \(glass)"
            let measures = ArtefactQC.focusMeasures(image)
            let reference = Self.naiveLowestBlockFocus(image)
            XCTAssertEqual(measures.lowestBlock, reference, accuracy: 1e-9 * max(1, reference.isFinite ? reference : 1), size)
            XCTAssertEqual(measures.tile, ArtefactQC.focusMeasure(image), size)
            let naive = QCTiles.naiveFocus(image)
            XCTAssertEqual(measures.tile, naive, accuracy: 1e-9 * max(1, naive), size)
            let planes = ArtefactQC.focusMeasures(image, planes: RGBPlanes(image))
            XCTAssertEqual(planes.tile, measures.tile, "planes \(size)")
            XCTAssertEqual(planes.lowestBlock, measures.lowestBlock, "planes \(size)")
        }
        XCTAssertTrue(Self.naiveLowestBlockFocus(Self.tile(width: 513, height: 3)).isInfinite, "too thin: no block judged")
    }

    func testATileBlurredOverHalfItsWidthIsDroppedByItsBlocksASharpOneIsKept() {
        let sharp = Self.tile(width: 512, height: 512)
        let half = Self.tile(width: 512, height: 512, blurredColumns: 256)
        let qc = ArtefactQC(blurBlockMin: ArtefactQC.suggestedBlurBlockMin)
        let s = qc.evaluate(sharp), b = qc.evaluate(half)
        XCTAssertNil(s.dropped, "sharp: kept")
        XCTAssertGreaterThanOrEqual(s.blockFocus!, ArtefactQC.suggestedBlurBlockMin)
        // The sharp half keeps the whole-tile figure above its threshold; the blurred blocks do not.
        XCTAssertGreaterThanOrEqual(b.focus!, ArtefactQC.defaultBlurMin, "whole tile: looks sharp")
        XCTAssertLessThan(b.blockFocus!, ArtefactQC.suggestedBlurBlockMin)
        XCTAssertEqual(b.dropped, .blur)
        XCTAssertNil(ArtefactQC().evaluate(half).dropped, "block rule off (the default): kept, as before it")
        XCTAssertNil(ArtefactQC(checks: .pen, blurBlockMin: 9).evaluate(half).blockFocus, "blur check off: not measured")
    }

    func testTheTilingRecordKeepsTheBlockThresholdAndOldRecordsReadAsWithoutTheRule() throws {
        var spec = TilingSpec(tileSize: 512, target: TilingTarget(mpp: 0.5, magnification: nil, level: nil), jpegQuality: 90)
        spec.qc = .standard
        spec.blurBlockMin = 5
        let decoded = try JSONDecoder().decode(TilingSpec.self, from: JSONEncoder().encode(spec))
        XCTAssertEqual(decoded, spec)
        XCTAssertEqual(decoded.artefactQC, ArtefactQC(blurBlockMin: 5))
        var other = spec
        other.blurBlockMin = ArtefactQC.defaultBlurBlockMin
        XCTAssertEqual(spec.differences(from: other).map(\.name), [TilingSpec.Key.blurBlockMin.rawValue])
        // Off (the default) is not written, so records from before the rule read as off.
        XCTAssertFalse(String(decoding: try JSONEncoder().encode(other), as: UTF8.self).contains("blurBlockMin"))
        let old = #"{"tileSize":512,"targetMPP":0.5,"backgroundThreshold":220,"maxBackground":0.5,"jpegQuality":90,"qc":"pen,blur","penMax":0.05,"blurMin":20}"#
        XCTAssertEqual(try JSONDecoder().decode(TilingSpec.self, from: Data(old.utf8)).blurBlockMin, 0)
        let none = #"{"tileSize":512,"targetMPP":0.5,"backgroundThreshold":220,"maxBackground":0.5,"jpegQuality":90}"#
        XCTAssertEqual(try JSONDecoder().decode(TilingSpec.self, from: Data(none.utf8)).blurBlockMin, 0)
    }
}
