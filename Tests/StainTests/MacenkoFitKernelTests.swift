import Foundation
import TesseraCore
import XCTest

@testable import Stain

/// The shortcuts in Macenko's fit and the OD maps' construction against what they replaced: the
/// histogram bin without Swift's checked conversion, the percentile scan that skips empty bins, the
/// tissue test on bytes, and the maps' bounds taken at bytes 0 and 255. Each must give exactly the
/// plain computation's result (no tolerance: the fit's output is meant to be unchanged).
final class MacenkoFitKernelTests: XCTestCase {
    /// The bin as it was computed: k > 0 ? (k < last ? Int(k) : last) : 0.
    func referenceBin(_ k: Float, last: Int) -> Int {
        k > 0 ? (k < Float(last) ? Int(k) : last) : 0
    }

    func testHistogramBinIsTheTruncatedClampedValue() {
        for last in [4095, 8191] {
            var values: [Float] = [0, -0, -1, -1e-30, 1e-30, .nan, .infinity, -.infinity, 1e30, -1e30, Float(last), Float(last) + 0.5,
                                   Float(last).nextDown, Float(last).nextUp, 0.5, 1.5, 2.5, 0.49999997, 0.50000006]
            // Every integer and the floats either side of it (where rounding to nearest would go wrong), and quarters.
            for i in -2...(last + 2) {
                let f = Float(i)
                values += [f, f.nextUp, f.nextDown, f + 0.25, f + 0.5, f + 0.75]
            }
            var rng = SeededGenerator(seed: 5)
            for _ in 0..<20000 { values.append(Float(rng.nextUnit()) * Float(last + 40) - 20) }
            while values.count % 4 != 0 { values.append(0) }
            for (i, k) in values.enumerated() {
                XCTAssertEqual(PercentileHistogram.bin(k, last: last), referenceBin(k, last: last), "bin(\(k)), last \(last)")
                if i % 4 == 0 {
                    let four = PercentileHistogram.bins(SIMD4(values[i], values[i + 1], values[i + 2], values[i + 3]), last: last)
                    for lane in 0..<4 {
                        XCTAssertEqual(Int(four[lane]), referenceBin(values[i + lane], last: last), "bins lane \(lane) of \(values[i + lane])")
                    }
                }
            }
        }
    }

    /// The percentile as it was found: a bin-by-bin scan from the nearer end.
    func referencePercentile(_ h: PercentileHistogram, _ q: Float) -> Float {
        let c = h.counts, total = h.total
        guard total > 0 else { return h.low }
        let target = q * Float(total)
        var bin = -1, cumulative = 0
        if q <= 0.5 {
            for i in 0..<c.count where c[i] > 0 {
                cumulative += Int(c[i])
                if Float(cumulative) >= target { bin = i; break }
            }
        } else {
            var above = 0
            for i in stride(from: c.count - 1, through: 0, by: -1) where c[i] > 0 {
                let through = total - above
                if Float(through) < target { break }
                (bin, cumulative) = (i, through)
                above += Int(c[i])
            }
        }
        guard bin >= 0 else { return h.high }
        let scale = Float(c.count) / (h.high - h.low)
        let n = Float(c[bin]), below = Float(cumulative) - n
        return h.low + (Float(bin) + max(0, min(1, (target - below) / n))) / scale
    }

    func testPercentilesSkippingEmptyBinsAreThoseOfTheFullScan() {
        var rng = SeededGenerator(seed: 9)
        var h = PercentileHistogram(low: -2, high: 2, bins: 8192)
        // Narrow and wide spreads, a few values, one value, values at and beyond both ends, none.
        let cases: [(count: Int, centre: Double, spread: Double)] = [(5000, 0.3, 0.2), (5000, -1.5, 0.01), (7, 0.9, 1.5), (1, 1.99, 0),
                                                                      (3000, 0, 3), (64, -2, 0), (64, 2, 0), (0, 0, 0)]
        for c in cases {
            let values = (0..<c.count).map { _ in Float(c.centre + (rng.nextUnit() * 2 - 1) * c.spread) }
            // Counts up to and past the multiples of 4 (the four-at-a-time loop and its tail).
            for count in Set([values.count, max(0, values.count - 1), max(0, values.count - 3)]) {
                h.reset(adding: count) { values[$0] }
                for q: Float in [0, 0.001, 0.01, 0.25, 0.5, 0.51, 0.99, 0.999, 1] {
                    XCTAssertEqual(h.percentile(q), referencePercentile(h, q), "\(c), \(count) values, q \(q)")
                }
            }
        }
    }

    func testTheTissueTestOnBytesIsTheTestOnOpticalDensity() {
        for b in 0...255 {
            XCTAssertEqual(UInt8(b) <= MacenkoNormalizer.tissueByte, OpticalDensity.fromByte[b] >= MacenkoNormalizer.beta, "byte \(b)")
        }
        // The fit's tissue count is the count of read pixels with OD ≥ β in every channel.
        for (size, seed) in [(64, UInt64(1)), (128, 2), (200, 3), (256, 4)] {
            let tile = StainedTile.make(size: size, stains: .builtIn, glassFraction: 0.3, seed: seed)
            var normalizer = MacenkoNormalizer(reference: .builtIn)
            let step = MacenkoNormalizer.fitStep(width: size, height: size)
            var direct = 0
            for y in stride(from: 0, to: size, by: step) {
                for x in stride(from: 0, to: size, by: step) {
                    let p = 3 * (y * size + x)
                    if (0..<3).allSatisfy({ OpticalDensity.fromByte[Int(tile.pixels[p + $0])] >= MacenkoNormalizer.beta }) { direct += 1 }
                }
            }
            XCTAssertEqual(normalizer.fit(tile)?.tissuePixels, direct, "\(size)²")
        }
    }

    /// The maps' limit test and table bounds look only at bytes 0 and 255: right because OD falls
    /// strictly as the byte rises, so each term (and its rounding) is monotone in the byte.
    func testOpticalDensityFallsStrictlyWithTheByte() {
        let od = OpticalDensity.fromByte
        XCTAssertEqual(od.count, 256)
        for b in 1..<256 { XCTAssertLessThan(od[b], od[b - 1], "byte \(b)") }
    }
}
