import TesseraCore
import XCTest

@testable import SyntheticSlides

/// Pure tests of the procedural content: no files, no native libraries.
final class SlideContentTests: XCTestCase {
    private func spec(_ cls: TissueClass, seed: UInt64, width: Int = 1024, height: Int = 768,
                      scan: ScanProfile = .aperio20x) -> SlideSpec {
        SlideSpec(slideID: "TEST-\(seed)", patientID: "TEST", tissueClass: cls, seed: seed,
                  width: width, height: height, scan: scan)
    }

    func testARegionRendersTheSameWholeInPiecesInAnyOrderAndSerially() {
        let renderer = SlideRenderer(spec: spec(.luad, seed: 42, width: 2000, height: 1500))
        let (x, y, w, h) = (611, 403, 300, 170)
        let whole = renderer.render(x: x, y: y, width: w, height: h)
        XCTAssertEqual(renderer.renderSerially(x: x, y: y, width: w, height: h), whole.pixels)

        // The same region as 4 × 3 irregular pieces, rendered last to first and stitched.
        let xs = [0, 37, 190, 251, w], ys = [0, 16, 101, h]
        var stitched = [UInt8](repeating: 0, count: w * h * 3)
        for j in (0..<(ys.count - 1)).reversed() {
            for i in (0..<(xs.count - 1)).reversed() {
                let pw = xs[i + 1] - xs[i], ph = ys[j + 1] - ys[j]
                let piece = renderer.render(x: x + xs[i], y: y + ys[j], width: pw, height: ph)
                for row in 0..<ph {
                    let dst = ((ys[j] + row) * w + xs[i]) * 3
                    stitched.replaceSubrange(dst..<(dst + pw * 3), with: piece.pixels[(row * pw * 3)..<((row + 1) * pw * 3)])
                }
            }
        }
        XCTAssertEqual(stitched, whole.pixels, "pieces rendered in another order differ from the whole")

        // A second renderer built from the same spec agrees; another seed does not.
        XCTAssertEqual(SlideRenderer(spec: spec(.luad, seed: 42, width: 2000, height: 1500))
            .render(x: x, y: y, width: w, height: h), whole)
        XCTAssertNotEqual(SlideRenderer(spec: spec(.luad, seed: 43, width: 2000, height: 1500))
            .render(x: x, y: y, width: w, height: h), whole)
    }

    func testTissueCoversThirtyToSixtyPercentAndTheMarginIsGlass() {
        var fractions: [Double] = []
        for seed in UInt64(1)...12 {
            let cls = TissueClass.allCases[Int(seed) % 3]
            let s = spec(cls, seed: seed * 104_729, width: 4000 + Int(seed) * 97, height: 3000)
            let layout = SlideRenderer(spec: s).tissue
            var inside = 0
            let n = 64
            for j in 0..<n {
                for i in 0..<n where layout.contains(x: (Double(i) + 0.5) * Double(s.width) / Double(n),
                                                      y: (Double(j) + 0.5) * Double(s.height) / Double(n)) {
                    inside += 1
                }
            }
            let fraction = Double(inside) / Double(n * n)
            fractions.append(fraction)
            XCTAssertEqual(fraction, layout.targetFraction, accuracy: 0.03, "seed \(seed): measured vs planned coverage")
            XCTAssertGreaterThanOrEqual(fraction, 0.30, "seed \(seed)")
            XCTAssertLessThanOrEqual(fraction, 0.60, "seed \(seed)")
            // The margin (4% of each side) is bare glass.
            for t in stride(from: 0.0, through: 1.0, by: 0.05) {
                XCTAssertFalse(layout.contains(x: t * Double(s.width), y: 0.03 * Double(s.height)))
                XCTAssertFalse(layout.contains(x: 0.97 * Double(s.width), y: t * Double(s.height)))
            }
        }
        print("tissue fractions: \(fractions.map { String(format: "%.2f", $0) }.joined(separator: " "))")
    }

    func testGlassIsNearWhiteWithSlightNoise() {
        for seed in UInt64(1)...6 {
            let renderer = SlideRenderer(spec: spec(.lusc, seed: seed))
            let corner = renderer.render(x: 0, y: 0, width: 24, height: 24)
            let lum = stride(from: 0, to: corner.pixels.count, by: 3).map { i in
                0.299 * Double(corner.pixels[i]) + 0.587 * Double(corner.pixels[i + 1]) + 0.114 * Double(corner.pixels[i + 2])
            }
            XCTAssertGreaterThanOrEqual(lum.min()!, 220, "seed \(seed): glass darker than 220")
            let spread = lum.max()! - lum.min()!
            XCTAssertGreaterThan(spread, 0.5, "seed \(seed): glass has no noise at all")
            XCTAssertLessThan(spread, 8, "seed \(seed): glass noise too strong")
        }
    }

    /// Stain densities of the class textures sampled on a grid of positions (µm), with neutral fields.
    private func densityStats(_ cls: TissueClass, seed: UInt64) -> (nuclear: Double, empty: Double, keratin: Double) {
        let texture = TissueTexture(tissueClass: cls, seed: seed)
        var nuclear = 0, empty = 0, keratin = 0, n = 0
        for j in 0..<300 {
            for i in 0..<300 {
                let x = Double(i) * 2.37, y = Double(j) * 2.41
                let f = LocalFields(edgeDistance: 100, grain: 0.5, architecture: 0.45, warpX: 0, warpY: 0,
                                    fibreWobble: 0, fibreBlend: 0.5, stainScale: 1)
                let d = texture.densities(x: x, y: y, fields: f)
                let h = d.h / texture.classGain.h, e = d.e / texture.classGain.e
                if h > 0.45 { nuclear += 1 }
                if h < 0.05 && e < 0.12 { empty += 1 }
                if e > 0.75 && h < 0.1 { keratin += 1 }
                n += 1
            }
        }
        return (Double(nuclear) / Double(n), Double(empty) / Double(n), Double(keratin) / Double(n))
    }

    func testClassTexturesDiffer() {
        let luad = densityStats(.luad, seed: 5), lusc = densityStats(.lusc, seed: 5), normal = densityStats(.normal, seed: 5)
        print("nuclear/empty/keratin fractions: LUAD \(luad), LUSC \(lusc), normal \(normal)")
        // LUSC: sheets of large nuclei and keratin pearls.
        XCTAssertGreaterThan(lusc.nuclear, 0.25)
        XCTAssertGreaterThan(lusc.keratin, 0.02)
        XCTAssertLessThan(lusc.empty, 0.01)
        // LUAD: pale gland lumens, nuclei in rings (fewer than LUSC).
        XCTAssertGreaterThan(luad.empty, 0.10)
        XCTAssertLessThan(luad.empty, 0.45)
        XCTAssertGreaterThan(luad.nuclear, 0.04)
        XCTAssertLessThan(luad.nuclear, lusc.nuclear / 1.5)
        XCTAssertEqual(luad.keratin, 0)
        // normal: mostly alveolar space, few small nuclei.
        XCTAssertGreaterThan(normal.empty, 0.5)
        XCTAssertLessThan(normal.nuclear, 0.06)
        XCTAssertEqual(normal.keratin, 0)
    }

    /// A 40× slide twice the size in pixels shows the same tissue as a 20× slide: after 2×2
    /// averaging the two agree far better than two neighbouring regions of one slide.
    func testStructuresHaveAPhysicalScale() {
        let s20 = spec(.luad, seed: 77, width: 1024, height: 768, scan: .aperio20x)
        let s40 = spec(.luad, seed: 77, width: 2048, height: 1536, scan: .aperio40x)
        let r20 = SlideRenderer(spec: s20), r40 = SlideRenderer(spec: s40)
        let (x, y, n) = (400, 300, 128)
        let a = r20.render(x: x, y: y, width: n, height: n)
        let b = r40.render(x: 2 * x, y: 2 * y, width: 2 * n, height: 2 * n)
        var reduced = [UInt8](repeating: 0, count: n * n * 3)
        for j in 0..<n {
            for i in 0..<n {
                for c in 0..<3 {
                    var sum = 0
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        sum += Int(b.pixels[((2 * j + dy) * 2 * n + 2 * i + dx) * 3 + c])
                    }
                    reduced[(j * n + i) * 3 + c] = UInt8((sum + 2) / 4)
                }
            }
        }
        let shifted = r20.render(x: x + 40, y: y + 25, width: n, height: n)
        let same = meanAbsDifference(a.pixels, reduced), other = meanAbsDifference(a.pixels, shifted.pixels)
        print(String(format: "20× vs reduced 40×: %.2f; 20× vs 20 µm away: %.2f", same, other))
        XCTAssertLessThan(same, 6)
        XCTAssertGreaterThan(other, 3 * same)
    }

    /// Per-slide stain variation makes the classes' mean tissue colours overlap, so colour alone
    /// does not give the class away.
    func testMeanTissueColourRangesOfTheClassesOverlap() {
        var means: [TissueClass: [[Double]]] = [:]
        for cls in TissueClass.allCases {
            for seed in UInt64(1)...10 {
                let renderer = SlideRenderer(spec: spec(cls, seed: seed * 7919 + 13, width: 2048, height: 1536))
                means[cls, default: []].append(meanTissueColour(renderer))
            }
        }
        let names = ["R", "G", "B"]
        for cls in TissueClass.allCases {
            let v = means[cls]!
            print(cls.label, (0..<3).map { c in
                String(format: "%@ %.0f–%.0f", names[c], v.map { $0[c] }.min()!, v.map { $0[c] }.max()!)
            }.joined(separator: " "))
        }
        for (i, a) in TissueClass.allCases.enumerated() {
            for b in TissueClass.allCases[(i + 1)...] {
                for c in 0..<3 {
                    let ra = means[a]!.map { $0[c] }, rb = means[b]!.map { $0[c] }
                    let overlap = min(ra.max()!, rb.max()!) - max(ra.min()!, rb.min()!)
                    XCTAssertGreaterThan(overlap, 2, "\(a.label) and \(b.label): \(names[c]) ranges do not overlap")
                }
            }
        }
    }

    /// Mean colour of the tissue in small patches spread over the slide (patches whose corners and
    /// centre all lie in tissue).
    private func meanTissueColour(_ renderer: SlideRenderer) -> [Double] {
        var sum = [0.0, 0.0, 0.0], n = 0
        let size = 24
        for k in 0..<48 {
            let px = 100 + (k % 8) * (renderer.spec.width - 200) / 8, py = 100 + (k / 8) * (renderer.spec.height - 200) / 6
            let probes = [(0, 0), (size, 0), (0, size), (size, size), (size / 2, size / 2)]
            guard probes.allSatisfy({ renderer.tissue.contains(x: Double(px + $0.0), y: Double(py + $0.1)) }) else { continue }
            let patch = renderer.render(x: px, y: py, width: size, height: size)
            for i in stride(from: 0, to: patch.pixels.count, by: 3) {
                sum[0] += Double(patch.pixels[i]); sum[1] += Double(patch.pixels[i + 1]); sum[2] += Double(patch.pixels[i + 2])
                n += 1
            }
        }
        XCTAssertGreaterThan(n, 10 * size * size, "\(renderer.spec.tissueClass) seed \(renderer.spec.seed): too few tissue patches")
        return sum.map { $0 / Double(max(n, 1)) }
    }
}

func meanAbsDifference(_ a: [UInt8], _ b: [UInt8]) -> Double {
    precondition(a.count == b.count)
    var total = 0
    for i in 0..<a.count { total += abs(Int(a[i]) - Int(b[i])) }
    return Double(total) / Double(a.count)
}
