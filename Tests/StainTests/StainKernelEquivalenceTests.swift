import Foundation
import TesseraCore
import XCTest

@testable import Stain

/// The x86-64-v3 copy of Reinhard's kernels against the baseline copy: the same bytes out (and the
/// same statistics), on rendered tiles, noise and odd sizes that leave loop tails.
/// Skipped where the CPU cannot run the v3 copy: there is then nothing to compare.
final class StainKernelEquivalenceTests: XCTestCase {
    let known = MacenkoReference(haematoxylin: unit([0.65, 0.70, 0.29]), eosin: unit([0.30, 0.85, 0.43]), maxConcentrations: [1.8, 1.4])

    override func setUpWithError() throws {
        let hardware = StainKernelPath.hardware
        try XCTSkipUnless(hardware.path == .avx2, "the v3 kernels cannot run here: \(hardware.reason)")
    }

    /// Rendered stains at the pipeline's sizes with and without glass, noise over every byte, a tile
    /// of odd size (tails of every loop), and one of a single row.
    func tiles() -> [RGBImage] {
        var rng = SeededGenerator(seed: 23)
        func noise(_ w: Int, _ h: Int) -> RGBImage {
            RGBImage(width: w, height: h, pixels: (0..<(w * h * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        }
        return [StainedTile.make(size: 128, stains: known, seed: 1), StainedTile.make(size: 256, stains: .builtIn, seed: 2),
                StainedTile.make(size: 224, stains: known, glassFraction: 0, seed: 3), StainedTile.make(size: 67, stains: .builtIn, glassFraction: 0.5, seed: 4),
                noise(128, 128), noise(61, 37), noise(203, 1)]
    }

    func testReinhardIsByteIdentical() {
        let targets = [ReinhardReference.builtIn, ReinhardReference(mean: [62, 24, -12], std: [14, 8, 7]),
                       ReinhardReference(mean: [40, 40, 10], std: [25, 15, 20])]
        for target in targets {
            for tile in tiles() {
                var base = ReinhardNormalizer(reference: target, kernels: .baseline), v3 = ReinhardNormalizer(reference: target, kernels: .avx2)
                XCTAssertEqual(base.statistics(tile), v3.statistics(tile))
                XCTAssertEqual(base.tissuePixels, v3.tissuePixels)
                var a = tile, b = tile
                XCTAssertEqual(base.normalize(&a), v3.normalize(&b))
                XCTAssertEqual(a.pixels, b.pixels, "Reinhard to \(target.mean), \(target.std) on \(tile.width)×\(tile.height)")
            }
        }
    }
}
