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

    /// **Bubble.** Where an air bubble meets the mountant, refraction casts a dark rim that takes no
    /// stain: a neutral grey (the channels within 25 of each other) of middle brightness (brightest
    /// channel 60–159). Stained tissue keeps its hue (haematoxylin and eosin absorb unequally), glass is
    /// brighter, black ink (below 60) is the pen check's. The measure is the share of the tile's
    /// pixels that are rim grey; a bubble's pale, flat interior is what the rim encloses. A tile whose
    /// share exceeds `bubbleMax` is dropped.
    public static func rimFraction(_ image: RGBImage) -> Double { pixelFraction(image, where: isRimGrey) }

    /// Whether one pixel is a bubble rim's neutral mid grey.
    @inline(__always) public static func isRimGrey(_ r: Int, _ g: Int, _ b: Int) -> Bool {
        let hi = max(r, g, b), lo = min(r, g, b)
        return hi >= 60 && hi < 160 && hi - lo < 25
    }
}
