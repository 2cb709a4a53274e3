import Foundation
import TesseraCore
import XCTest

@testable import Stain

/// The fixed-point paths (integer L*a*b* up to the cube root, integer OD maps) against the float
/// paths they replaced, kept here as references: at most one grey level apart, on at most 0.1 % of
/// the values.
final class StainFixedPointTests: XCTestCase {
    let known = MacenkoReference(haematoxylin: unit([0.65, 0.70, 0.29]), eosin: unit([0.30, 0.85, 0.43]), maxConcentrations: [1.8, 1.4])

    /// Tiles with every byte value: rendered stains, and noise over all 2²⁴ colours' range.
    func tiles() -> [RGBImage] {
        var rng = SeededGenerator(seed: 11)
        let noise = RGBImage(width: 128, height: 128, pixels: (0..<(128 * 128 * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        return [StainedTile.make(size: 128, stains: known, seed: 1), StainedTile.make(size: 128, stains: .builtIn, seed: 2), noise]
    }

    func testOpticalDensityMapMatchesTheFloatPath() {
        var rng = SeededGenerator(seed: 3)
        var maps: [(matrix: [Float], offset: [Float])] = [([1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 0, 0])]
        for _ in 0..<6 {
            let matrix = (0..<9).map { k in (k % 4 == 0 ? 1 : 0) + Float(rng.nextUnit() - 0.5) * 0.6 }
            maps.append((matrix, (0..<3).map { _ in Float(rng.nextUnit() - 0.5) * 0.4 }))
        }
        // Sums far outside the table (the clamped path), and terms beyond the fixed point (the float path).
        maps.append(([8, -6, 0, 0, 5, 0, -4, 0, 6], [3, -3, 0]))
        maps.append(([40, -30, 0, 0, 25, 0, -20, 0, 30], [5, -5, 0]))
        for (matrix, offset) in maps {
            for tile in tiles() {
                var fast = tile, float = tile
                OpticalDensityMap(matrix: matrix, offset: offset).apply(&fast)
                OpticalDensityMap.mapInFloat(&float, matrix: matrix, offset: offset)
                assertClose(fast, float, "map \(matrix) + \(offset)")
            }
        }
    }

    func testReinhardMatchesTheFloatPath() {
        let targets = [ReinhardReference.builtIn, ReinhardReference(mean: [62, 24, -12], std: [14, 8, 7]),
                       ReinhardReference(mean: [40, 40, 10], std: [25, 15, 20])]
        for target in targets {
            for tile in tiles() {
                var normalizer = ReinhardNormalizer(reference: target)
                var fast = tile, float = tile
                let applied = normalizer.normalize(&fast)
                XCTAssertEqual(applied, referenceReinhard(&float, target: target))
                assertClose(fast, float, "target \(target.mean), \(target.std)")
            }
        }
    }

    /// Reinhard's tissue count, read from the fourth lane of the table terms, against the direct
    /// count (some channel at or below the tissue byte), on tiles with glass, tissue and every byte.
    func testReinhardTissueCountIsTheDirectCount() {
        var edges = [UInt8]()
        for r in [204, 205, 206, 255] as [UInt8] {
            for g in [204, 205, 206, 255] as [UInt8] { for b in [204, 205, 206, 255] as [UInt8] { edges += [r, g, b] } }
        }
        for tile in tiles() + [RGBImage(width: 64, height: 1, pixels: edges)] {
            var normalizer = ReinhardNormalizer(reference: .builtIn)
            _ = normalizer.statistics(tile)
            var direct = 0
            for p in 0..<(tile.width * tile.height) where tile.pixels[3 * p..<3 * p + 3].min()! <= ReinhardNormalizer.tissueByte { direct += 1 }
            XCTAssertEqual(normalizer.tissuePixels, direct, "\(tile.width)×\(tile.height)")
        }
    }

    func assertClose(_ a: RGBImage, _ b: RGBImage, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        var worst = 0, differing = 0
        for (x, y) in zip(a.pixels, b.pixels) where x != y {
            differing += 1
            worst = max(worst, abs(Int(x) - Int(y)))
        }
        XCTAssertLessThanOrEqual(worst, 1, "\(label): a value \(worst) grey levels off", file: file, line: line)
        XCTAssertLessThanOrEqual(Double(differing), 0.001 * Double(a.pixels.count), "\(label): \(differing) values differ", file: file, line: line)
    }

    /// The float Reinhard as it was: L*a*b* by float matrices and the unrounded cube-root table,
    /// statistics over the tile, per-channel affine map, back by the float inverse.
    func referenceReinhard(_ image: inout RGBImage, target: ReinhardReference) -> Bool {
        let n = image.width * image.height
        var lab = [Float](repeating: 0, count: 3 * n)
        var sums = [Double](repeating: 0, count: 6)
        var tissue = 0
        let f = LabColor.forward, lin = LabColor.linearFromByte
        LabColor.cubeRootTable.withUnsafeBufferPointer { cube in
            for p in 0..<n {
                let r8 = image.pixels[3 * p], g8 = image.pixels[3 * p + 1], b8 = image.pixels[3 * p + 2]
                if min(r8, g8, b8) <= ReinhardNormalizer.tissueByte { tissue += 1 }
                let r = lin[Int(r8)], g = lin[Int(g8)], b = lin[Int(b8)]
                func cubeRoot(_ t: Float) -> Float { cube[Int(max(0, min(1, t)) * Float(LabColor.cubeRootSteps) + 0.5)] }
                let fx = cubeRoot(f[0] * r + f[1] * g + f[2] * b), fy = cubeRoot(f[3] * r + f[4] * g + f[5] * b)
                let fz = cubeRoot(f[6] * r + f[7] * g + f[8] * b)
                let v = [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)]
                for c in 0..<3 { lab[3 * p + c] = v[c]; sums[c] += Double(v[c]); sums[3 + c] += Double(v[c] * v[c]) }
            }
        }
        let mean = (0..<3).map { sums[$0] / Double(n) }
        let std = (0..<3).map { max(0, sums[3 + $0] / Double(n) - mean[$0] * mean[$0]).squareRoot() }
        guard std[0] >= Double(ReinhardNormalizer.minimumLightnessStd),
              tissue >= max(64, Int(ReinhardNormalizer.minimumTissueFraction * Double(n))) else { return false }
        let scale = (0..<3).map { std[$0] > 1e-3 ? target.std[$0] / Float(std[$0]) : 1 }
        let offset = (0..<3).map { target.mean[$0] - Float(mean[$0]) * scale[$0] }
        let v = LabColor.inverse
        for p in 0..<n {
            let l = lab[3 * p] * scale[0] + offset[0], a = lab[3 * p + 1] * scale[1] + offset[1], bb = lab[3 * p + 2] * scale[2] + offset[2]
            let fy = (l + 16) / 116
            let x = LabColor.fInverse(fy + a / 500), y = LabColor.fInverse(fy), z = LabColor.fInverse(fy - bb / 200)
            for c in 0..<3 {
                let linear = v[3 * c] * x + v[3 * c + 1] * y + v[3 * c + 2] * z
                image.pixels[3 * p + c] = LabColor.byteFromLinear[Int(max(0, min(1, linear)) * Float(LabColor.byteSteps) + 0.5)]
            }
        }
        return true
    }
}
