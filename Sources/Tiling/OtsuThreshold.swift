/// Otsu's threshold of a histogram: the split that maximises the between-class variance
/// w₀·w₁·(μ₀ − μ₁)². Values ≤ the threshold form the lower class. Ties go to the lowest threshold;
/// a histogram with one occupied bin (or none) has no split and returns nil.
public enum OtsuThreshold {
    public static func threshold(histogram: [Int]) -> Int? {
        let total = histogram.reduce(0, +)
        guard total > 0, histogram.filter({ $0 > 0 }).count > 1 else { return nil }
        let weightedTotal = histogram.enumerated().reduce(0.0) { $0 + Double($1.offset) * Double($1.element) }
        var below = 0, weightedBelow = 0.0
        var best: (t: Int, score: Double)?
        for t in 0..<(histogram.count - 1) {
            below += histogram[t]
            weightedBelow += Double(t) * Double(histogram[t])
            let above = total - below
            guard below > 0 && above > 0 else { continue }
            let m0 = weightedBelow / Double(below), m1 = (weightedTotal - weightedBelow) / Double(above)
            let score = Double(below) * Double(above) * (m0 - m1) * (m0 - m1)
            if best == nil || score > best!.score * (1 + 1e-12) { best = (t, score) }
        }
        return best?.t
    }

    /// HSV saturation on 0–255: (max − min) · 255 / max, 0 for black.
    @inline(__always) public static func saturation(_ r: Int, _ g: Int, _ b: Int) -> Int {
        let hi = max(r, g, b)
        return hi == 0 ? 0 : (hi - min(r, g, b)) * 255 / hi
    }

    /// The 256-bin saturation histogram of an image's pixels (a slide thumbnail).
    public static func saturationHistogram(_ pixels: [UInt8]) -> [Int] {
        var histogram = [Int](repeating: 0, count: 256)
        var i = 0
        while i + 2 < pixels.count {
            histogram[saturation(Int(pixels[i]), Int(pixels[i + 1]), Int(pixels[i + 2]))] += 1
            i += 3
        }
        return histogram
    }
}

/// Which pixels of a tile are glass.
public enum TissueRule: String, CaseIterable, Sendable, Codable {
    /// Luminance at or above the background threshold (220: DeepPATH's rule).
    case luminance
    /// HSV saturation below the slide's Otsu threshold, computed on its thumbnail (CLAM's and
    /// slideflow's rule): adapts to each slide's glass, so a dim scan's grey glass is not tissue.
    case otsu
}
