import TesseraCore

/// Reinhard et al. 2001 colour transfer in CIE L*a*b*: each channel of the tile shifted and scaled
/// so that its mean and standard deviation over the tile become the reference's.
///
/// Two passes over the pixels: the first converts to L*a*b* into a scratch buffer and sums the
/// moments, the second maps each channel affinely and converts back. A tile with too little tissue
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
    private var lab: [Float] = []

    public init(reference: ReinhardReference) {
        self.reference = reference
    }

    /// Mean and standard deviation of L*, a*, b* over the pixels, with the L*a*b* values kept in
    /// the scratch buffer for `apply`.
    public mutating func statistics(_ image: RGBImage) -> ReinhardReference {
        let n = image.width * image.height
        if lab.count < 3 * n { lab = [Float](repeating: 0, count: 3 * n) }
        var sums = [Double](repeating: 0, count: 6)
        var tissue = 0
        let f = LabColor.forward
        let (m0, m1, m2, m3, m4, m5, m6, m7, m8) = (f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8])
        let tissueByte = Self.tissueByte
        LabColor.linearFromByte.withUnsafeBufferPointer { lin in
            LabColor.cubeRootTable.withUnsafeBufferPointer { cube in
                image.pixels.withUnsafeBufferPointer { px in
                    lab.withUnsafeMutableBufferPointer { out in
                        let cube = cube.baseAddress!
                        // Rows summed in Float, the tile in Double: a row's 3·256 values lose nothing.
                        let row = max(1, image.width)
                        var start = 0
                        while start < n {
                            let end = min(n, start + row)
                            var s: (Float, Float, Float, Float, Float, Float) = (0, 0, 0, 0, 0, 0)
                            for p in start..<end {
                                let r8 = px[3 * p], g8 = px[3 * p + 1], b8 = px[3 * p + 2]
                                if min(r8, g8, b8) <= tissueByte { tissue += 1 }
                                let r = lin[Int(r8)], g = lin[Int(g8)], b = lin[Int(b8)]
                                let fx = LabColor.f(m0 * r + m1 * g + m2 * b, cube)
                                let fy = LabColor.f(m3 * r + m4 * g + m5 * b, cube)
                                let fz = LabColor.f(m6 * r + m7 * g + m8 * b, cube)
                                let l = 116 * fy - 16, a = 500 * (fx - fy), bb = 200 * (fy - fz)
                                out[3 * p] = l; out[3 * p + 1] = a; out[3 * p + 2] = bb
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
        let n = image.width * image.height
        let v = LabColor.inverse
        let (m0, m1, m2, m3, m4, m5, m6, m7, m8) = (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8])
        let (s0, s1, s2, o0, o1, o2) = (scale[0], scale[1], scale[2], offset[0], offset[1], offset[2])
        let steps = Float(LabColor.byteSteps)
        LabColor.byteFromLinear.withUnsafeBufferPointer { toByte in
            image.pixels.withUnsafeMutableBufferPointer { px in
                lab.withUnsafeBufferPointer { lab in
                    for p in 0..<n {
                        let l = lab[3 * p] * s0 + o0, a = lab[3 * p + 1] * s1 + o1, bb = lab[3 * p + 2] * s2 + o2
                        let fy = (l + 16) / 116
                        let x = LabColor.fInverse(fy + a / 500), y = LabColor.fInverse(fy), z = LabColor.fInverse(fy - bb / 200)
                        let r = m0 * x + m1 * y + m2 * z, g = m3 * x + m4 * y + m5 * z, b = m6 * x + m7 * y + m8 * z
                        px[3 * p] = toByte[Int(max(0, min(1, r)) * steps + 0.5)]
                        px[3 * p + 1] = toByte[Int(max(0, min(1, g)) * steps + 0.5)]
                        px[3 * p + 2] = toByte[Int(max(0, min(1, b)) * steps + 0.5)]
                    }
                }
            }
        }
        return true
    }
}
