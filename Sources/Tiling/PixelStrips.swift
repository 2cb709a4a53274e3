/// Interleaved RGB (3 bytes a pixel) split into three planes a strip at a time, so the per-pixel
/// rules run as counted loops over planes: LLVM does not vectorise stride-3 byte loads on baseline
/// x86-64 (SSE2), but does vectorise the same arithmetic over planes. A strip's planes (3 KB) stay
/// in L1; the split itself is scalar (a load and a store a byte).
enum PixelStrips {
    /// Pixels a strip.
    static let length = 1024

    /// Calls `body(r, g, b, n)` on the planes of consecutive strips of at most `length` pixels of
    /// `pixels` (whose count is a multiple of 3), in order.
    @inline(__always)
    static func forEach(
        _ pixels: UnsafeBufferPointer<UInt8>,
        _ body: (UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>, Int) -> Void
    ) {
        guard let base = pixels.baseAddress else { return }
        let total = pixels.count / 3
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 3 * length) { planes in
            let r = planes.baseAddress!, g = r + length, b = g + length
            var start = 0
            while start < total {
                let n = min(length, total - start)
                let p = base + 3 * start
                var i = 0
                while i < n {
                    r[i] = p[3 &* i]
                    g[i] = p[3 &* i &+ 1]
                    b[i] = p[3 &* i &+ 2]
                    i &+= 1
                }
                body(r, g, b, n)
                start += n
            }
        }
    }

    /// How many of n pixels have luminance ×1000 (299 R + 587 G + 114 B) at or above `limit`.
    @inline(__always)
    static func countLuminance(
        _ r: UnsafePointer<UInt8>, _ g: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int, atLeast limit: Int32
    ) -> Int {
        // Int32 lanes (n ≤ length): a compare's all-ones mask is subtracted, four pixels a vector.
        var count: Int32 = 0
        var i = 0
        while i < n {
            let y = 299 &* Int32(r[i]) &+ 587 &* Int32(g[i]) &+ 114 &* Int32(b[i])
            count &+= y >= limit ? 1 : 0
            i &+= 1
        }
        return Int(count)
    }
}
