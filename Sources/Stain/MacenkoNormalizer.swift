import TesseraCore

/// Macenko et al. 2009: the tile's two stain vectors found in optical density, its stain
/// concentrations rescaled to the reference's maxima and recomposed with the reference's vectors.
///
/// Tissue pixels are those with OD ≥ β in every channel. Their OD covariance's two leading
/// eigenvectors span the stain plane; the 1st and 99th percentiles of the pixels' angles in that
/// plane give the two stains (the one with the larger red OD is haematoxylin). Concentrations come
/// from the 2×2 normal equations. Angles are diamond angles (monotone in the true angle, no trig)
/// and percentiles come from histograms. A tile with too little tissue, or whose two stains
/// coincide, is left as it is — other implementations throw there.
public struct MacenkoNormalizer {
    /// The fitted stains of one tile.
    public struct Fit: Equatable, Sendable {
        public var haematoxylin: [Float]
        public var eosin: [Float]
        public var maxConcentrations: [Float]
        public var tissuePixels: Int
    }

    public let reference: MacenkoReference
    /// β: OD below which a channel counts as unstained.
    public static let beta: Float = 0.15
    /// α: the angle percentiles (1st and 99th) that pick the two extreme stains.
    public static let alpha: Float = 0.01
    /// The fit reads every `fitStep(width:height:)`-th pixel of every such row.
    public static func fitStep(width: Int, height: Int) -> Int {
        let side = min(width, height)
        return side >= 256 ? 3 : side >= 64 ? 2 : 1
    }
    /// The largest byte whose OD is at least β in a channel (OD falls as the byte rises).
    static let tissueByte = UInt8(OpticalDensity.fromByte.lastIndex { $0 >= beta }!)
    /// Below this share of tissue pixels (or 64 pixels) the fit is not trusted.
    public static let minimumTissueFraction = 0.05
    private var angles = PercentileHistogram(low: -2, high: 2, bins: 8192)
    private var concentrationsH = PercentileHistogram(low: 0, high: 8, bins: 4096)
    private var concentrationsE = PercentileHistogram(low: 0, high: 8, bins: 4096)
    /// The OD of the pixels the fit reads, and of those that are tissue (scratch, 3 per pixel).
    private var sampled: [Float] = []
    private var kept: [Float] = []

    public init(reference: MacenkoReference) {
        self.reference = reference
    }

    /// The tile's stains, or nil when it has too little tissue for a stable fit.
    public mutating func fit(_ image: RGBImage) -> Fit? {
        fit(image, step: Self.fitStep(width: image.width, height: image.height))
    }

    /// The fit on every `step`-th pixel of every `step`-th row. At 256² step 3 (7,396 pixels)
    /// rather than 2: the fit was half of the tile's instructions, and on the real slides' 256²
    /// tiles step 3 is about as close to the full fit as step 2 (99th-percentile concentrations
    /// 1.7–2.7 % apart at the median, against 1.7–2.0 %), where step 4 doubled that.
    mutating func fit(_ image: RGBImage, step: Int) -> Fit? {
        let n = ((image.width + step - 1) / step) * ((image.height + step - 1) / step)
        // Pass 1: every read pixel's OD into `sampled`, the tissue pixels' also into `kept`, and
        // the moments of the tissue pixels' OD (Float per row, Double per tile). The tissue test is
        // on the bytes (OD ≥ β ⟺ byte ≤ `tissueByte`), and every pixel is written to `kept` with
        // only the tissue ones counted: no branch per pixel. The moments are then summed over the
        // row's tissue pixels, in the same order as before.
        if sampled.count < 3 * n { sampled = [Float](repeating: 0, count: 3 * n) }
        if kept.count < 3 * n { kept = [Float](repeating: 0, count: 3 * n) }
        var s = [Double](repeating: 0, count: 9)
        var tissue = 0
        let (w, height, tissueByte) = (image.width, image.height, Self.tissueByte)
        OpticalDensity.fromByte.withUnsafeBufferPointer { table in
            image.pixels.withUnsafeBufferPointer { px in
                sampled.withUnsafeMutableBufferPointer { all in
                    kept.withUnsafeMutableBufferPointer { kept in
                        let table = table.baseAddress!, px = px.baseAddress!, all = all.baseAddress!, kept = kept.baseAddress!
                        var k = 0
                        for y in stride(from: 0, to: height, by: step) {
                            let rowStart = tissue
                            for x in stride(from: 0, to: w, by: step) {
                                let p = 3 &* (y &* w &+ x)
                                let (r8, g8, b8) = (px[p], px[p &+ 1], px[p &+ 2])
                                let r = table[Int(r8)], g = table[Int(g8)], b = table[Int(b8)]
                                all[3 &* k] = r; all[3 &* k &+ 1] = g; all[3 &* k &+ 2] = b
                                k &+= 1
                                kept[3 &* tissue] = r; kept[3 &* tissue &+ 1] = g; kept[3 &* tissue &+ 2] = b
                                tissue &+= max(r8, g8, b8) <= tissueByte ? 1 : 0
                            }
                            var a: (Float, Float, Float, Float, Float, Float, Float, Float, Float) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
                            for i in rowStart..<tissue {
                                let r = kept[3 &* i], g = kept[3 &* i &+ 1], b = kept[3 &* i &+ 2]
                                a.0 += r; a.1 += g; a.2 += b
                                a.3 += r * r; a.4 += r * g; a.5 += r * b; a.6 += g * g; a.7 += g * b; a.8 += b * b
                            }
                            s[0] += Double(a.0); s[1] += Double(a.1); s[2] += Double(a.2); s[3] += Double(a.3); s[4] += Double(a.4)
                            s[5] += Double(a.5); s[6] += Double(a.6); s[7] += Double(a.7); s[8] += Double(a.8)
                        }
                    }
                }
            }
        }
        guard tissue >= max(64, Int(Self.minimumTissueFraction * Double(n))) else { return nil }
        let t = Double(tissue)
        let mean = [s[0] / t, s[1] / t, s[2] / t]
        let c = [s[3] / t - mean[0] * mean[0], s[4] / t - mean[0] * mean[1], s[5] / t - mean[0] * mean[2],
                 s[4] / t - mean[0] * mean[1], s[6] / t - mean[1] * mean[1], s[7] / t - mean[1] * mean[2],
                 s[5] / t - mean[0] * mean[2], s[7] / t - mean[1] * mean[2], s[8] / t - mean[2] * mean[2]]
        guard let eigen = SymmetricEigen3.decompose(c) else { return nil }
        // The plane's first axis points into the positive octant, where all OD lies.
        var e1 = eigen[0].vector.map(Float.init), e2 = eigen[1].vector.map(Float.init)
        if e1[0] + e1[1] + e1[2] < 0 { e1 = e1.map { -$0 } }
        if e2[0] - e2[2] < 0 { e2 = e2.map { -$0 } }

        // Pass 2: the tissue pixels' diamond angles in the plane (x along e1, y along e2).
        let (a0, a1, a2, b0, b1, b2) = (e1[0], e1[1], e1[2], e2[0], e2[1], e2[2])
        kept.withUnsafeBufferPointer { kept in
            let od = kept.baseAddress!
            angles.reset(adding: tissue) { i in
                let (r, g, b) = (od[3 &* i], od[3 &* i &+ 1], od[3 &* i &+ 2])
                return Self.diamondAngle(x: a0 * r + a1 * g + a2 * b, y: b0 * r + b1 * g + b2 * b)
            }
        }
        let low = Self.direction(angles.percentile(Self.alpha)), high = Self.direction(angles.percentile(1 - Self.alpha))
        func vector(_ d: (Float, Float)) -> [Float] {
            let v = (0..<3).map { e1[$0] * d.0 + e2[$0] * d.1 }
            let norm = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).squareRoot()
            return v.map { $0 / norm }
        }
        let v1 = vector(low), v2 = vector(high)
        let (h, e) = v1[0] > v2[0] ? (v1, v2) : (v2, v1)

        // Pass 3: every pixel's concentrations by least squares, for their 99th percentiles.
        guard let solve = Self.leastSquares(h, e) else { return nil }
        let (p0, p1, p2, p3, p4, p5) = (solve[0], solve[1], solve[2], solve[3], solve[4], solve[5])
        sampled.withUnsafeBufferPointer { all in
            let od = all.baseAddress!
            concentrationsH.reset(adding: n) { i in p0 * od[3 &* i] + p1 * od[3 &* i &+ 1] + p2 * od[3 &* i &+ 2] }
            concentrationsE.reset(adding: n) { i in p3 * od[3 &* i] + p4 * od[3 &* i &+ 1] + p5 * od[3 &* i &+ 2] }
        }
        let maxima = [concentrationsH.percentile(1 - Self.alpha), concentrationsE.percentile(1 - Self.alpha)]
        guard maxima.allSatisfy({ $0 > 1e-3 }) else { return nil }
        return Fit(haematoxylin: h, eosin: e, maxConcentrations: maxima, tissuePixels: tissue)
    }

    /// Normalises `image` in place; false (and unchanged) when the tile has too little tissue.
    @discardableResult
    public mutating func normalize(_ image: inout RGBImage) -> Bool {
        guard let fit = fit(image), let solve = Self.leastSquares(fit.haematoxylin, fit.eosin) else { return false }
        // OD' = R · diag(max_ref / max) · P · OD: one 3×3 map from the pixel's OD to the normalised OD.
        let h = reference.haematoxylin, e = reference.eosin
        let kh = reference.maxConcentrations[0] / fit.maxConcentrations[0], ke = reference.maxConcentrations[1] / fit.maxConcentrations[1]
        var m = [Float](repeating: 0, count: 9)
        for i in 0..<3 {
            for j in 0..<3 { m[3 * i + j] = h[i] * kh * solve[j] + e[i] * ke * solve[3 + j] }
        }
        OpticalDensityMap(matrix: m, offset: [0, 0, 0]).apply(&image)
        return true
    }

    /// P = (SᵀS)⁻¹Sᵀ for S = [h e] (3×2): the rows give the H and E concentrations of an OD; nil
    /// when the two stains are (nearly) parallel.
    static func leastSquares(_ h: [Float], _ e: [Float]) -> [Float]? {
        let hh = h[0] * h[0] + h[1] * h[1] + h[2] * h[2], he = h[0] * e[0] + h[1] * e[1] + h[2] * e[2]
        let ee = e[0] * e[0] + e[1] * e[1] + e[2] * e[2]
        let det = hh * ee - he * he
        guard det > 1e-6 * hh * ee else { return nil }
        return (0..<3).map { (ee * h[$0] - he * e[$0]) / det } + (0..<3).map { (hh * e[$0] - he * h[$0]) / det }
    }

    /// A monotone stand-in for atan2(y, x) on (−π, π]: in [−1, 1] for x ≥ 0, beyond for x < 0.
    @inline(__always) static func diamondAngle(x: Float, y: Float) -> Float {
        let d = abs(x) + abs(y)
        guard d > 0 else { return 0 }
        let p = y / d
        if x >= 0 { return p }
        return y >= 0 ? 2 - p : -2 - p
    }

    /// A (non-unit) direction with the given diamond angle.
    static func direction(_ a: Float) -> (Float, Float) {
        if a >= -1 && a <= 1 { return (1 - abs(a), a) }
        let p = a > 0 ? 2 - a : -2 - a
        return (-(1 - abs(p)), p)
    }
}
