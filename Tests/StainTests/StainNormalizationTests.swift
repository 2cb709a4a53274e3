import Foundation
import TesseraCore
import XCTest

@testable import Stain

/// Reinhard and Macenko against hand-made references: tiles rendered from known stains, exact
/// L*a*b* statistics, and the identity fallback on tiles without tissue.
final class StainNormalizationTests: XCTestCase {
    /// Ruifrok and Johnston's H and an eosin redder than the built-in reference's (Ruifrok's own E has
    /// so little red OD that pure-eosin pixels fail Macenko's OD ≥ β in every channel).
    let known = MacenkoReference(haematoxylin: unit([0.65, 0.70, 0.29]), eosin: unit([0.30, 0.85, 0.43]), maxConcentrations: [1.8, 1.4])

    func testMacenkoRecoversTheStainsATileWasMadeWith() throws {
        var macenko = MacenkoNormalizer(reference: .builtIn)
        for seed: UInt64 in 1...4 {
            let tile = StainedTile.make(size: 256, stains: known, seed: seed)
            let fit = try XCTUnwrap(macenko.fit(tile))
            let h = angleDegrees(fit.haematoxylin, known.haematoxylin), e = angleDegrees(fit.eosin, known.eosin)
            // Tolerance 2°: byte rounding and ±0.5 noise move the OD of light pixels by up to ~0.01.
            XCTAssertLessThan(h, 2, "haematoxylin off by \(h)° (seed \(seed))")
            XCTAssertLessThan(e, 2, "eosin off by \(e)° (seed \(seed))")
        }
    }

    func testMacenkoMapsATileOntoTheReferenceStains() throws {
        var macenko = MacenkoNormalizer(reference: .builtIn)
        var tile = StainedTile.make(size: 256, stains: known, seed: 5)
        XCTAssertTrue(macenko.normalize(&tile))
        let fit = try XCTUnwrap(macenko.fit(tile))
        let h = angleDegrees(fit.haematoxylin, MacenkoReference.builtIn.haematoxylin)
        let e = angleDegrees(fit.eosin, MacenkoReference.builtIn.eosin)
        XCTAssertLessThan(h, 3, "haematoxylin after normalisation off the reference by \(h)°")
        XCTAssertLessThan(e, 3, "eosin after normalisation off the reference by \(e)°")
        for k in 0..<2 {
            let ratio = fit.maxConcentrations[k] / MacenkoReference.builtIn.maxConcentrations[k]
            XCTAssertEqual(ratio, 1, accuracy: 0.05, "maximum concentration \(k): \(fit.maxConcentrations[k])")
        }
    }

    func testReinhardOutputHasTheTargetsLabStatistics() {
        let target = ReinhardReference(mean: [62, 24, -12], std: [14, 8, 7])
        var reinhard = ReinhardNormalizer(reference: target)
        var tile = StainedTile.make(size: 256, stains: known, seed: 2)
        XCTAssertTrue(reinhard.normalize(&tile))
        let (mean, std) = exactLabStatistics(tile)
        // Tolerance 0.5 (L*a*b* units): bytes are rounded, and the few pixels pushed out of gamut are clamped.
        for c in 0..<3 {
            XCTAssertEqual(mean[c], Double(target.mean[c]), accuracy: 0.5, "mean of channel \(c)")
            XCTAssertEqual(std[c], Double(target.std[c]), accuracy: 0.5, "std of channel \(c)")
        }
    }

    func testReinhardStatisticsMatchTheExactConversion() {
        var reinhard = ReinhardNormalizer(reference: .builtIn)
        let tile = StainedTile.make(size: 128, stains: known, seed: 3)
        let fast = reinhard.statistics(tile)
        let (mean, std) = exactLabStatistics(tile)
        for c in 0..<3 {
            XCTAssertEqual(Double(fast.mean[c]), mean[c], accuracy: 0.01)
            XCTAssertEqual(Double(fast.std[c]), std[c], accuracy: 0.01)
        }
    }

    func testBuiltInReinhardTargetIsTheBuiltInStainsTile() {
        var reinhard = ReinhardNormalizer(reference: .builtIn)
        let measured = reinhard.statistics(StainedTile.make(size: 256, stains: .builtIn, seed: 1))
        for c in 0..<3 {
            XCTAssertEqual(measured.mean[c], ReinhardReference.builtIn.mean[c], accuracy: 0.01, "mean \(c)")
            XCTAssertEqual(measured.std[c], ReinhardReference.builtIn.std[c], accuracy: 0.01, "std \(c)")
        }
    }

    func testTilesWithoutTissueFallBackToTheIdentityAndAreCounted() {
        // Glass with a 10×10 speck of stain: 0.15% tissue, far below the 5% a fit needs.
        var tile = RGBImage(width: 256, height: 256)
        for y in 100..<110 { for x in 100..<110 { let i = (y * 256 + x) * 3; tile.pixels[i] = 120; tile.pixels[i + 1] = 60; tile.pixels[i + 2] = 150 } }
        let before = tile
        for method in StainNormalization.Method.allCases {
            var normalizer = StainNormalizer(.builtIn(method))
            var copy = tile
            XCTAssertFalse(normalizer.normalize(&copy), "\(method)")
            XCTAssertTrue(copy == before, "\(method) changed a tile it fell back on")
            var tissue = StainedTile.make(size: 64, stains: known, seed: 1)
            XCTAssertTrue(normalizer.normalize(&tissue), "\(method)")
            let counts = normalizer.takeCounts()
            XCTAssertEqual(counts.tiles, 2)
            XCTAssertEqual(counts.fallbacks, 1)
            XCTAssertEqual(normalizer.takeCounts().tiles, 0)
        }
        var blank = RGBImage(width: 64, height: 64, fill: (230, 230, 230))
        var reinhard = ReinhardNormalizer(reference: .builtIn)
        XCTAssertFalse(reinhard.normalize(&blank), "a flat tile has no distribution to match")
    }

    func testReferenceFittedOnTilesIsTheirMeanFit() throws {
        for method in StainNormalization.Method.allCases {
            var fit = StainReferenceFit(method: method)
            for seed: UInt64 in 1...3 { fit.add(StainedTile.make(size: 128, stains: known, seed: seed)) }
            fit.add(RGBImage(width: 128, height: 128))  // glass: not counted
            XCTAssertEqual(fit.sums[0], 3)
            let n = try XCTUnwrap(fit.normalization())
            XCTAssertEqual(n.referenceSource, "train (3 tiles)")
            if method == .macenko {
                XCTAssertLessThan(angleDegrees(n.macenko!.haematoxylin, known.haematoxylin), 2)
                XCTAssertLessThan(angleDegrees(n.macenko!.eosin, known.eosin), 2)
            } else {
                var r = ReinhardNormalizer(reference: .builtIn)
                let one = r.statistics(StainedTile.make(size: 128, stains: known, seed: 1))
                XCTAssertEqual(n.reinhard!.mean[0], one.mean[0], accuracy: 3, "mean L* of similar tiles")
            }
        }
        XCTAssertNil(StainReferenceFit(method: .macenko).normalization())
    }

    func testSymmetricEigenDecompositionAgainstTheDefinition() throws {
        var rng = SeededGenerator(seed: 9)
        for _ in 0..<50 {
            var a = [Double](repeating: 0, count: 9)
            for i in 0..<3 { for j in i..<3 { let v = rng.nextUnit() * 2 - 1; a[3 * i + j] = v; a[3 * j + i] = v } }
            let eigen = try XCTUnwrap(SymmetricEigen3.decompose(a))
            XCTAssertGreaterThanOrEqual(eigen[0].value, eigen[1].value)
            XCTAssertGreaterThanOrEqual(eigen[1].value, eigen[2].value)
            for (value, v) in eigen {
                for i in 0..<3 {
                    let av = a[3 * i] * v[0] + a[3 * i + 1] * v[1] + a[3 * i + 2] * v[2]
                    XCTAssertEqual(av, value * v[i], accuracy: 1e-9)
                }
            }
        }
        let diagonal = try XCTUnwrap(SymmetricEigen3.decompose([2, 0, 0, 0, 2, 0, 0, 0, 1]))
        XCTAssertEqual(diagonal.map(\.value), [2, 2, 1])
        XCTAssertEqual(abs(diagonal[2].vector[2]), 1, accuracy: 1e-12)
    }

    func testOpticalDensityTablesRoundTripEveryByte() {
        OpticalDensity.toByteTable.withUnsafeBufferPointer { t in
            for v in 0..<256 {
                XCTAssertEqual(OpticalDensity.byte(OpticalDensity.fromByte[v], table: t.baseAddress!, count: t.count), UInt8(v))
            }
        }
    }
}

func unit(_ v: [Float]) -> [Float] { let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot(); return v.map { $0 / n } }

func angleDegrees(_ u: [Float], _ v: [Float]) -> Double {
    let d = zip(unit(u), unit(v)).reduce(0) { $0 + Double($1.0 * $1.1) }
    return acos(min(1, max(-1, d))) * 180 / .pi
}

/// Mean and standard deviation of L*, a*, b* by the exact conversion (no tables).
func exactLabStatistics(_ image: RGBImage) -> ([Double], [Double]) {
    var s = [Double](repeating: 0, count: 6)
    for p in 0..<(image.width * image.height) {
        let (r, g, b) = image.pixel(x: p % image.width, y: p / image.width)
        let lab = LabColor.exact(r, g, b)
        let v = [lab.0, lab.1, lab.2]
        for c in 0..<3 { s[c] += v[c]; s[3 + c] += v[c] * v[c] }
    }
    let n = Double(image.width * image.height)
    let mean = (0..<3).map { s[$0] / n }
    return (mean, (0..<3).map { (s[3 + $0] / n - mean[$0] * mean[$0]).squareRoot() })
}

