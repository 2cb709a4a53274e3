/// Reinhard's per-pixel kernels (the stain kernels with an x86-64-v3 copy), on raw pointers and in one place.
///
/// `@inlinable`, so that each module that calls them compiles its own copy for its own target CPU:
/// `Stain` at baseline x86-64 (SSE2), `StainKernelsV3` at x86-64-v3 (AVX2). Both copies come from
/// this source, and every operation is elementwise IEEE or an integer op (no fused multiply-add:
/// Swift does not contract, and the sums keep their order), so both give the same bytes.
///
/// `@inline(__always)` as well: a kernel left as a call would be emitted as a weak, shared
/// specialisation in both modules, and the linker would keep one copy (AVX2 or not) for both paths.
public enum StainKernels {}

extension StainKernels {
    /// Reinhard's per-tile affine map in f-space and the way back to sRGB (see `reinhardBack`).
    @frozen public struct ReinhardMap {
        public var sx: Float, sy: Float, sz: Float, dx: Float, dz: Float, cx: Float, cy: Float, cz: Float
        /// XYZ / white → linear RGB, row by row.
        public var m0: Float, m1: Float, m2: Float, m3: Float, m4: Float, m5: Float, m6: Float, m7: Float, m8: Float
        /// Steps of the linear → byte table.
        public var steps: Float

        @inlinable public init(scale: (x: Float, y: Float, z: Float), cross: (x: Float, z: Float), offset: (x: Float, y: Float, z: Float),
                               inverse v: [Float], steps: Float) {
            (sx, sy, sz, dx, dz, cx, cy, cz) = (scale.x, scale.y, scale.z, cross.x, cross.z, offset.x, offset.y, offset.z)
            (m0, m1, m2, m3, m4, m5, m6, m7, m8) = (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8])
            self.steps = steps
        }
    }

    /// Reinhard's first pass over `n` interleaved RGB pixels: f(X/Xₙ), f(Y/Yₙ), f(Z/Zₙ) into three
    /// planes of `n` at `planes`, the L*, a*, b* sums and sums of squares added to `sums[0..<6]`
    /// (Float per row of `rowLength` pixels, Double per tile), and the glass pixels returned.
    ///
    /// X, Y, Z are sums of one table term per channel (`terms`: 3 × 256, the fourth lane counting
    /// glass), shifted right by `shift` into an index of the cube-root table `cube`.
    @inlinable @inline(__always)
    public static func reinhardForward(pixels px: UnsafePointer<UInt8>, count n: Int, rowLength: Int, terms: UnsafePointer<SIMD4<Int32>>,
                                       shift: Int32, cube: UnsafePointer<Float>, planes ox: UnsafeMutablePointer<Float>,
                                       sums: UnsafeMutablePointer<Double>) -> Int {
        let oy = ox + n, oz = oy + n
        let red = terms, green = red + 256, blue = red + 512
        let row = max(1, rowLength)
        var start = 0
        let shift = SIMD4<Int32>(shift, shift, shift, shift)
        var glass = SIMD4<Int32>.zero
        while start < n {
            let end = min(n, start + row)
            // Table lookups, one pixel at a time. The terms' fourth lane counts glass (every channel
            // above the tissue byte) into `glass.w`; the other lanes of `glass` wrap and are not read.
            for p in start..<end {
                let q = px + 3 &* p
                let k = (red[Int(q[0])] &+ green[Int(q[1])] &+ blue[Int(q[2])]) &>> shift
                glass &+= k
                // Unsigned (the sums are ≥ 0), so the index needs no sign extension.
                ox[p] = cube[Int(UInt32(bitPattern: k[0]))]; oy[p] = cube[Int(UInt32(bitPattern: k[1]))]
                oz[p] = cube[Int(UInt32(bitPattern: k[2]))]
            }
            // The moments, four pixels to a register (four lanes at any vector width: the sums' order is fixed).
            // Lane by lane, not `init(repeating:)`: Swift 6.3.1 crashes emitting that constant when
            // it compiles this code in another module.
            let l116 = SIMD4<Float>(116, 116, 116, 116), l16 = SIMD4<Float>(16, 16, 16, 16)
            let a500 = SIMD4<Float>(500, 500, 500, 500), b200 = SIMD4<Float>(200, 200, 200, 200)
            var (sl, sa, sb) = (SIMD4<Float>.zero, SIMD4<Float>.zero, SIMD4<Float>.zero)
            var (ql, qa, qb) = (SIMD4<Float>.zero, SIMD4<Float>.zero, SIMD4<Float>.zero)
            var p = start
            while p &+ 4 <= end {
                let fx = UnsafeRawPointer(ox + p).loadUnaligned(as: SIMD4<Float>.self)
                let fy = UnsafeRawPointer(oy + p).loadUnaligned(as: SIMD4<Float>.self)
                let fz = UnsafeRawPointer(oz + p).loadUnaligned(as: SIMD4<Float>.self)
                let l = l116 * fy - l16, a = a500 * (fx - fy), b = b200 * (fy - fz)
                sl += l; sa += a; sb += b
                ql += l * l; qa += a * a; qb += b * b
                p &+= 4
            }
            var s = (sl.sum(), sa.sum(), sb.sum(), ql.sum(), qa.sum(), qb.sum())
            while p < end {
                let fx = ox[p], fy = oy[p], fz = oz[p]
                let l = 116 * fy - 16, a = 500 * (fx - fy), b = 200 * (fy - fz)
                s.0 += l; s.1 += a; s.2 += b
                s.3 += l * l; s.4 += a * a; s.5 += b * b
                p &+= 1
            }
            sums[0] += Double(s.0); sums[1] += Double(s.1); sums[2] += Double(s.2)
            sums[3] += Double(s.3); sums[4] += Double(s.4); sums[5] += Double(s.5)
            start = end
        }
        return Int(glass[3])
    }

    /// Reinhard's way back over `n` pixels: the affine `map` of the f planes at `planes` (three of
    /// `n`), f⁻¹, XYZ → linear RGB, and the rounded index into `toByte` (linear → sRGB byte),
    /// written into `pixels` (interleaved RGB), `block` pixels at a time through `indices` (3 × `block`).
    @inlinable @inline(__always)
    public static func reinhardBack(planes f: UnsafePointer<Float>, count n: Int, map: ReinhardMap, indices ir: UnsafeMutablePointer<Int32>,
                                    block: Int, toByte: UnsafePointer<UInt8>, pixels px: UnsafeMutablePointer<UInt8>) {
        let (sx, sy, sz, dx, dz, cx, cy, cz) = (map.sx, map.sy, map.sz, map.dx, map.dz, map.cx, map.cy, map.cz)
        let (m0, m1, m2, m3, m4, m5, m6, m7, m8) = (map.m0, map.m1, map.m2, map.m3, map.m4, map.m5, map.m6, map.m7, map.m8)
        let steps = map.steps
        let ig = ir + block, ib = ig + block
        var start = 0
        while start < n {
            let count = min(block, n - start)
            let fxs = f + start, fys = fxs + n, fzs = fys + n
            // Planar floats in, planar indices out, no table: a loop the compiler vectorises.
            for i in 0..<count {
                let fx = fxs[i], fy = fys[i], fz = fzs[i]
                let x = fInverse(fx * sx + fy * dx + cx)
                let y = fInverse(fy * sy + cy)
                let z = fInverse(fz * sz + fy * dz + cz)
                ir[i] = roundedIndex(m0 * x + m1 * y + m2 * z, steps: steps)
                ig[i] = roundedIndex(m3 * x + m4 * y + m5 * z, steps: steps)
                ib[i] = roundedIndex(m6 * x + m7 * y + m8 * z, steps: steps)
            }
            let out = px + 3 &* start
            for i in 0..<count {
                out[3 &* i] = toByte[Int(ir[i])]
                out[3 &* i &+ 1] = toByte[Int(ig[i])]
                out[3 &* i &+ 2] = toByte[Int(ib[i])]
            }
            start &+= count
        }
    }

    /// The inverse of the L*a*b* f: f³ above 6/29, linear below.
    @inlinable @inline(__always)
    public static func fInverse(_ f: Float) -> Float {
        f > 6.0 / 29 ? f * f * f : (f - 4.0 / 29) * (3132.0 / 24389)
    }

    /// round(clamp(v, 0, 1) · steps) for steps < 2²², without a float → integer conversion (which
    /// Swift checks and traps): adding 1.5·2²³ leaves the rounded value in the low mantissa bits. An
    /// Int32, so that loops of it vectorise a register of lanes at a time.
    @inlinable @inline(__always)
    public static func roundedIndex(_ v: Float, steps: Float) -> Int32 {
        let c = min(max(v, 0), 1)
        return Int32(bitPattern: (c * steps + 12_582_912).bitPattern & 0x3F_FFFF)
    }
}
