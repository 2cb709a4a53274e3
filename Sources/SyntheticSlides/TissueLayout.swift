import Foundation
import TesseraCore

/// Where the tissue lies on the glass: a few irregular pieces covering 35–55% of the slide.
///
/// Each piece is an ellipse (random centre, size, elongation and angle) whose outline is made
/// ragged by domain-warping and adding fractal value noise; the pieces' union is thresholded at the
/// quantile that covers the slide's target fraction. One or two wavy cuts (tears, knife lines)
/// split the union into separate pieces. Coordinates are slide-relative, so small and
/// large slides alike get a few pieces, and a margin of bare glass runs along every edge.
public struct TissueLayout: Sendable {
    public let width: Int
    public let height: Int
    /// The fraction of the slide's area covered by tissue (drawn per slide from 0.35...0.55).
    public let targetFraction: Double
    /// Bare glass within this fraction of the width/height from every edge.
    public static let margin = 0.04

    private struct Piece: Sendable {
        var x: Double, y: Double
        /// Semi-axes and the rotation (cos, sin) of the long one.
        var a: Double, b: Double
        var c: Double, s: Double
    }

    /// A knife cut or tear through the tissue: a wavy band of glass along a line.
    private struct Cut: Sendable {
        var x: Double, y: Double
        /// Unit normal of the line.
        var nx: Double, ny: Double
        var halfWidth: Double
    }

    private let seed: UInt64
    private let pieces: [Piece]
    private let cuts: [Cut]
    private let threshold: Double

    public init(width: Int, height: Int, seed: UInt64) {
        self.width = width
        self.height = height
        var rng = SeededGenerator(seed: seed, stream: 0x7155)
        self.seed = rng.next()
        targetFraction = 0.35 + 0.20 * rng.nextUnit()
        let aspectX = Double(width) / Double(max(width, height))
        let aspectY = Double(height) / Double(max(width, height))
        let count = 2 + Int(rng.next() % 4)
        pieces = (0..<count).map { _ in
            let angle = rng.nextUnit() * Double.pi
            let size = 0.1 + 0.14 * rng.nextUnit()
            return Piece(x: (0.22 + 0.56 * rng.nextUnit()) * aspectX, y: (0.22 + 0.56 * rng.nextUnit()) * aspectY,
                         a: size, b: size * (0.45 + 0.5 * rng.nextUnit()), c: cos(angle), s: sin(angle))
        }
        cuts = (0..<(1 + Int(rng.next() % 2))).map { _ in
            let angle = rng.nextUnit() * Double.pi
            return Cut(x: (0.3 + 0.4 * rng.nextUnit()) * aspectX, y: (0.3 + 0.4 * rng.nextUnit()) * aspectY,
                       nx: cos(angle), ny: sin(angle), halfWidth: 0.01 + 0.015 * rng.nextUnit())
        }
        // The threshold is the (1 − target) quantile of the mask value over a fine grid.
        let n = 96
        var values: [Double] = []
        values.reserveCapacity(n * n)
        for j in 0..<n {
            for i in 0..<n {
                values.append(Self.maskValue(seed: self.seed, pieces: pieces, cuts: cuts, u: (Double(i) + 0.5) / Double(n),
                                             v: (Double(j) + 0.5) / Double(n), width: width, height: height))
            }
        }
        values.sort()
        threshold = values[min(values.count - 1, Int((1 - targetFraction) * Double(values.count)))]
    }

    /// Whether level-0 pixel (x, y) lies in tissue (before the edge is roughened at the micrometre
    /// scale by the renderer).
    public func contains(x: Double, y: Double) -> Bool { mask(x, y) >= threshold }

    /// Approximate signed distance (level-0 pixels) from (x, y) to the tissue's edge: positive
    /// inside, negative on glass, from the mask value and its gradient; clamped to ±`maxDistance`.
    public func edgeDistance(x: Double, y: Double) -> Double {
        let m = mask(x, y) - threshold
        let step = 4.0
        let gx = (mask(x + step, y) - mask(x - step, y)) / (2 * step)
        let gy = (mask(x, y + step) - mask(x, y - step)) / (2 * step)
        let gradient = (gx * gx + gy * gy).squareRoot()
        guard gradient > 0 else { return m >= 0 ? Self.maxDistance : -Self.maxDistance }
        return max(-Self.maxDistance, min(Self.maxDistance, m / gradient))
    }

    /// Distances beyond this (pixels) carry no information.
    public static let maxDistance = 4096.0

    private func mask(_ x: Double, _ y: Double) -> Double {
        Self.maskValue(seed: seed, pieces: pieces, cuts: cuts, u: x / Double(width), v: y / Double(height), width: width, height: height)
    }

    /// Union of the ragged pieces × edge window, at slide-relative position (u, v) ∈ [0, 1]².
    private static func maskValue(seed: UInt64, pieces: [Piece], cuts: [Cut], u: Double, v: Double, width: Int, height: Int) -> Double {
        // Isotropic coordinates: both axes scaled by the longer side.
        let longSide = Double(max(width, height))
        let x = u * Double(width) / longSide, y = v * Double(height) / longSide
        let wx = ValueNoise.fractal(seed &+ 101, x * 4, y * 4, octaves: 3) - 0.5
        let wy = ValueNoise.fractal(seed &+ 202, x * 4, y * 4, octaves: 3) - 0.5
        let px = x + 0.12 * wx, py = y + 0.12 * wy
        var best = -Double.infinity
        for p in pieces {
            let dx = px - p.x, dy = py - p.y
            let along = (dx * p.c + dy * p.s) / p.a, across = (dy * p.c - dx * p.s) / p.b
            best = max(best, 1 - (along * along + across * across).squareRoot())
        }
        let ragged = 1.1 * (ValueNoise.fractal(seed, x * 5, y * 5, octaves: 4) - 0.5)
        for cut in cuts {
            let d = abs((px - cut.x) * cut.nx + (py - cut.y) * cut.ny)
            if d < 2 * cut.halfWidth { best -= 3 * (1 - d / (2 * cut.halfWidth)) }
        }
        // Pieces shrink smoothly towards the slide's edges, and the margin is always glass.
        let edge = min(u, 1 - u, v, 1 - v)
        let penalty = 1.5 * max(0, (margin + 0.15 - edge) / 0.15)
        let value = best + ragged - penalty
        return edge > margin ? value : min(value, -10)
    }
}
