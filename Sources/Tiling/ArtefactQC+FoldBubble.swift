import Foundation
import TesseraCore

extension ArtefactQC {
    /// OD sum (−ln((R+1)/256) − ln((G+1)/256) − ln((B+1)/256)) above which a tissue pixel is doubly
    /// dark: one layer of H&E reaches it only in the darkest nuclei, two layers (a fold) in stroma too.
    public static let foldOpticalDensity = 2.5
    /// The same test in integers: OD sum > 2.5 ⟺ (R+1)(G+1)(B+1) < 256³·e^−2.5.
    static let foldProductLimit = Int((16_777_216 * 0.082_084_998_623_898_8).rounded())

    /// **Fold.** A folded section lies over itself: two layers of tissue, so every stain's optical
    /// density about doubles. The measure is the share of the tile's tissue pixels (luminance below
    /// the background threshold) whose OD summed over the channels exceeds 2.5 (mean transmission
    /// below 43 %): in one layer only nuclei at full haematoxylin get there (a few percent of the
    /// tissue, at most ~10 % in dense tumour), in a fold the stroma does too. 0 when the tile has no
    /// tissue pixels. A tile whose share exceeds `foldMax` is dropped.
    public static func foldFraction(_ image: RGBImage, backgroundThreshold: Double = 220) -> Double {
        let limit = Int((backgroundThreshold * 1000).rounded(.up))
        let product = foldProductLimit
        var tissue = 0, dark = 0
        image.pixels.withUnsafeBufferPointer { p in
            var i = 0
            while i < p.count {
                let r = Int(p[i]), g = Int(p[i + 1]), b = Int(p[i + 2])
                if 299 * r + 587 * g + 114 * b < limit {
                    tissue += 1
                    if (r + 1) * (g + 1) * (b + 1) < product { dark += 1 }
                }
                i += 3
            }
        }
        return tissue > 0 ? Double(dark) / Double(tissue) : 0
    }

    /// **Bubble.** Where an air bubble meets the mountant, refraction casts a dark rim: a band about
    /// as wide as `rimReach` that dims whatever lies under it (glass or tissue) by the same factor in
    /// every channel, a long curved line. The measure is the length, in pixels, of the longest
    /// connected stretch of rim (the larger side of its bounding box); a tile whose rim length
    /// exceeds `bubbleMax` is dropped. A pixel is rim when, along a row or a column, it is darker
    /// than both pixels `rimReach` away by at least `rimRise` in every channel's optical density and
    /// the rise is neutral (the smallest channel's at least 0.6 of the largest's). Why relative and
    /// neutral, and why long: a rule on the pixel's own colour (neutral mid grey) takes the near-grey
    /// haematoxylin of real H&E for rim; a nucleus or fibre is darker than its surroundings too, but
    /// with the stain's hue (haematoxylin adds less blue OD, eosin less red and blue) and, when a
    /// stain is near neutral, as a spot or short segment, not a line across the tile (README, "Tile QC").
    public static func rimLength(_ image: RGBImage) -> Double { Double(longestRun(rimMask(image), width: image.width, height: image.height)) }

    /// Pixels (tile pixels) between a rim pixel and the neighbours it is compared with: a band up to
    /// twice as wide is found.
    public static let rimReach = 12
    /// Smallest rise in every channel's OD (×1000) over both neighbours for a rim pixel: 0.4, half a
    /// rim's (transmission ~0.45, OD +0.8).
    static let rimRise: Int32 = 400
    /// OD ×1000 of each 8-bit level: −ln((I + 1)/256).
    static let odTable: [Int32] = (0..<256).map { Int32((-1000 * log(Double($0 + 1) / 256)).rounded()) }

    /// Whether each pixel is rim (see `rimLength`); false within `rimReach` of the border.
    public static func rimMask(_ image: RGBImage) -> [Bool] {
        let w = image.width, h = image.height, d = rimReach
        var mask = [Bool](repeating: false, count: w * h)
        guard w > 2 * d && h > 2 * d else { return mask }
        odTable.withUnsafeBufferPointer { od in image.pixels.withUnsafeBufferPointer { p in
            mask.withUnsafeMutableBufferPointer { m in
                /// Whether pixel i is rim against pixels i − step and i + step (indices in pixels).
                @inline(__always) func darker(_ i: Int, _ step: Int) -> Bool {
                    var lo = Int32.max, hi = Int32.min
                    for c in 0..<3 {
                        let a = od[Int(p[3 &* (i &- step) &+ c])], b = od[Int(p[3 &* (i &+ step) &+ c])]
                        let rise = od[Int(p[3 &* i &+ c])] &- max(a, b)
                        // Most pixels fail on the first channel: no band there.
                        if rise < rimRise { return false }
                        lo = min(lo, rise)
                        hi = max(hi, rise)
                    }
                    return 10 &* lo >= 6 &* hi
                }
                for y in d..<(h - d) {
                    var i = y &* w &+ d
                    for _ in d..<(w - d) {
                        m[i] = darker(i, d) || darker(i, d &* w)
                        i &+= 1
                    }
                }
            }
        } }
        return mask
    }

    /// The larger side of the bounding box of the largest (by that side) 8-connected set of true
    /// pixels; 0 when there is none.
    public static func longestRun(_ mask: [Bool], width w: Int, height h: Int) -> Int {
        var seen = mask.map { !$0 }
        var stack: [Int] = []
        var longest = 0
        for start in seen.indices where !seen[start] {
            seen[start] = true
            stack.append(start)
            var x0 = start % w, x1 = x0, y0 = start / w, y1 = y0
            while let i = stack.popLast() {
                let x = i % w, y = i / w
                x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
                for ny in max(0, y - 1)...min(h - 1, y + 1) {
                    for nx in max(0, x - 1)...min(w - 1, x + 1) where !seen[ny * w + nx] {
                        seen[ny * w + nx] = true
                        stack.append(ny * w + nx)
                    }
                }
            }
            longest = max(longest, x1 - x0 + 1, y1 - y0 + 1)
        }
        return longest
    }
}
