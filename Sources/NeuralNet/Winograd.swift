import BLAS

/// Winograd F(2×2, 3×3) convolution (Lavin & Gray 2016) for 3×3, stride-1, pad-1 layers on even-sized
/// feature maps: 16 GEMMs of Cout × Cin × tiles replace one GEMM of Cout × 9·Cin × pixels, 2.25× fewer
/// multiply-adds. It runs the forward pass, and the input gradient (the same convolution with the
/// filters transposed and rotated 180°). Tiles are processed in chunks of whole tile rows sized so the
/// transformed input and products (~2 MB) stay in cache; the transforms run eight tiles at a time in
/// SIMD lanes. Float32 error is that of the direct convolution (tests: ~1e-7 relative).
///
/// Matrices (ξ = 4·row + column of a 4×4 tile, Lavin's notation):
///   U[ξ]: Cout × Cin  = (G g Gᵀ)[ξ]  for each filter g
///   V[ξ]: Cin × tiles = (Bᵀ d B)[ξ]  for each input tile d (4×4, padded input)
///   M[ξ] = U[ξ]·V[ξ]: Cout × tiles, and each 2×2 output tile is Aᵀ m A.
final class WinogradConvolution {
    private let weights = FloatBuffer()  // U: 16 × Cout × Cin
    private let padded = FloatBuffer()  // one image, Cin × (H + 2) × (W + 2)
    private let transformedInput = FloatBuffer()  // V: 16 × Cin × chunk
    private let products = FloatBuffer()  // M: 16 × Cout × chunk
    private(set) var outChannels = 0
    private(set) var inChannels = 0
    private var weightStride = 0

    /// The distance between the 16 matrices of U, V or M: at least `count`, and an odd multiple of
    /// 16 floats (64 bytes). The transforms read or write all 16 at once; a power-of-two distance
    /// would put them in the same cache sets (the input transform measured 10× slower).
    static func planeStride(_ count: Int) -> Int {
        var s = (count + 15) / 16 * 16
        if (s / 16) % 2 == 0 { s += 16 }
        return s
    }

    static func applies(kernel: Int, stride: Int, padding: Int, height: Int, width: Int) -> Bool {
        kernel == 3 && stride == 1 && padding == 1 && height % 2 == 0 && width % 2 == 0 && height >= 2 && width >= 2
    }

    /// U from filters g: Cout × Cin × 3 × 3. With `adjoint`, the filters of dInput = conv(dOutput):
    /// g′[ci][co] = g[co][ci] rotated 180°, so the transform has Cin outputs and Cout inputs.
    /// G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1].
    func transformWeights(_ g: UnsafePointer<Float>, outChannels co: Int, inChannels ci: Int, adjoint: Bool) {
        let (outs, ins) = adjoint ? (ci, co) : (co, ci)
        outChannels = outs
        inChannels = ins
        let s = Self.planeStride(outs * ins)  // from U[ξ] to U[ξ + 1]
        weightStride = s
        let u = weights.reserve(16 * s)
        for o in 0..<outs {
            for i in 0..<ins {
                let src = adjoint ? g + (i * ci + o) * 9 : g + (o * ci + i) * 9
                @inline(__always) func f(_ r: Int, _ c: Int) -> Float { adjoint ? src[8 - 3 * r - c] : src[3 * r + c] }
                let dst = u + o * ins + i
                for c in 0..<3 {
                    // Column c of G f.
                    let (a, b, d) = (f(0, c), f(1, c), f(2, c))
                    gf[c] = a
                    gf[3 + c] = (a + b + d) * 0.5
                    gf[6 + c] = (a - b + d) * 0.5
                    gf[9 + c] = d
                }
                for r in 0..<4 {
                    // Row r of (G f) Gᵀ.
                    let (a, b, d) = (gf[3 * r], gf[3 * r + 1], gf[3 * r + 2])
                    dst[(4 * r) * s] = a
                    dst[(4 * r + 1) * s] = (a + b + d) * 0.5
                    dst[(4 * r + 2) * s] = (a - b + d) * 0.5
                    dst[(4 * r + 3) * s] = d
                }
            }
        }
    }

    /// Scratch for one filter's G f (4 × 3).
    private let gf = UnsafeMutablePointer<Float>.allocate(capacity: 12)

    deinit { gf.deallocate() }

    /// output (N × Cout × H × W) = the 3×3 pad-1 convolution of input (N × Cin × H × W) with the
    /// transformed weights.
    func convolve(_ input: UnsafePointer<Float>, batch: Int, height h: Int, width w: Int, into output: UnsafeMutablePointer<Float>) {
        let (cin, cout) = (inChannels, outChannels)
        let (tileRows, tileColumns) = (h / 2, w / 2)
        let (hp, wp) = (h + 2, w + 2)
        // Chunk: whole tile rows, ~2 MB of V and M (at least one tile row).
        let bytesPerTile = 16 * (cin + cout) * 4
        let rowsPerChunk = max(1, min(tileRows, (2 << 20) / (bytesPerTile * tileColumns)))
        let chunk = rowsPerChunk * tileColumns
        let vStride = Self.planeStride(cin * chunk), mStride = Self.planeStride(cout * chunk)
        let v = transformedInput.reserve(16 * vStride)
        let m = products.reserve(16 * mStride)
        let pad = padded.reserve(cin * hp * wp)
        let u = UnsafePointer(weights.pointer)
        for n in 0..<batch {
            Self.pad(input + n * cin * h * w, channels: cin, height: h, width: w, into: pad)
            var row0 = 0
            while row0 < tileRows {
                let rows = min(rowsPerChunk, tileRows - row0)
                let tiles = rows * tileColumns
                Self.transformInput(pad, channels: cin, paddedHeight: hp, paddedWidth: wp, firstRow: row0, rows: rows,
                                    tileColumns: tileColumns, into: v, chunk: chunk, stride: vStride)
                for xi in 0..<16 {
                    BLAS.sgemm(m: cout, n: tiles, k: cin, a: u + xi * weightStride, lda: cin, b: v + xi * vStride, ldb: chunk,
                               beta: 0, c: m + xi * mStride, ldc: chunk)
                }
                Self.transformOutput(m, channels: cout, chunk: chunk, stride: mStride, firstRow: row0, rows: rows, tileColumns: tileColumns,
                                     width: w, into: output + n * cout * h * w, planeCount: h * w)
                row0 += rows
            }
        }
    }

    /// Copies one image into a zero border of 1.
    private static func pad(_ x: UnsafePointer<Float>, channels: Int, height h: Int, width w: Int, into p: UnsafeMutablePointer<Float>) {
        let wp = w + 2
        for c in 0..<channels {
            let dst = p + c * (h + 2) * wp
            dst.update(repeating: 0, count: wp)
            for r in 0..<h {
                let row = dst + (r + 1) * wp
                row[0] = 0
                (row + 1).update(from: x + (c * h + r) * w, count: w)
                row[w + 1] = 0
            }
            (dst + (h + 1) * wp).update(repeating: 0, count: wp)
        }
    }

    /// V[ξ][c][t] = (Bᵀ d B)[ξ] (V[ξ] at v + ξ·stride) for the tiles of rows firstRow ..< firstRow + rows
    /// (t counts tiles from the chunk's first); the 4×4 patch of tile (i, j) starts at padded row 2i,
    /// column 2j. Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]. Eight tiles at a time in SIMD lanes:
    /// the patch columns of eight neighbouring tiles are the even and odd lanes of two 16-float loads.
    private static func transformInput(_ p: UnsafePointer<Float>, channels: Int, paddedHeight hp: Int, paddedWidth wp: Int, firstRow: Int,
                               rows: Int, tileColumns tw: Int, into v: UnsafeMutablePointer<Float>, chunk: Int, stride s: Int) {
        for c in 0..<channels {
            let plane = p + c * hp * wp
            for i in 0..<rows {
                let r0 = plane + 2 * (firstRow + i) * wp
                let out = v + c * chunk + i * tw
                var j = 0
                while j + 8 <= tw {
                    // xrk = d[r][k] for eight tiles; reads padded columns 2j ..< 2j + 18 ≤ wp.
                    let (x00, x01, x02, x03) = Self.patchRow(r0 + 2 * j)
                    let (x10, x11, x12, x13) = Self.patchRow(r0 + wp + 2 * j)
                    let (x20, x21, x22, x23) = Self.patchRow(r0 + 2 * wp + 2 * j)
                    let (x30, x31, x32, x33) = Self.patchRow(r0 + 3 * wp + 2 * j)
                    Self.storeTransformed(x00 - x20, x01 - x21, x02 - x22, x03 - x23, at: out + j, stride: s, first: 0)
                    Self.storeTransformed(x10 + x20, x11 + x21, x12 + x22, x13 + x23, at: out + j, stride: s, first: 4)
                    Self.storeTransformed(x20 - x10, x21 - x11, x22 - x12, x23 - x13, at: out + j, stride: s, first: 8)
                    Self.storeTransformed(x10 - x30, x11 - x31, x12 - x32, x13 - x33, at: out + j, stride: s, first: 12)
                    j += 8
                }
                while j < tw {
                    let k = 2 * j
                    let r1 = r0 + wp, r2 = r1 + wp, r3 = r2 + wp
                    let a0 = r0[k] - r2[k], a1 = r0[k + 1] - r2[k + 1], a2 = r0[k + 2] - r2[k + 2], a3 = r0[k + 3] - r2[k + 3]
                    let b0 = r1[k] + r2[k], b1 = r1[k + 1] + r2[k + 1], b2 = r1[k + 2] + r2[k + 2], b3 = r1[k + 3] + r2[k + 3]
                    let c0 = r2[k] - r1[k], c1 = r2[k + 1] - r1[k + 1], c2 = r2[k + 2] - r1[k + 2], c3 = r2[k + 3] - r1[k + 3]
                    let d0 = r1[k] - r3[k], d1 = r1[k + 1] - r3[k + 1], d2 = r1[k + 2] - r3[k + 2], d3 = r1[k + 3] - r3[k + 3]
                    let o = out + j
                    o[0] = a0 - a2; o[s] = a1 + a2; o[2 * s] = a2 - a1; o[3 * s] = a1 - a3
                    o[4 * s] = b0 - b2; o[5 * s] = b1 + b2; o[6 * s] = b2 - b1; o[7 * s] = b1 - b3
                    o[8 * s] = c0 - c2; o[9 * s] = c1 + c2; o[10 * s] = c2 - c1; o[11 * s] = c1 - c3
                    o[12 * s] = d0 - d2; o[13 * s] = d1 + d2; o[14 * s] = d2 - d1; o[15 * s] = d1 - d3
                    j += 1
                }
            }
        }
    }

    /// Columns 0…3 of one patch row for eight neighbouring tiles (patches start two columns apart).
    @inline(__always)
    private static func patchRow(_ p: UnsafePointer<Float>) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let raw = UnsafeRawPointer(p)
        let a = raw.loadUnaligned(as: SIMD16<Float>.self), b = raw.loadUnaligned(fromByteOffset: 8, as: SIMD16<Float>.self)
        return (a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
    }

    /// One row of (Bᵀ d) B for eight tiles: from the row's four columns e0…e3, stores
    /// e0 − e2, e1 + e2, e2 − e1, e1 − e3 into V[first …< first + 4].
    @inline(__always)
    private static func storeTransformed(_ e0: SIMD8<Float>, _ e1: SIMD8<Float>, _ e2: SIMD8<Float>, _ e3: SIMD8<Float>,
                                         at o: UnsafeMutablePointer<Float>, stride s: Int, first: Int) {
        UnsafeMutableRawPointer(o + first * s).storeBytes(of: e0 - e2, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(o + (first + 1) * s).storeBytes(of: e1 + e2, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(o + (first + 2) * s).storeBytes(of: e2 - e1, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(o + (first + 3) * s).storeBytes(of: e1 - e3, as: SIMD8<Float>.self)
    }

    /// y's 2×2 tiles = Aᵀ M A, Aᵀ = [1 1 1 0; 0 1 −1 −1], for the tiles of rows firstRow ..< firstRow + rows;
    /// eight tiles at a time, their output columns interleaved back from even and odd lanes.
    private static func transformOutput(_ m: UnsafePointer<Float>, channels: Int, chunk: Int, stride s: Int, firstRow: Int, rows: Int,
                                tileColumns tw: Int, width w: Int, into y: UnsafeMutablePointer<Float>, planeCount: Int) {
        for c in 0..<channels {
            for i in 0..<rows {
                let src = m + c * chunk + i * tw
                let top = y + c * planeCount + 2 * (firstRow + i) * w, bottom = top + w
                var j = 0
                while j + 8 <= tw {
                    @inline(__always) func at(_ xi: Int) -> SIMD8<Float> {
                        UnsafeRawPointer(src + xi * s + j).loadUnaligned(as: SIMD8<Float>.self)
                    }
                    // Aᵀ M: two rows of four.
                    let t0 = at(0) + at(4) + at(8), t1 = at(1) + at(5) + at(9), t2 = at(2) + at(6) + at(10), t3 = at(3) + at(7) + at(11)
                    let u0 = at(4) - at(8) - at(12), u1 = at(5) - at(9) - at(13), u2 = at(6) - at(10) - at(14), u3 = at(7) - at(11) - at(15)
                    // (Aᵀ M) A, columns 2j + 2m and 2j + 2m + 1 interleaved.
                    var upper = SIMD16<Float>(), lower = SIMD16<Float>()
                    upper.evenHalf = t0 + t1 + t2
                    upper.oddHalf = t1 - t2 - t3
                    lower.evenHalf = u0 + u1 + u2
                    lower.oddHalf = u1 - u2 - u3
                    UnsafeMutableRawPointer(top + 2 * j).storeBytes(of: upper, as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(bottom + 2 * j).storeBytes(of: lower, as: SIMD16<Float>.self)
                    j += 8
                }
                while j < tw {
                    @inline(__always) func at(_ xi: Int) -> Float { src[xi * s + j] }
                    let t0 = at(0) + at(4) + at(8), t1 = at(1) + at(5) + at(9), t2 = at(2) + at(6) + at(10), t3 = at(3) + at(7) + at(11)
                    let u0 = at(4) - at(8) - at(12), u1 = at(5) - at(9) - at(13), u2 = at(6) - at(10) - at(14), u3 = at(7) - at(11) - at(15)
                    top[2 * j] = t0 + t1 + t2
                    top[2 * j + 1] = t1 - t2 - t3
                    bottom[2 * j] = u0 + u1 + u2
                    bottom[2 * j + 1] = u1 - u2 - u3
                    j += 1
                }
            }
        }
    }
}
