/// Percentiles from a fixed histogram instead of a sort: one pass, no allocation per value, and
/// exact to a bin's width (the stain methods need the 1st and 99th percentiles of 65,536 values per
/// tile, where a sort would cost more than everything else).
struct PercentileHistogram {
    let low: Float
    let high: Float
    private(set) var counts: [Int32]
    private(set) var total = 0
    private let scale: Float

    init(low: Float, high: Float, bins: Int) {
        self.low = low
        self.high = high
        counts = [Int32](repeating: 0, count: bins)
        scale = Float(bins) / (high - low)
    }

    /// Empties the histogram and counts `value(i)` for i in 0..<count, clamped into [low, high]:
    /// one pass with the counts held by pointer (no copy-on-write check per value).
    @inline(__always) mutating func reset(adding count: Int, _ value: (Int) -> Float) {
        let (low, scale, last) = (self.low, self.scale, counts.count - 1)
        counts.withUnsafeMutableBufferPointer { counts in
            let c = counts.baseAddress!
            for i in 0..<counts.count { c[i] = 0 }
            for i in 0..<count {
                let k = (value(i) - low) * scale
                c[k > 0 ? (k < Float(last) ? Int(k) : last) : 0] &+= 1
            }
        }
        total = count
    }

    /// The value below which a fraction `q` of the counts lie, interpolated linearly in its bin:
    /// the lowest bin whose cumulative count reaches q·total, searched from the nearer end (the
    /// 99th percentile from the top; counts are exact integers, so both ends find the same bin).
    func percentile(_ q: Float) -> Float {
        guard total > 0 else { return low }
        let target = q * Float(total)
        return counts.withUnsafeBufferPointer { c in
            var bin = -1, cumulative = 0
            if q <= 0.5 {
                for i in 0..<c.count where c[i] > 0 {
                    cumulative += Int(c[i])
                    if Float(cumulative) >= target { bin = i; break }
                }
            } else {
                var above = 0
                for i in stride(from: c.count - 1, through: 0, by: -1) where c[i] > 0 {
                    let through = total - above
                    if Float(through) < target { break }
                    (bin, cumulative) = (i, through)
                    above += Int(c[i])
                }
            }
            guard bin >= 0 else { return high }
            let n = Float(c[bin]), below = Float(cumulative) - n
            let within = max(0, min(1, (target - below) / n))
            return low + (Float(bin) + within) / scale
        }
    }
}
