import TesseraCore

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
                split(base + 3 * start, n, into: r, g, b)
                body(r, g, b, n)
                start += n
            }
        }
    }

    /// Splits n interleaved pixels at `p` into the planes r, g and b.
    @inline(__always)
    static func split(
        _ p: UnsafePointer<UInt8>, _ n: Int,
        into r: UnsafeMutablePointer<UInt8>, _ g: UnsafeMutablePointer<UInt8>, _ b: UnsafeMutablePointer<UInt8>
    ) {
        // Four pixels a step: the loop's own counting and addressing cost as much as the copies.
        var i = 0, s = p
        while i &+ 4 <= n {
            (r[i], g[i], b[i]) = (s[0], s[1], s[2])
            (r[i &+ 1], g[i &+ 1], b[i &+ 1]) = (s[3], s[4], s[5])
            (r[i &+ 2], g[i &+ 2], b[i &+ 2]) = (s[6], s[7], s[8])
            (r[i &+ 3], g[i &+ 3], b[i &+ 3]) = (s[9], s[10], s[11])
            i &+= 4
            s += 12
        }
        while i < n {
            (r[i], g[i], b[i]) = (s[0], s[1], s[2])
            i &+= 1
            s += 3
        }
    }

    /// The sum of `count(r, g, b, n)` over the planes of `planes` a strip at a time (so a strip's
    /// count fits the Int32 lanes).
    @inline(__always)
    static func sum(
        _ planes: RGBPlanes,
        _ count: (UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>, Int) -> Int
    ) -> Int {
        let total = planes.count
        return planes.values.withUnsafeBufferPointer { v in
            guard let r = v.baseAddress else { return 0 }
            let g = r + total, b = g + total
            var sum = 0, start = 0
            while start < total {
                sum += count(r + start, g + start, b + start, min(length, total - start))
                start += length
            }
            return sum
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

    /// Luminance ×1000 (299 R + 587 G + 114 B) of n pixels into `out`.
    @inline(__always)
    static func greys(
        _ r: UnsafePointer<UInt8>, _ g: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int,
        into out: UnsafeMutablePointer<Int32>
    ) {
        var i = 0
        while i < n {
            out[i] = 299 &* Int32(r[i]) &+ 587 &* Int32(g[i]) &+ 114 &* Int32(b[i])
            i &+= 1
        }
    }

    /// How many of n pixels are ink (`ArtefactQC.isInk`): the same tests as arithmetic, no branch a pixel.
    @inline(__always)
    static func countInk(_ r: UnsafePointer<UInt8>, _ g: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Int {
        var count: Int32 = 0
        var i = 0
        while i < n {
            let r8 = r[i], g8 = g[i], b8 = b[i]
            let hi = max(r8, max(g8, b8)), lo = min(r8, min(g8, b8))
            let red = Int32(r8), green = Int32(g8)
            let coloured: Int32 = (red < 200 ? 1 : 0) & ((green &+ 1) &* 1000 > (red &+ 1) &* 1284 ? 1 : 0)
            let black: Int32 = (hi < 60 ? 1 : 0) & (hi &- lo < 25 ? 1 : 0)
            count &+= coloured | black
            i &+= 1
        }
        return Int(count)
    }
}

/// A tile's pixels split once into three planes (all R, then all G, then all B), for the tiler to
/// share between the background rule and the pen check: the split costs about as much as either
/// measure's arithmetic on the planes, so splitting once for both is what makes the planes pay.
public struct RGBPlanes: Sendable {
    /// Pixels.
    public let count: Int
    /// R of every pixel, then G, then B.
    let values: [UInt8]

    public init(_ image: RGBImage) {
        let n = image.width * image.height
        count = n
        values = [UInt8](unsafeUninitializedCapacity: 3 * n) { out, initialized in
            image.pixels.withUnsafeBufferPointer { p in
                guard n > 0, let base = p.baseAddress, let r = out.baseAddress else { return }
                PixelStrips.split(base, n, into: r, r + n, r + 2 * n)
            }
            initialized = 3 * n
        }
    }
}
