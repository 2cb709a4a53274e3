import Foundation
import TesseraCore

extension ArtefactQC {
    /// Side (tile pixels) of the blocks a tile is judged by: 32 µm at 20×, a few cells across.
    public static let foldBlock = 64
    /// How many times the slide's typical OD sum a block's must exceed to count as doubly dark.
    public static let foldRatio = 1.6
    /// Share of its pixels that must be tissue (luminance below the background threshold) for a
    /// block to be judged.
    static let foldBlockTissue = 0.9

    /// **Fold.** A folded section lies over itself: two layers of tissue, so every stain's optical
    /// density about doubles, the lightest parts included. Real H&E differs in darkness from site to
    /// site more than one layer differs from two (the CMU slide's one-layer tissue is darker than
    /// the synthetic cohort's folds), so the test is relative to the slide: `reference` is the
    /// median OD sum of the slide's tissue blocks on its thumbnail (`foldReference`, read before
    /// any tile is cut); the measure is the share of the tile's tissue blocks (`foldBlock`² pixels,
    /// at least 90 % tissue) whose mean colour's OD sum exceeds `foldRatio` × the reference. Blocks,
    /// not pixels: a block's mean is what a thumbnail pixel is, and dark nuclei alone do not make a
    /// block doubly dark. 0 when the tile has no tissue block. A tile whose share exceeds `foldMax`
    /// is dropped.
    public static func foldShare(_ image: RGBImage, reference: Double, backgroundThreshold: Double = 220) -> Double {
        let blocks = blockDensities(image, side: foldBlock, backgroundThreshold: backgroundThreshold)
        guard !blocks.isEmpty else { return 0 }
        let limit = foldRatio * reference
        return Double(blocks.filter { $0 > limit }.count) / Double(blocks.count)
    }

    /// The slide's typical one-layer OD sum, from its thumbnail: the median OD sum of the mean
    /// colours of its tissue blocks of `side`² thumbnail pixels (the thumbnail's size of a tile's
    /// `foldBlock`). Folds are a small part of a slide, so the median is one layer's. nil when the
    /// thumbnail has no tissue block.
    public static func foldReference(thumbnail: RGBImage, side: Int, backgroundThreshold: Double = 220) -> Double? {
        let blocks = blockDensities(thumbnail, side: max(1, side), backgroundThreshold: backgroundThreshold).sorted()
        guard !blocks.isEmpty else { return nil }
        let n = blocks.count
        return n % 2 == 1 ? blocks[n / 2] : (blocks[n / 2 - 1] + blocks[n / 2]) / 2
    }

    /// OD sum (−ln((R̄+1)/256) − ln((Ḡ+1)/256) − ln((B̄+1)/256)) of the mean colour of each whole
    /// `side`² block whose pixels are at least 90 % tissue, in row order.
    public static func blockDensities(_ image: RGBImage, side: Int, backgroundThreshold: Double = 220) -> [Double] {
        let w = image.width, h = image.height
        guard side > 0 && w >= side && h >= side else { return [] }
        let limit = Int((backgroundThreshold * 1000).rounded(.up))
        let columns = w / side, rows = h / side
        let n = Double(side * side)
        var out: [Double] = []
        var sums = [(r: Int, g: Int, b: Int, tissue: Int)](repeating: (0, 0, 0, 0), count: columns)
        image.pixels.withUnsafeBufferPointer { p in sums.withUnsafeMutableBufferPointer { sums in
            for by in 0..<rows {
                for k in sums.indices { sums[k] = (0, 0, 0, 0) }
                for y in (by * side)..<((by + 1) * side) {
                    var i = y &* w &* 3
                    for bx in 0..<columns {
                        var (sr, sg, sb, st) = sums[bx]
                        for _ in 0..<side {
                            let r = Int(p[i]), g = Int(p[i &+ 1]), b = Int(p[i &+ 2])
                            sr &+= r; sg &+= g; sb &+= b
                            st &+= 299 &* r &+ 587 &* g &+ 114 &* b < limit ? 1 : 0
                            i &+= 3
                        }
                        sums[bx] = (sr, sg, sb, st)
                    }
                }
                for s in sums where Double(s.tissue) >= foldBlockTissue * n {
                    out.append(-log((Double(s.r) / n + 1) / 256) - log((Double(s.g) / n + 1) / 256) - log((Double(s.b) / n + 1) / 256))
                }
            }
        } }
        return out
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
                // The red channel's OD once per pixel: most pixels already fail its rise in both
                // directions, which a plain loop over that plane tests without table lookups (and
                // vectorised); only the rest get the three-channel test, which starts with red.
                var red = [Int32](repeating: 0, count: w &* h)
                var flags = [UInt8](repeating: 0, count: w)
                red.withUnsafeMutableBufferPointer { r in flags.withUnsafeMutableBufferPointer { f in
                    for i in 0..<(w &* h) { r[i] = od[Int(p[3 &* i])] }
                    let (r, f, rise, up) = (r.baseAddress!, f.baseAddress!, rimRise, d &* w)
                    for y in d..<(h - d) {
                        let row = r + y &* w
                        for x in d..<(w - d) {
                            let c = row[x]
                            let across = c &- max(row[x &- d], row[x &+ d]), along = c &- max(row[x &- up], row[x &+ up])
                            f[x] = (across >= rise ? 1 : 0) | (along >= rise ? 2 : 0)
                        }
                        let o = y &* w
                        for x in d..<(w - d) where f[x] != 0 {
                            m[o &+ x] = (f[x] & 1 != 0 && darker(o &+ x, d)) || (f[x] & 2 != 0 && darker(o &+ x, up))
                        }
                    }
                } }
            }
        } }
        return mask
    }

    /// The larger side of the bounding box of the largest (by that side) 8-connected set of true
    /// pixels; 0 when there is none.
    public static func longestRun(_ mask: consuming [Bool], width w: Int, height h: Int) -> Int {
        var open = mask  // true: set and not yet visited (the caller's mask is not copied: consumed)
        var stack: [Int] = []
        var longest = 0
        open.withUnsafeMutableBufferPointer { m in
            for start in m.indices where m[start] {
                m[start] = false
                stack.append(start)
                var x0 = start % w, x1 = x0, y0 = start / w, y1 = y0
                while let i = stack.popLast() {
                    let x = i % w, y = i / w
                    x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
                    for ny in max(0, y - 1)...min(h - 1, y + 1) {
                        for nx in max(0, x - 1)...min(w - 1, x + 1) where m[ny &* w &+ nx] {
                            m[ny &* w &+ nx] = false
                            stack.append(ny &* w &+ nx)
                        }
                    }
                }
                longest = max(longest, x1 - x0 + 1, y1 - y0 + 1)
            }
        }
        return longest
    }
}
