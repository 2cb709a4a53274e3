import TesseraCore
import XCTest

@testable import Stain

/// HED augmentation: deconvolution and recomposition invert each other, σ = 0 changes nothing,
/// and the perturbation is a function of the seed.
final class HEDAugmentationTests: XCTestCase {
    func testDeconvolutionAndRecompositionRoundTrip() {
        for od in [[0.3, 0.5, 0.2], [1.2, 0.1, 0.8], [0, 0, 0], [-0.06, -0.06, -0.06]] {
            let back = HEDAugmentation.recompose(HEDAugmentation.deconvolve(od))
            for c in 0..<3 { XCTAssertEqual(back[c], od[c], accuracy: 1e-12) }
        }
        // A pure stain deconvolves to itself alone.
        let h = HEDAugmentation.deconvolve(HEDAugmentation.stains[0].map { $0 * 0.7 })
        XCTAssertEqual(h[0], 0.7, accuracy: 1e-12)
        XCTAssertEqual(h[1], 0, accuracy: 1e-12)
        XCTAssertEqual(h[2], 0, accuracy: 1e-12)
    }

    func testZeroSigmaIsTheIdentity() {
        let tile = StainedTile.make(size: 128, stains: .builtIn, seed: 4)
        var rng = SeededGenerator(seed: 1)
        let (alpha, beta) = HEDAugmentation.draw(sigma: 0, rng: &rng)
        XCTAssertEqual(alpha, [1, 1, 1])
        XCTAssertEqual(beta, [0, 0, 0])
        var copy = tile
        HEDAugmentation.apply(&copy, alpha: alpha, beta: beta)
        // Exact: M·M⁻¹ differs from I by ~1e-7, far below the half-byte a value would need to move.
        XCTAssertTrue(copy == tile)
        let values: [UInt8] = (0..<(256 * 256 * 3)).map { (i: Int) -> UInt8 in UInt8(truncatingIfNeeded: i * 7 + i / 3) }
        var all = RGBImage(width: 256, height: 256, pixels: values)
        let before = all
        HEDAugmentation.apply(&all, alpha: [1, 1, 1], beta: [0, 0, 0])
        XCTAssertTrue(all == before)
    }

    func testPerturbationScalesAndShiftsTheStainsAsDrawn() {
        // One pixel of known concentrations: after the map, deconvolution gives α·c + β.
        let c = [0.6, 0.3, 0.05]
        let od = HEDAugmentation.recompose(c)
        let byte = od.map { UInt8((Double(OpticalDensity.incidentLight) * exp(-$0) - 1).rounded()) }
        var image = RGBImage(width: 1, height: 1, pixels: byte)
        let alpha: [Float] = [1.04, 0.97, 1.0], beta: [Float] = [0.03, -0.02, 0]
        let measured = HEDAugmentation.deconvolve(byte.map { Double(OpticalDensity.fromByte[Int($0)]) })
        HEDAugmentation.apply(&image, alpha: alpha, beta: beta)
        let after = HEDAugmentation.deconvolve(image.pixels.map { Double(OpticalDensity.fromByte[Int($0)]) })
        // Tolerance 0.02: one byte step of OD at these values is ~0.005, amplified by M⁻¹ (norm ~3).
        for s in 0..<2 { XCTAssertEqual(after[s], Double(alpha[s]) * measured[s] + Double(beta[s]), accuracy: 0.02, "stain \(s)") }
    }

    func testDrawsAreAFunctionOfTheSeed() {
        var a = SeededGenerator(seed: 7, stream: 3), b = SeededGenerator(seed: 7, stream: 3), c = SeededGenerator(seed: 7, stream: 4)
        let x = HEDAugmentation.draw(sigma: 0.05, rng: &a), y = HEDAugmentation.draw(sigma: 0.05, rng: &b)
        let z = HEDAugmentation.draw(sigma: 0.05, rng: &c)
        XCTAssertEqual(x.alpha, y.alpha)
        XCTAssertEqual(x.beta, y.beta)
        XCTAssertNotEqual(x.alpha, z.alpha)
        for v in x.alpha { XCTAssertTrue((0.95...1.05).contains(v)) }
        for v in x.beta { XCTAssertTrue((-0.05...0.05).contains(v)) }
    }
}
