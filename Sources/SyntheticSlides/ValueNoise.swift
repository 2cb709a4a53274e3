import Foundation
import TesseraCore

/// Lattice value noise: a hashed random value at every integer lattice point, smoothly
/// interpolated between them. Stateless, so any point can be evaluated alone and in any order.
enum ValueNoise {
    /// The random value in [0, 1) at lattice point (ix, iy).
    @inline(__always)
    static func lattice(_ seed: UInt64, _ ix: Int, _ iy: Int) -> Double {
        Double(mixHash(seed, UInt64(bitPattern: Int64(ix)), UInt64(bitPattern: Int64(iy))) >> 11) * 0x1.0p-53
    }

    /// Smoothly interpolated noise in [0, 1) at (x, y), one lattice cell per unit.
    static func sample(_ seed: UInt64, _ x: Double, _ y: Double) -> Double {
        let ix = floorInt(x), iy = floorInt(y)
        let tx = x - Double(ix), ty = y - Double(iy)
        let sx = tx * tx * (3 - 2 * tx), sy = ty * ty * (3 - 2 * ty)
        let v00 = lattice(seed, ix, iy), v10 = lattice(seed, ix + 1, iy)
        let v01 = lattice(seed, ix, iy + 1), v11 = lattice(seed, ix + 1, iy + 1)
        let top = v00 + (v10 - v00) * sx
        let bottom = v01 + (v11 - v01) * sx
        return top + (bottom - top) * sy
    }

    /// Sum of `octaves` octaves (each twice the frequency and half the amplitude of the last),
    /// normalised to [0, 1).
    static func fractal(_ seed: UInt64, _ x: Double, _ y: Double, octaves: Int) -> Double {
        var sum = 0.0, amplitude = 1.0, total = 0.0, frequency = 1.0
        for octave in 0..<octaves {
            // Offset each octave so that lattice points do not line up.
            let shift = Double(octave) * 17.31
            sum += amplitude * sample(seed &+ UInt64(octave), x * frequency + shift, y * frequency - shift)
            total += amplitude
            amplitude *= 0.5
            frequency *= 2
        }
        return sum / total
    }
}
