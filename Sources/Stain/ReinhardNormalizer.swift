import TesseraCore

/// Reinhard et al. 2001 colour transfer in CIE L*a*b*: each channel of the tile shifted and scaled
/// so that its mean and standard deviation over the tile become the reference's.
///
/// Two passes over the pixels: the first converts to L*a*b* (keeping f(X), f(Y), f(Z) in a scratch
/// buffer) and sums the moments, the second maps each channel affinely and converts back. Each pass
/// splits its table lookups (one pixel at a time: SSE2 has no gather) from its arithmetic, which
/// runs over planes of floats four pixels to a register. A tile with too little tissue
/// (its statistics would be the glass's, and a speck's colours stretched to a whole tile's) or
/// whose L* hardly varies is left as it is.
public struct ReinhardNormalizer {
    public let reference: ReinhardReference
    /// Below this L* standard deviation a tile is left unchanged.
    public static let minimumLightnessStd: Float = 1
    /// Tissue: a pixel with OD ≥ β (0.15, as Macenko's) in some channel, i.e. a byte ≤ 205.
    public static let tissueByte: UInt8 = 205
    /// Below this share of tissue pixels a tile is left unchanged (as Macenko's minimum).
    public static let minimumTissueFraction = MacenkoNormalizer.minimumTissueFraction
    /// Tissue pixels of the last `statistics` call.
    public private(set) var tissuePixels = 0
    /// f(X/Xₙ), f(Y/Yₙ), f(Z/Zₙ) per pixel, from `statistics`, as three planes (so that the way back
    /// runs over contiguous floats and the compiler vectorises it).
    private var scratch: [Float] = []
    /// The way back's byte-table indices of one block of pixels, three planes of `block`.
    private var indices: [Int32] = []
    static let block = 256

    public init(reference: ReinhardReference) {
        self.reference = reference
    }

    /// Mean and standard deviation of L*, a*, b* over the pixels, with each pixel's f(X/Xₙ),
    /// f(Y/Yₙ), f(Z/Zₙ) kept in the scratch buffer for `normalize`.
    ///
    /// In fixed point up to the cube root: X, Y, Z of a pixel are sums of one table term per
    /// channel (`LabColor.xyzTerms`), already in steps of the cube-root table, so no float → integer
    /// conversion is needed per pixel.
    public mutating func statistics(_ image: RGBImage) -> ReinhardReference {
        let n = image.width * image.height
        if scratch.count < 3 * n { scratch = [Float](repeating: 0, count: 3 * n) }
        var sums = [Double](repeating: 0, count: 6)
        var glassPixels = 0
        LabColor.xyzTerms.withUnsafeBufferPointer { terms in
            LabColor.cubeRootTable.withUnsafeBufferPointer { cube in
                image.pixels.withUnsafeBufferPointer { px in
                    scratch.withUnsafeMutableBufferPointer { out in
                        let cube = cube.baseAddress!, px = px.baseAddress!
                        let ox = out.baseAddress!, oy = ox + n, oz = oy + n
                        let red = terms.baseAddress!, green = red + 256, blue = red + 512
                        // Rows summed in Float, the tile in Double: a row's 3·256 values lose nothing.
                        let row = max(1, image.width)
                        var start = 0
                        // Locals of this closure (not captured) and a constant shift, so both stay in registers.
                        let shift = SIMD4<Int32>(repeating: LabColor.xyzFractionBits)
                        var glass = SIMD4<Int32>.zero
                        while start < n {
                            let end = min(n, start + row)
                            // Table lookups, one pixel at a time. The terms' fourth lane counts glass
                            // (every channel above the tissue byte) into `glass.w`; the other lanes of
                            // `glass` wrap and are not read.
                            for p in start..<end {
                                let q = px + 3 &* p
                                let k = (red[Int(q[0])] &+ green[Int(q[1])] &+ blue[Int(q[2])]) &>> shift
                                glass &+= k
                                // Unsigned (the sums are ≥ 0), so the index needs no sign extension.
                                ox[p] = cube[Int(UInt32(bitPattern: k[0]))]; oy[p] = cube[Int(UInt32(bitPattern: k[1]))]
                                oz[p] = cube[Int(UInt32(bitPattern: k[2]))]
                            }
                            // The moments, four pixels to a register.
                            let (l116, l16, a500, b200) = (SIMD4<Float>(repeating: 116), SIMD4<Float>(repeating: 16),
                                                          SIMD4<Float>(repeating: 500), SIMD4<Float>(repeating: 200))
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
                        glassPixels = Int(glass[3])
                    }
                }
            }
        }
        let tissue = n - glassPixels
        tissuePixels = tissue
        let count = Double(max(n, 1))
        let mean = (0..<3).map { sums[$0] / count }
        let std = (0..<3).map { max(0, sums[3 + $0] / count - mean[$0] * mean[$0]).squareRoot() }
        return ReinhardReference(mean: mean.map(Float.init), std: std.map(Float.init))
    }

    /// Whether the last `statistics` describe enough tissue to match.
    func matchable(_ s: ReinhardReference, pixels: Int) -> Bool {
        s.std[0] >= Self.minimumLightnessStd && tissuePixels >= max(64, Int(Self.minimumTissueFraction * Double(pixels)))
    }

    /// Normalises `image` in place; false (and unchanged) when the tile has too little tissue or is too flat.
    @discardableResult
    public mutating func normalize(_ image: inout RGBImage) -> Bool {
        let source = statistics(image)
        guard matchable(source, pixels: image.width * image.height) else { return false }
        // Per channel y = x·scale + offset; a channel with no spread keeps its values and is moved to the mean.
        let scale = (0..<3).map { source.std[$0] > 1e-3 ? reference.std[$0] / source.std[$0] : 1 }
        let offset = (0..<3).map { reference.mean[$0] - source.mean[$0] * scale[$0] }
        // In f-space the per-channel L*a*b* maps are one affine map: L = 116·fy − 16,
        // a = 500·(fx − fy), b = 200·(fy − fz), so fy' = s_L·fy + c_y and
        // fx' = s_a·fx + (s_L − s_a)·fy + c_x, fz' = s_b·fz + (s_L − s_b)·fy + c_z.
        let cy = (offset[0] + 16 - 16 * scale[0]) / 116
        let (sx, sy, sz) = (scale[1], scale[0], scale[2])
        let (dx, dz) = (scale[0] - scale[1], scale[0] - scale[2])
        let (cx, cz) = (cy + offset[1] / 500, cy - offset[2] / 200)
        let v = LabColor.inverse
        let (m0, m1, m2, m3, m4, m5, m6, m7, m8) = (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8])
        let steps = Float(LabColor.byteSteps)
        let n = image.width * image.height
        let block = Self.block
        if indices.count < 3 * block { indices = [Int32](repeating: 0, count: 3 * block) }
        LabColor.byteFromLinear.withUnsafeBufferPointer { toByte in
            image.pixels.withUnsafeMutableBufferPointer { px in
                scratch.withUnsafeBufferPointer { f in
                    indices.withUnsafeMutableBufferPointer { ix in
                        let toByte = toByte.baseAddress!, px = px.baseAddress!
                        let ir = ix.baseAddress!, ig = ir + block, ib = ig + block
                        var start = 0
                        while start < n {
                            let count = min(block, n - start)
                            let fxs = f.baseAddress! + start, fys = fxs + n, fzs = fys + n
                            // Planar floats in, planar indices out, no table: a loop the compiler vectorises.
                            for i in 0..<count {
                                let fx = fxs[i], fy = fys[i], fz = fzs[i]
                                let x = LabColor.fInverse(fx * sx + fy * dx + cx)
                                let y = LabColor.fInverse(fy * sy + cy)
                                let z = LabColor.fInverse(fz * sz + fy * dz + cz)
                                ir[i] = LabColor.roundedIndex(m0 * x + m1 * y + m2 * z, steps: steps)
                                ig[i] = LabColor.roundedIndex(m3 * x + m4 * y + m5 * z, steps: steps)
                                ib[i] = LabColor.roundedIndex(m6 * x + m7 * y + m8 * z, steps: steps)
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
                }
            }
        }
        return true
    }
}
