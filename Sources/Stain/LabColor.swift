import Foundation
import StainKernels

/// sRGB bytes ↔ CIE L*a*b* (D65), by tables where the exact functions are costly: the sRGB curve
/// both ways and the cube root of the forward transform (error < 0.01 in L*).
enum LabColor {
    /// sRGB byte → linear light.
    static let linearFromByte: [Float] = (0..<256).map { v in
        let c = Double(v) / 255
        return Float(c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4))
    }

    /// Linear light in [0, 1], in `byteSteps` steps → sRGB byte (rounded). Half a step moves the
    /// darkest bytes (slope 12.92·255) by < 0.11.
    static let byteSteps = 16383
    static let byteFromLinear: [UInt8] = (0...byteSteps).map { k in
        let c = Double(k) / Double(byteSteps)
        let s = c <= 0.0031308 ? 12.92 * c : 1.055 * pow(c, 1 / 2.4) - 0.055
        return UInt8(min(255, max(0, (s * 255).rounded())))
    }

    /// f(t) of the L*a*b* definition on [0, 1] in `cubeRootSteps` steps (t slightly above 1 is
    /// clamped), read without interpolation: half a step moves f by < 6·10⁻⁵ (L* by < 0.01).
    static let cubeRootSteps = 65535
    static let cubeRootTable: [Float] = (0...cubeRootSteps + 1).map { k in
        let t = Double(k) / Double(cubeRootSteps)
        return Float(t > 216.0 / 24389 ? cbrt(t) : t * 24389 / 3132 + 4.0 / 29)
    }

    /// Fixed-point X, Y, Z (over white) of a pixel in steps of the cube-root table: the sum of one
    /// term per channel, [channel · 256 + byte] → (X, Y, Z) · `cubeRootSteps` · 2^`xyzFractionBits`, glass
    /// (the red terms carry the ½ step that makes the shift a rounding). Each term is rounded to
    /// 2⁻⁸ of a step, so an index differs from the float path's by at most one step. All terms are
    /// ≥ 0 and each row of `forward` sums to 1, so a sum never passes the table's last entry.
    static let xyzFractionBits: Int32 = 8
    /// The fourth lane's term of a byte above the tissue byte: three of them reach 2^`xyzFractionBits`
    /// and two do not, so the shifted sum's fourth lane is 1 for glass (all three channels light)
    /// and 0 for tissue.
    static let glassTerm: Int32 = (1 << xyzFractionBits) / 3 + 1
    static let xyzTerms: [SIMD4<Int32>] = (0..<(3 * 256)).map { k in
        let (channel, byte) = (k / 256, k % 256)
        let unit = Double(cubeRootSteps) * Double(1 << xyzFractionBits)
        let half = channel == 0 ? Double(1 << (xyzFractionBits - 1)) : 0
        let lin = Double(linearFromByte[byte])
        var t = SIMD4<Int32>.zero
        for row in 0..<3 { t[row] = Int32((Double(forward[3 * row + channel]) * lin * unit + half).rounded()) }
        t[3] = UInt8(byte) > ReinhardNormalizer.tissueByte ? glassTerm : 0
        return t
    }

    /// Linear RGB → XYZ / white (D65 white folded into the rows).
    static let forward: [Float] = [
        0.412_456_4 / 0.950_47, 0.357_576_1 / 0.950_47, 0.180_437_5 / 0.950_47,
        0.212_672_9, 0.715_152_2, 0.072_175_0,
        0.019_333_9 / 1.088_83, 0.119_192_0 / 1.088_83, 0.950_304_1 / 1.088_83,
    ]
    /// XYZ / white → linear RGB (the inverse, white folded into the columns).
    static let inverse: [Float] = [
        3.240_454_2 * 0.950_47, -1.537_138_5, -0.498_531_4 * 1.088_83,
        -0.969_266_0 * 0.950_47, 1.876_010_8, 0.041_556_0 * 1.088_83,
        0.055_643_4 * 0.950_47, -0.204_025_9, 1.057_225_2 * 1.088_83,
    ]

    @inline(__always) static func f(_ t: Float, _ table: UnsafePointer<Float>) -> Float {
        table[Int(max(0, min(1, t)) * Float(cubeRootSteps) + 0.5)]
    }

    @inline(__always) static func fInverse(_ f: Float) -> Float { StainKernels.fInverse(f) }

    /// L*, a*, b* of one pixel, exactly (for tests and references).
    static func exact(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> (Double, Double, Double) {
        func lin(_ v: UInt8) -> Double { let c = Double(v) / 255; return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4) }
        func f(_ t: Double) -> Double { t > 216.0 / 24389 ? cbrt(t) : t * 24389 / 3132 + 4.0 / 29 }
        let (lr, lg, lb) = (lin(r), lin(g), lin(b))
        let m = forward.map(Double.init)
        let fx = f(m[0] * lr + m[1] * lg + m[2] * lb), fy = f(m[3] * lr + m[4] * lg + m[5] * lb), fz = f(m[6] * lr + m[7] * lg + m[8] * lb)
        return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))
    }
}
