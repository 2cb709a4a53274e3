import TesseraCore

/// One tile's affine map of optical density, OD' = M·OD + o (Macenko's recomposition, HED's
/// perturbation), applied through integer tables built for the tile.
///
/// Each output channel's index into the OD → byte table is a sum of one term per input channel,
/// so the tile's map becomes three tables of 256 entries (byte → the three outputs' terms, in
/// fixed point with `fractionBits` below the table's step): a pixel costs three table reads, two
/// additions, a shift and a clamp, with no float → integer conversion. The terms are rounded to
/// 2⁻¹² of a table step, so an index differs from the float path's only where (OD − min)·1024 + ½
/// lies within ~10⁻³ of an integer; the byte then moves by at most 1 (a table step moves a byte
/// by ≤ 0.27), and mostly not at all (tested against the float path).
struct OpticalDensityMap {
    static let fractionBits: Int32 = 12
    /// `OpticalDensity.toByteTable` with `margin` steps of its end values before and 3·`margin`
    /// after, so that a tile whose sums stay inside (all but absurd maps) needs no clamp per pixel.
    static let margin = 8192
    static let wideTable: [UInt8] = {
        let t = OpticalDensity.toByteTable
        return (0..<(t.count + 4 * margin)).map { t[max(0, min(t.count - 1, $0 - margin))] }
    }()
    /// [channel j · 256 + byte] → the terms of input channel j for outputs (R, G, B, unused).
    private var terms: [SIMD4<Int32>]
    /// Whether every possible sum lands inside `wideTable`.
    private let inside: Bool
    /// The map, when its terms overflow the fixed point.
    private let floatMap: (matrix: [Float], offset: [Float])?

    init(matrix m: [Float], offset: [Float]) {
        precondition(m.count == 9 && offset.count == 3, "a 3×3 matrix and 3 offsets")
        let unit = Double(OpticalDensity.stepsPerUnit) * Double(1 << Self.fractionBits)
        // The constant part, (o − minimum)·steps + ½ step + the margin, rides on the red table.
        let constant = (0..<3).map { c in
            (Double(offset[c]) - Double(OpticalDensity.minimum)) * unit + Double(1 << (Self.fractionBits - 1)) + Double(Self.margin) * Double(1 << Self.fractionBits)
        }
        // A term beyond ±2²⁸ (an OD of ±64: a map no stain method makes, but a degenerate fit
        // could) sends the tile through the float path. Per tile, so in plain scalar loops (SIMD lane stores and generic min/max cost ~10× here).
        // OD falls strictly as the byte rises, so each term is monotone in the byte (and so is its
        // rounding): its extremes, the limit test's and the bounds', are those of bytes 0 and 255.
        let limit = Double(1 << 28)
        var low: [Int] = [0, 0, 0], high: [Int] = [0, 0, 0]
        var exact = true
        var terms = [SIMD4<Int32>](repeating: .zero, count: 3 * 256)
        terms.withUnsafeMutableBufferPointer { out in
            OpticalDensity.fromByte.withUnsafeBufferPointer { od in
                for j in 0..<3 {
                    let (s0, s1, s2) = (Double(m[j]) * unit, Double(m[3 + j]) * unit, Double(m[6 + j]) * unit)
                    let (c0, c1, c2) = j == 0 ? (constant[0], constant[1], constant[2]) : (0, 0, 0)
                    let (first, last) = (Double(od[0]), Double(od[255]))
                    let ends = [s0 * first + c0, s1 * first + c1, s2 * first + c2, s0 * last + c0, s1 * last + c1, s2 * last + c2]
                    guard ends.allSatisfy({ abs($0) <= limit }) else { exact = false; continue }
                    for c in 0..<3 {
                        let (a, b) = (Self.rounded(ends[c]), Self.rounded(ends[3 + c]))
                        low[c] += min(a, b)
                        high[c] += max(a, b)
                    }
                    for v in 0..<256 {
                        let x = Double(od[v])
                        let (t0, t1, t2) = (Self.rounded(s0 * x + c0), Self.rounded(s1 * x + c1), Self.rounded(s2 * x + c2))
                        out[256 &* j &+ v] = SIMD4(Int32(truncatingIfNeeded: t0), Int32(truncatingIfNeeded: t1), Int32(truncatingIfNeeded: t2), 0)
                    }
                }
            }
        }
        self.terms = terms
        floatMap = exact ? nil : (m, offset)
        let bits = Int(Self.fractionBits)
        inside = low.allSatisfy { $0 >> bits >= 0 } && high.allSatisfy { $0 >> bits < Self.wideTable.count }
    }

    /// x rounded half away from zero, as `rounded()`, without its libm call (baseline x86-64 has
    /// no rounding instruction; 2,304 of these per tile).
    @inline(__always) static func rounded(_ x: Double) -> Int {
        x >= 0 ? Int(x + 0.5) : -Int(-x + 0.5)
    }

    /// Maps every pixel of `image` in place.
    func apply(_ image: inout RGBImage) {
        if let floatMap {
            Self.mapInFloat(&image, matrix: floatMap.matrix, offset: floatMap.offset)
        } else if inside {
            map(&image, clamp: false)
        } else {
            map(&image, clamp: true)
        }
    }

    /// The float path (the reference the tests hold the tables to): OD by table, the map in Float,
    /// back by the rounded index into `OpticalDensity.toByteTable`.
    static func mapInFloat(_ image: inout RGBImage, matrix m: [Float], offset o: [Float]) {
        let n = image.width * image.height
        OpticalDensity.fromByte.withUnsafeBufferPointer { od in
            OpticalDensity.toByteTable.withUnsafeBufferPointer { table in
                let t = table.baseAddress!, count = table.count
                image.pixels.withUnsafeMutableBufferPointer { px in
                    for p in 0..<n {
                        let r = od[Int(px[3 * p])], g = od[Int(px[3 * p + 1])], b = od[Int(px[3 * p + 2])]
                        px[3 * p] = OpticalDensity.byte(m[0] * r + m[1] * g + m[2] * b + o[0], table: t, count: count)
                        px[3 * p + 1] = OpticalDensity.byte(m[3] * r + m[4] * g + m[5] * b + o[1], table: t, count: count)
                        px[3 * p + 2] = OpticalDensity.byte(m[6] * r + m[7] * g + m[8] * b + o[2], table: t, count: count)
                    }
                }
            }
        }
    }

    @inline(__always) private func map(_ image: inout RGBImage, clamp: Bool) {
        let n = image.width * image.height
        let shift = SIMD4<Int32>(repeating: Self.fractionBits)
        Self.wideTable.withUnsafeBufferPointer { table in
            let t = table.baseAddress!
            let top = SIMD4<Int32>(repeating: Int32(table.count - 1))
            terms.withUnsafeBufferPointer { terms in
                let red = terms.baseAddress!, green = red + 256, blue = red + 512
                image.pixels.withUnsafeMutableBufferPointer { px in
                    let px = px.baseAddress!
                    for p in 0..<n {
                        let q = px + 3 &* p
                        var k = (red[Int(q[0])] &+ green[Int(q[1])] &+ blue[Int(q[2])]) &>> shift
                        if clamp { k = k.clamped(lowerBound: .zero, upperBound: top) }
                        // Unsigned (the sums are inside the table, ≥ 0): no sign extension per index.
                        q[0] = t[Int(UInt32(bitPattern: k[0]))]
                        q[1] = t[Int(UInt32(bitPattern: k[1]))]
                        q[2] = t[Int(UInt32(bitPattern: k[2]))]
                    }
                }
            }
        }
    }
}
