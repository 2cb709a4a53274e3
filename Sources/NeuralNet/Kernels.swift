import Foundation
import TesseraCore

/// Small vector loops shared by the layers. SIMD16 accumulators keep reductions vectorised (the
/// compiler may not reorder a scalar float sum) and split the rounding error 16 ways.
enum Kernels {
    /// Σ (x − shift) and Σ (x − shift)² over `count` floats, each in Double at the end.
    @inline(__always)
    static func shiftedSums(_ x: UnsafePointer<Float>, count: Int, shift: Float) -> (sum: Double, squares: Double) {
        var s = SIMD16<Float>(repeating: 0), q = SIMD16<Float>(repeating: 0)
        let k = SIMD16<Float>(repeating: shift)
        var i = 0
        let raw = UnsafeRawPointer(x)
        while i + 16 <= count {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) - k
            s += v
            q += v * v
            i += 16
        }
        var sum = Double(s.sum()), squares = Double(q.sum())
        while i < count {
            let v = x[i] - shift
            sum += Double(v)
            squares += Double(v * v)
            i += 1
        }
        return (sum, squares)
    }

    /// Σ x over `count` floats.
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var s = SIMD16<Float>(repeating: 0)
        var i = 0
        let raw = UnsafeRawPointer(x)
        while i + 16 <= count {
            s += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        var total = s.sum()
        while i < count {
            total += x[i]
            i += 1
        }
        return total
    }

    /// y = x·scale + shift, optionally followed by max(·, 0). `y` may be `x`.
    @inline(__always)
    static func affine(_ x: UnsafePointer<Float>, count: Int, scale: Float, shift: Float, relu: Bool,
                       into y: UnsafeMutablePointer<Float>) {
        if relu {
            for i in 0..<count {
                let v = x[i] * scale + shift
                y[i] = v > 0 ? v : 0
            }
        } else {
            for i in 0..<count { y[i] = x[i] * scale + shift }
        }
    }
}

/// Standard normal samples from a seeded generator (Box–Muller on the generator's 53-bit uniforms),
/// so initial weights are the same on every machine.
struct NormalSampler {
    private var spare: Double?

    mutating func next(using rng: inout SeededGenerator) -> Double {
        if let s = spare {
            spare = nil
            return s
        }
        let u1 = 1 - rng.nextUnit()  // (0, 1]: log is finite
        let u2 = rng.nextUnit()
        let r = (-2 * log(u1)).squareRoot()
        spare = r * sin(2 * Double.pi * u2)
        return r * cos(2 * Double.pi * u2)
    }
}

/// He (Kaiming) initialisation: N(0, 2 / fanIn), for layers followed by ReLU.
enum HeInitialization {
    static func fill(_ p: UnsafeMutablePointer<Float>, count: Int, fanIn: Int, using rng: inout SeededGenerator) {
        precondition(fanIn > 0, "He initialisation needs a positive fan-in, got \(fanIn)")
        let std = (2.0 / Double(fanIn)).squareRoot()
        var normal = NormalSampler()
        for i in 0..<count { p[i] = Float(normal.next(using: &rng) * std) }
    }
}
