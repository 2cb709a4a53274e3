import TesseraCore

/// Reinhard et al. 2001 colour transfer in CIE L*a*b*: each channel of the tile shifted and scaled
/// so that its mean and standard deviation over the tile become the reference's.
///
/// Two passes over the pixels: the first converts to L*a*b* into a scratch buffer and sums the
/// moments, the second maps each channel affinely and converts back. A tile whose L* hardly varies
/// (glass, a flat fill) has no colour distribution to match and is left as it is.
public struct ReinhardNormalizer {
    public let reference: ReinhardReference
    /// Below this L* standard deviation a tile is left unchanged.
    public static let minimumLightnessStd: Float = 1
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
        let m = LabColor.forward
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
                                let r = lin[Int(px[3 * p])], g = lin[Int(px[3 * p + 1])], b = lin[Int(px[3 * p + 2])]
                                let fx = LabColor.f(m[0] * r + m[1] * g + m[2] * b, cube)
                                let fy = LabColor.f(m[3] * r + m[4] * g + m[5] * b, cube)
                                let fz = LabColor.f(m[6] * r + m[7] * g + m[8] * b, cube)
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
        let count = Double(max(n, 1))
        let mean = (0..<3).map { sums[$0] / count }
        let std = (0..<3).map { max(0, sums[3 + $0] / count - mean[$0] * mean[$0]).squareRoot() }
        return ReinhardReference(mean: mean.map(Float.init), std: std.map(Float.init))
    }

    /// Normalises `image` in place; false (and unchanged) when the tile is too flat to match.
    @discardableResult
    public mutating func normalize(_ image: inout RGBImage) -> Bool {
        let source = statistics(image)
        guard source.std[0] >= Self.minimumLightnessStd else { return false }
        // Per channel y = x·scale + offset; a channel with no spread keeps its values and is moved to the mean.
        let scale = (0..<3).map { source.std[$0] > 1e-3 ? reference.std[$0] / source.std[$0] : 1 }
        let offset = (0..<3).map { reference.mean[$0] - source.mean[$0] * scale[$0] }
        let n = image.width * image.height
        let m = LabColor.inverse
        let steps = Float(LabColor.byteSteps)
        LabColor.byteFromLinear.withUnsafeBufferPointer { toByte in
            image.pixels.withUnsafeMutableBufferPointer { px in
                lab.withUnsafeBufferPointer { lab in
                    for p in 0..<n {
                        let l = lab[3 * p] * scale[0] + offset[0], a = lab[3 * p + 1] * scale[1] + offset[1]
                        let bb = lab[3 * p + 2] * scale[2] + offset[2]
                        let fy = (l + 16) / 116
                        let x = LabColor.fInverse(fy + a / 500), y = LabColor.fInverse(fy), z = LabColor.fInverse(fy - bb / 200)
                        let r = m[0] * x + m[1] * y + m[2] * z, g = m[3] * x + m[4] * y + m[5] * z, b = m[6] * x + m[7] * y + m[8] * z
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
