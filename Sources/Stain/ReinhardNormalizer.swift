import TesseraCore

/// Reinhard et al. 2001 colour transfer in CIE L*a*b*: each channel of the tile shifted and scaled
/// so that its mean and standard deviation over the tile become the reference's.
///
/// Two passes over the pixels: the first converts to L*a*b* (keeping f(X), f(Y), f(Z) in a scratch
/// buffer) and sums the moments, the second maps each channel affinely and converts back. A tile with too little tissue
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
    /// f(X/Xₙ), f(Y/Yₙ), f(Z/Zₙ) per pixel, from `statistics`.
    private var scratch: [Float] = []

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
        var tissue = 0
        let tissueByte = Self.tissueByte
        let shift = SIMD4<Int32>(repeating: LabColor.xyzFractionBits)
        LabColor.xyzTerms.withUnsafeBufferPointer { terms in
            LabColor.cubeRootTable.withUnsafeBufferPointer { cube in
                image.pixels.withUnsafeBufferPointer { px in
                    scratch.withUnsafeMutableBufferPointer { out in
                        let cube = cube.baseAddress!, px = px.baseAddress!, out = out.baseAddress!
                        let red = terms.baseAddress!, green = red + 256, blue = red + 512
                        // Rows summed in Float, the tile in Double: a row's 3·256 values lose nothing.
                        let row = max(1, image.width)
                        var start = 0
                        while start < n {
                            let end = min(n, start + row)
                            var s: (Float, Float, Float, Float, Float, Float) = (0, 0, 0, 0, 0, 0)
                            for p in start..<end {
                                let q = px + 3 &* p
                                let r8 = q[0], g8 = q[1], b8 = q[2]
                                tissue &+= min(r8, g8, b8) <= tissueByte ? 1 : 0
                                let sum = red[Int(r8)] &+ green[Int(g8)] &+ blue[Int(b8)]
                                let k = sum &>> shift
                                let fx = cube[Int(k[0])], fy = cube[Int(k[1])], fz = cube[Int(k[2])]
                                out[3 &* p] = fx; out[3 &* p &+ 1] = fy; out[3 &* p &+ 2] = fz
                                let l = 116 * fy - 16, a = 500 * (fx - fy), bb = 200 * (fy - fz)
                                s.0 += l; s.1 += a; s.2 += bb
                                s.3 += l * l; s.4 += a * a; s.5 += bb * bb
                            }
                            sums[0] += Double(s.0); sums[1] += Double(s.1); sums[2] += Double(s.2)
                            sums[3] += Double(s.3); sums[4] += Double(s.4); sums[5] += Double(s.5)
                            start = end
                        }
                    }
                }
            }
        }
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
        LabColor.byteFromLinear.withUnsafeBufferPointer { toByte in
            image.pixels.withUnsafeMutableBufferPointer { px in
                scratch.withUnsafeBufferPointer { f in
                    let toByte = toByte.baseAddress!, px = px.baseAddress!, f = f.baseAddress!
                    for p in 0..<n {
                        let q = 3 &* p
                        let fx = f[q], fy = f[q &+ 1], fz = f[q &+ 2]
                        let x = LabColor.fInverse(fx * sx + fy * dx + cx)
                        let y = LabColor.fInverse(fy * sy + cy)
                        let z = LabColor.fInverse(fz * sz + fy * dz + cz)
                        px[q] = toByte[LabColor.roundedIndex(m0 * x + m1 * y + m2 * z, steps: steps)]
                        px[q &+ 1] = toByte[LabColor.roundedIndex(m3 * x + m4 * y + m5 * z, steps: steps)]
                        px[q &+ 2] = toByte[LabColor.roundedIndex(m6 * x + m7 * y + m8 * z, steps: steps)]
                    }
                }
            }
        }
        return true
    }
}
