import Foundation

/// Eigenvalues and eigenvectors of a symmetric 3×3 matrix in closed form (Smith 1961 for the
/// values: the roots of the characteristic cubic by the trigonometric method; each vector as the
/// largest cross product of two rows of A − λI). No iteration, no LAPACK: it runs once per tile.
public enum SymmetricEigen3 {
    /// - Parameter a: row-major 3×3, symmetric.
    /// - Returns: eigenvalues in decreasing order with unit eigenvectors; nil when A is not finite.
    public static func decompose(_ a: [Double]) -> [(value: Double, vector: [Double])]? {
        precondition(a.count == 9, "a 3×3 matrix has 9 entries")
        guard a.allSatisfy(\.isFinite) else { return nil }
        let p1 = a[1] * a[1] + a[2] * a[2] + a[5] * a[5]
        let q = (a[0] + a[4] + a[8]) / 3
        var values: [Double]
        if p1 <= 1e-30 * max(1, q * q) {
            values = [a[0], a[4], a[8]].sorted(by: >)
        } else {
            let p2 = (a[0] - q) * (a[0] - q) + (a[4] - q) * (a[4] - q) + (a[8] - q) * (a[8] - q) + 2 * p1
            let p = (p2 / 6).squareRoot()
            // B = (A − qI) / p; r = det(B) / 2 lies in [−1, 1] up to rounding.
            let b = (0..<9).map { i in (a[i] - (i % 4 == 0 ? q : 0)) / p }
            let det = b[0] * (b[4] * b[8] - b[5] * b[7]) - b[1] * (b[3] * b[8] - b[5] * b[6]) + b[2] * (b[3] * b[7] - b[4] * b[6])
            let phi = acos(min(1, max(-1, det / 2))) / 3
            let first = q + 2 * p * cos(phi)
            let third = q + 2 * p * cos(phi + 2 * Double.pi / 3)
            values = [first, 3 * q - first - third, third]
        }
        var vectors: [[Double]] = []
        for (k, lambda) in values.enumerated() {
            var v = nullVector(a, lambda)
            // A repeated value: any unit vector orthogonal to the ones found so far.
            if v == nil || vectors.contains(where: { abs(dot($0, v!)) > 0.5 }) {
                v = orthogonalComplement(vectors, count: k)
            }
            vectors.append(v!)
        }
        return zip(values, vectors).map { ($0, $1) }
    }

    /// The unit vector spanning the null space of A − λI, from the largest cross product of its rows.
    static func nullVector(_ a: [Double], _ lambda: Double) -> [Double]? {
        let r0 = [a[0] - lambda, a[1], a[2]], r1 = [a[3], a[4] - lambda, a[5]], r2 = [a[6], a[7], a[8] - lambda]
        let candidates = [cross(r0, r1), cross(r0, r2), cross(r1, r2)]
        let best = candidates.max { dot($0, $0) < dot($1, $1) }!
        let norm = dot(best, best).squareRoot()
        let scale = max(dot(r0, r0), dot(r1, r1), dot(r2, r2))
        guard norm > 1e-12 * max(scale, 1e-300) else { return nil }
        return best.map { $0 / norm }
    }

    static func orthogonalComplement(_ found: [[Double]], count: Int) -> [Double] {
        if found.count == 2 {
            let c = cross(found[0], found[1])
            let n = dot(c, c).squareRoot()
            return c.map { $0 / n }
        }
        let axes: [[Double]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
        let start = found.first.map { f in axes.min { abs(dot($0, f)) < abs(dot($1, f)) }! } ?? axes[0]
        var v = start
        for f in found { let d = dot(v, f); v = zip(v, f).map { $0 - d * $1 } }
        let n = dot(v, v).squareRoot()
        return v.map { $0 / n }
    }

    static func cross(_ u: [Double], _ v: [Double]) -> [Double] {
        [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]]
    }

    static func dot(_ u: [Double], _ v: [Double]) -> Double { u[0] * v[0] + u[1] * v[1] + u[2] * v[2] }
}
