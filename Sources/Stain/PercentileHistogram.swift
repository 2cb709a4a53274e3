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

    mutating func reset() {
        for i in counts.indices { counts[i] = 0 }
        total = 0
    }

    /// Counts `v`, clamped into [low, high].
    @inline(__always) mutating func add(_ v: Float) {
        let k = (v - low) * scale
        let i = k > 0 ? min(Int(k), counts.count - 1) : 0
        counts[i] += 1
        total += 1
    }

    /// The value below which a fraction `q` of the counts lie, interpolated linearly in its bin.
    func percentile(_ q: Float) -> Float {
        guard total > 0 else { return low }
        let target = q * Float(total)
        var below: Float = 0
        for (i, c) in counts.enumerated() where c > 0 {
            let n = Float(c)
            if below + n >= target {
                let within = max(0, min(1, (target - below) / n))
                return low + (Float(i) + within) / scale
            }
            below += n
        }
        return high
    }
}
