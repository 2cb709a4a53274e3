import TesseraCore

/// HED colour augmentation (Tellez et al. 2018; DeepPATH's `--hed`): colour deconvolution into
/// haematoxylin, eosin and DAB with Ruifrok and Johnston's matrix, each stain's concentration
/// scaled by α ∈ [1−σ, 1+σ] and shifted by β ∈ [−σ, σ] (OD units), and recomposed.
///
/// Deconvolution, perturbation and recomposition are linear in optical density, so together they
/// are one affine map of each pixel's OD: OD' = M·diag(α)·M⁻¹·OD + M·β, applied through
/// integer tables (`OpticalDensityMap`: no log, exp or float conversion per pixel).
public enum HEDAugmentation {
    /// Ruifrok and Johnston's stain vectors (rows: H, E, DAB; columns: R, G, B), unit length, as
    /// scikit-image's `rgb_from_hed`.
    public static let stains: [[Double]] = {
        let raw: [[Double]] = [[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]]
        return raw.map { v in let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).squareRoot(); return v.map { $0 / n } }
    }()

    /// OD (RGB) = Σ_s concentration_s · stain_s: column s of this matrix is stain s.
    static let recomposition: [Double] = (0..<9).map { k in stains[k % 3][k / 3] }
    static let deconvolution: [Double] = invert3(recomposition)

    /// The H, E, DAB concentrations of an OD triple (RGB).
    public static func deconvolve(_ od: [Double]) -> [Double] { multiply(deconvolution, od) }

    /// The OD triple (RGB) of H, E, DAB concentrations.
    public static func recompose(_ concentrations: [Double]) -> [Double] { multiply(recomposition, concentrations) }

    /// α and β per stain, drawn from `rng` (six draws, always, so the stream's use does not depend on σ).
    public static func draw(sigma: Float, rng: inout SeededGenerator) -> (alpha: [Float], beta: [Float]) {
        let u = (0..<6).map { _ in Float(rng.nextUnit()) * 2 - 1 }
        return (u[0..<3].map { 1 + $0 * sigma }, u[3..<6].map { $0 * sigma })
    }

    /// Perturbs `image` in place: concentration_s ← α_s·concentration_s + β_s.
    public static func apply(_ image: inout RGBImage, alpha: [Float], beta: [Float]) {
        precondition(alpha.count == 3 && beta.count == 3, "one α and one β per stain")
        // Per tile, so in plain loops: closures and reductions here cost as much as a tenth of the pixels.
        var m = [Float](repeating: 0, count: 9), offset = [Float](repeating: 0, count: 3)
        for i in 0..<3 {
            for j in 0..<3 {
                var sum = 0.0
                for s in 0..<3 { sum += recomposition[3 * i + s] * Double(alpha[s]) * deconvolution[3 * s + j] }
                m[3 * i + j] = Float(sum)
            }
            var sum = 0.0
            for s in 0..<3 { sum += recomposition[3 * i + s] * Double(beta[s]) }
            offset[i] = Float(sum)
        }
        OpticalDensityMap(matrix: m, offset: offset).apply(&image)
    }

    static func multiply(_ m: [Double], _ v: [Double]) -> [Double] {
        (0..<3).map { i in m[3 * i] * v[0] + m[3 * i + 1] * v[1] + m[3 * i + 2] * v[2] }
    }

    static func invert3(_ m: [Double]) -> [Double] {
        let c = [m[4] * m[8] - m[5] * m[7], m[2] * m[7] - m[1] * m[8], m[1] * m[5] - m[2] * m[4],
                 m[5] * m[6] - m[3] * m[8], m[0] * m[8] - m[2] * m[6], m[2] * m[3] - m[0] * m[5],
                 m[3] * m[7] - m[4] * m[6], m[1] * m[6] - m[0] * m[7], m[0] * m[4] - m[1] * m[3]]
        let det = m[0] * c[0] + m[1] * c[3] + m[2] * c[6]
        return c.map { $0 / det }
    }
}
