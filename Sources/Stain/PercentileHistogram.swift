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
            // Four values at a time, so that their bins are computed in one register (the same
            // IEEE operations lane by lane as one at a time).
            let (lows, scales) = (SIMD4<Float>(low, low, low, low), SIMD4<Float>(scale, scale, scale, scale))
            var i = 0
            while i &+ 4 <= count {
                let v = SIMD4<Float>(value(i), value(i &+ 1), value(i &+ 2), value(i &+ 3))
                let k = Self.bins((v - lows) * scales, last: last)
                c[Int(k[0])] &+= 1; c[Int(k[1])] &+= 1; c[Int(k[2])] &+= 1; c[Int(k[3])] &+= 1
                i &+= 4
            }
            while i < count {
                c[Self.bin((value(i) - low) * scale, last: last)] &+= 1
                i &+= 1
            }
        }
        total = count
    }

    /// `bin` of four values at once.
    @inline(__always) static func bins(_ k: SIMD4<Float>, last: Int) -> SIMD4<Int32> {
        let top = Float(last)
        let tops = SIMD4<Float>(top, top, top, top), zero = SIMD4<Float>.zero
        let two23 = SIMD4<Float>(8_388_608, 8_388_608, 8_388_608, 8_388_608)
        let x = k.replacing(with: tops, where: .!(k .< tops)).replacing(with: zero, where: .!(k .> zero))
        let t = x + two23
        let nearest = unsafeBitCast(t, to: SIMD4<Int32>.self) & SIMD4<Int32>(0x7F_FFFF, 0x7F_FFFF, 0x7F_FFFF, 0x7F_FFFF)
        return nearest.replacing(with: nearest &- SIMD4<Int32>(1, 1, 1, 1), where: t - two23 .> x)
    }

    /// k > 0 ? (k < last ? Int(k) : last) : 0 (NaN: 0), for last < 2²², without Swift's checked
    /// float → integer conversion (its range tests were half of a value's cost): adding 2²³ rounds
    /// the clamped k to the nearest integer in the low mantissa bits, one less where that is above k.
    @inline(__always) static func bin(_ k: Float, last: Int) -> Int {
        let top = Float(last)
        let x = k > 0 ? (k < top ? k : top) : 0
        let t = x + 8_388_608
        let nearest = Int(t.bitPattern & 0x7F_FFFF)
        return t - 8_388_608 > x ? nearest &- 1 : nearest
    }

    /// The value below which a fraction `q` of the counts lie, interpolated linearly in its bin:
    /// the lowest bin whose cumulative count reaches q·total, searched from the nearer end (the
    /// 99th percentile from the top; counts are exact integers, so both ends find the same bin).
    func percentile(_ q: Float) -> Float {
        guard total > 0 else { return low }
        let target = q * Float(total)
        return counts.withUnsafeBufferPointer { c in
            var bin = -1, cumulative = 0
            // Runs of empty bins (most of them: the values fill a small part of the range) are
            // skipped eight at a time.
            let blocks = UnsafeRawPointer(c.baseAddress!)
            @inline(__always) func empty(_ start: Int) -> Bool {
                let b = blocks + 4 &* start
                return b.loadUnaligned(as: UInt64.self) | b.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                    | b.loadUnaligned(fromByteOffset: 16, as: UInt64.self) | b.loadUnaligned(fromByteOffset: 24, as: UInt64.self) == 0
            }
            if q <= 0.5 {
                var i = 0
                while i < c.count {
                    if i & 7 == 0 && i &+ 8 <= c.count && empty(i) { i &+= 8; continue }
                    if c[i] > 0 {
                        cumulative += Int(c[i])
                        if Float(cumulative) >= target { bin = i; break }
                    }
                    i &+= 1
                }
            } else {
                var above = 0
                var i = c.count - 1
                while i >= 0 {
                    if i & 7 == 7 && empty(i &- 7) { i &-= 8; continue }
                    if c[i] > 0 {
                        let through = total - above
                        if Float(through) < target { break }
                        (bin, cumulative) = (i, through)
                        above += Int(c[i])
                    }
                    i &-= 1
                }
            }
            guard bin >= 0 else { return high }
            let n = Float(c[bin]), below = Float(cumulative) - n
            let within = max(0, min(1, (target - below) / n))
            return low + (Float(bin) + within) / scale
        }
    }
}
