import TesseraCore

/// Which artefact checks the tiler runs on a tile that passed the background rule.
public struct QCChecks: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let pen = QCChecks(rawValue: 1)
    public static let blur = QCChecks(rawValue: 2)
    public static let fold = QCChecks(rawValue: 4)
    public static let bubble = QCChecks(rawValue: 8)
    public static let none: QCChecks = []
    /// What `tessera-tile` runs unless told otherwise. Fold is opt-in: even relative to the slide it
    /// drops a few percent of clean tissue on a synthetic cohort and of the real slides' tissue at
    /// 256 px (README, "Tile QC").
    public static let standard: QCChecks = [.pen, .blur, .bubble]
    public static let all: QCChecks = [.pen, .blur, .fold, .bubble]
    /// The name of the strict set (`--qc strict`): every check and the block blur rule; see `ArtefactQC.resolve`.
    public static let strictName = "strict"
    /// Each check and its name, in the order of `description`.
    static let named: [(QCChecks, String)] = [(.pen, "pen"), (.blur, "blur"), (.fold, "fold"), (.bubble, "bubble")]

    /// The checks' names joined by commas (`pen,blur,fold,bubble`), or `none`: the option's and the job key's form.
    public var description: String {
        let names = Self.named.filter { contains($0.0) }.map(\.1)
        return names.isEmpty ? "none" : names.joined(separator: ",")
    }

    /// Parses the form of `description`; nil for anything else.
    public init?(parsing text: String) {
        let words = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if words == ["none"] { self = .none; return }
        var checks: QCChecks = []
        for word in words {
            guard let check = Self.named.first(where: { $0.1 == word }) else { return nil }
            checks.insert(check.0)
        }
        guard !words.isEmpty else { return nil }
        self = checks
    }
}

/// Why a grid position gave no tile. The raw values name the store's count columns
/// (`tiles_dropped_<reason>`) and the QC table's `decision` column.
public enum TileDropReason: String, CaseIterable, Sendable, Codable {
    /// Never read: the low-resolution tissue mask showed only glass there.
    case mask
    /// Read, but more than the largest background fraction is glass.
    case background
    /// More than the largest ink fraction is pen.
    case pen
    /// Out of focus: the focus measure is below its threshold.
    case blur
    /// A tissue fold: more than the largest share of the tissue is doubly dark.
    case fold
    /// An air bubble: more than the largest share of the tile is a bubble's grey rim.
    case bubble
}

/// The per-tile artefact checks: pen ink, blur, folds and air bubbles. Pure functions of the tile's
/// RGB pixels, so the hook does not depend on how the pixels were read.
///
/// **Pen.** A pixel is ink when, in optical density (OD = −ln(I / 255)), it absorbs more red than
/// green: haematoxylin (OD ≈ 0.65, 0.70, 0.29) and eosin (0.07, 0.99, 0.11) both absorb green
/// most, while blue and green inks (and their mixtures with tissue, since OD adds) absorb red
/// most. In integers: `(G + 1) · 1000 > (R + 1) · 1284` (OD_R − OD_G > 0.25: bluish haematoxylin,
/// as on the CMU slide, reaches 0.1) on a pixel that is not glass (R < 200). Ink laid over
/// eosin-rich tissue is not separable this way (OD adds: the sum absorbs green as much as red) and
/// is left alone; pen lines drawn on the glass around tissue, the usual case, are found. Black ink is a pixel dark and grey in every channel (max < 60, max − min < 25),
/// darker than stained nuclei, which keep their blue. A tile is dropped when its ink fraction
/// exceeds `penMax`.
///
/// **Blur.** The variance of the 4-neighbour Laplacian of the grey tile (luminance, BT.601) relative
/// to the variance of the grey level itself, taken on every second pixel of every second row (a
/// quarter of the work, the same measure up to sampling) and only at tissue pixels (luminance below
/// the background threshold), so glass does not dilute it. Blur removes fine detail (the Laplacian)
/// but keeps contrast (the grey variance); the ratio makes the measure independent of how strongly
/// a tissue is stained (the raw Laplacian variance of clean tissue spans 30–1600 on the realistic
/// cohort and overlaps blurred tissue; the ratio separates them, README "Tile QC"). A tile whose
/// measure is below `blurMin` is dropped. The same sums per 128² block (`focusBlock`) give each
/// block's measure: a tile whose lowest block measure (over blocks at least half tissue) is below
/// `blurBlockMin` (0, off, by default) is dropped too, since a blurred patch over part of a tile is diluted by the sharp
/// rest in the whole-tile figure but not in the blocks it covers.
///
/// **Fold** and **bubble**: see `foldShare` and `rimLength` (ArtefactQC+FoldBubble.swift).
public struct ArtefactQC: Sendable, Equatable {
    public var checks: QCChecks
    public var penMax: Double
    public var blurMin: Double
    /// The lowest block focus measure kept; 0 (the default) turns the block rule off.
    public var blurBlockMin: Double
    public var foldMax: Double
    public var bubbleMax: Double
    /// Luminance at or above which a pixel is glass (the background rule's), for the blur and fold measures.
    public var backgroundThreshold: Double
    /// The slide's typical OD sum for the fold check (`foldReference(thumbnail:side:)`), set per
    /// slide by the tiler; without it the fold check measures nothing and keeps the tile.
    public var foldReference: Double?

    /// Defaults chosen on the realistic synthetic cohort and checked on the real slides (README, "Tile QC").
    public static let defaultPenMax = 0.05
    public static let defaultBlurMin = 20.0
    /// The block rule is off by default: on the real TCGA frozen slide it drops tissue not known to be
    /// blurred (README, "Tile QC"). `suggestedBlurBlockMin` is the threshold chosen on the synthetic cohort.
    public static let defaultBlurBlockMin = 0.0
    public static let suggestedBlurBlockMin = 9.0
    /// Side (pixels) of the blocks of the block focus measure.
    public static let focusBlock = 128
    /// Share of a tile's tissue blocks (on the calibration cohort, the smallest keeping ≤ 2 % of clean tissue lost).
    public static let defaultFoldMax = 0.15
    /// Rim length in pixels: on the calibration cohort's 512-px tiles, bubbles' 488, clean tissue's at most 18.
    public static let defaultBubbleMax = 100.0

    /// The checks and block blur minimum that `--qc TEXT` with `--blur-block-min BLOCK` mean: TEXT is
    /// checks (`pen,blur,…`), `none`, or `strict` — every check, with the block rule at BLOCK, or at
    /// `suggestedBlurBlockMin` when BLOCK is 0 (off). Strict is the set that removes ≥ 80 % of the
    /// benchmark cohort's artefact tiles for ≤ 2 % of its clean tissue; it is not the default because
    /// its fold and block rules drop real tissue not known to be folded or blurred (README, "Tile QC").
    /// Resolved before the store's tiling record is written, so a store records the checks and the
    /// minimum, never the name. nil for any other TEXT.
    public static func resolve(_ text: String, blurBlockMin: Double) -> (checks: QCChecks, blurBlockMin: Double)? {
        if text.trimmingCharacters(in: .whitespaces).lowercased() == QCChecks.strictName {
            return (.all, blurBlockMin > 0 ? blurBlockMin : suggestedBlurBlockMin)
        }
        return QCChecks(parsing: text).map { ($0, blurBlockMin) }
    }

    public init(checks: QCChecks = .standard, penMax: Double = defaultPenMax, blurMin: Double = defaultBlurMin,
                foldMax: Double = defaultFoldMax, bubbleMax: Double = defaultBubbleMax, backgroundThreshold: Double = 220,
                blurBlockMin: Double = defaultBlurBlockMin, foldReference: Double? = nil) {
        self.checks = checks
        self.penMax = penMax
        self.blurMin = blurMin
        self.blurBlockMin = blurBlockMin
        self.foldMax = foldMax
        self.bubbleMax = bubbleMax
        self.backgroundThreshold = backgroundThreshold
        self.foldReference = foldReference
    }

    /// A tile's measures (nil for a check that is off) and the verdict.
    public struct Verdict: Sendable, Equatable {
        public var inkFraction: Double?
        public var focus: Double?
        /// The lowest focus measure of the tile's 128² blocks that are at least half tissue (infinite when none is).
        public var blockFocus: Double?
        /// Share of the tissue blocks that are doubly dark for the slide.
        public var foldShare: Double?
        /// The longest bubble rim, in pixels.
        public var rimLength: Double?
        /// Why the tile is dropped (pen, then blur, fold, bubble), or nil when it is kept.
        public var dropped: TileDropReason?
    }

    /// With `planes` (the tile's, split for the background rule) the ink fraction is counted on them.
    public func evaluate(_ tile: RGBImage, planes: RGBPlanes? = nil) -> Verdict {
        var v = Verdict()
        if checks.contains(.pen) { v.inkFraction = planes.map(Self.inkFraction) ?? Self.inkFraction(tile) }
        if checks.contains(.blur) {
            (v.focus, v.blockFocus) = Self.focusMeasures(tile, backgroundThreshold: backgroundThreshold, planes: planes)
        }
        if checks.contains(.fold), let reference = foldReference {
            v.foldShare = Self.foldShare(tile, reference: reference, backgroundThreshold: backgroundThreshold)
        }
        if checks.contains(.bubble) { v.rimLength = Self.rimLength(tile) }
        if (v.inkFraction ?? 0) > penMax {
            v.dropped = .pen
        } else if (v.focus ?? .infinity) < blurMin || (v.blockFocus ?? .infinity) < blurBlockMin {
            v.dropped = .blur
        } else if (v.foldShare ?? 0) > foldMax {
            v.dropped = .fold
        } else if (v.rimLength ?? 0) > bubbleMax {
            v.dropped = .bubble
        }
        return v
    }

    /// Why the tile is dropped (pen, then blur, fold, bubble), or nil when it is kept.
    public func dropReason(_ tile: RGBImage) -> TileDropReason? { evaluate(tile).dropped }

    /// Whether one pixel is pen ink (blue, green or black).
    @inline(__always) public static func isInk(_ r: Int, _ g: Int, _ b: Int) -> Bool {
        if r < 200 && (g + 1) * 1000 > (r + 1) * 1284 { return true }
        let hi = max(r, g, b), lo = min(r, g, b)
        return hi < 60 && hi - lo < 25
    }

    /// Fraction of the tile's pixels that are ink.
    public static func inkFraction(_ image: RGBImage) -> Double { pixelFraction(image, where: isInk) }

    /// Fraction of the pixels of the tile split into `planes` that are ink: the same as of the tile.
    public static func inkFraction(_ planes: RGBPlanes) -> Double {
        planes.count == 0 ? 0 : Double(PixelStrips.sum(planes, PixelStrips.countInk)) / Double(planes.count)
    }

    /// Fraction of the tile's pixels for which `test(r, g, b)` holds.
    @inline(__always) static func pixelFraction(_ image: RGBImage, where test: (Int, Int, Int) -> Bool) -> Double {
        let n = image.width * image.height
        guard n > 0 else { return 0 }
        var count = 0
        image.pixels.withUnsafeBufferPointer { p in
            var i = 0
            while i < p.count {
                if test(Int(p[i]), Int(p[i + 1]), Int(p[i + 2])) { count += 1 }
                i += 3
            }
        }
        return Double(count) / Double(n)
    }

    /// The focus measure: 100 × the variance of the grey Laplacian over the variance of the grey
    /// level, both at the sampled tissue pixels (grey levels 0–255, the Laplacian truncated to whole
    /// levels). Infinite (never blurred) when fewer than 16 tissue pixels are sampled or the tile is
    /// flat: nothing to judge, the background rule decides. With `planes` (the tile's) the grey rows
    /// are computed on them, whole rows at a time (vectorised), the same values.
    public static func focusMeasure(_ image: RGBImage, backgroundThreshold: Double = 220, planes: RGBPlanes? = nil) -> Double {
        focusMeasures(image, backgroundThreshold: backgroundThreshold, planes: planes).tile
    }

    /// The focus measure of the tile and the lowest of its `focusBlock`² blocks' (the same measure on
    /// the samples in each block, blocks from the tile's top left corner) over the blocks where at
    /// least half of a whole block's samples ((focusBlock / 2)² / 2) are tissue; infinite when none is.
    public static func focusMeasures(_ image: RGBImage, backgroundThreshold: Double = 220, planes: RGBPlanes? = nil)
        -> (tile: Double, lowestBlock: Double) {
        let w = image.width, h = image.height
        guard w >= 3 && h >= 3 else { return (.infinity, .infinity) }
        let limit = Int32((backgroundThreshold * 1000).rounded(.up))
        // Integer sums (grey ×1000, Laplacian in whole levels): exact, the same on every machine.
        // Summed per block (a row of blocks at a time) and the blocks' sums summed for the tile.
        let side = focusBlock, columns = (w + side - 1) / side
        var tile = FocusSums(), lowest = Double.infinity
        var blocks = [FocusSums](repeating: FocusSums(), count: columns)
        let judged = side / 2 * (side / 2) / 2
        func closeBlockRow() {
            for i in blocks.indices {
                tile.add(blocks[i])
                if blocks[i].count >= judged { lowest = min(lowest, blocks[i].focus) }
                blocks[i] = FocusSums()
            }
        }
        // Grey levels of the sampled row at every pixel, and of the rows above and below it at the
        // sampled columns: each grey computed once (a sample's own five took 2.5 per pixel).
        var row = [Int32](repeating: 0, count: w), above = row, below = row
        let split = planes?.values ?? []
        image.pixels.withUnsafeBufferPointer { p in split.withUnsafeBufferPointer { q in
            /// Grey ×1000 of row `y` at columns first, first + step, … below w into `g` (and at the
            /// others too when there are planes).
            func greys(_ y: Int, from first: Int, step: Int, into g: UnsafeMutableBufferPointer<Int32>) {
                // An empty array's buffer may have a base address: test for the planes themselves.
                if planes != nil, let r = q.baseAddress {
                    let n = w &* h, o = y &* w
                    PixelStrips.greys(r + o, r + n + o, r + 2 &* n + o, w, into: g.baseAddress!)
                    return
                }
                var x = first, i = (y &* w &+ first) &* 3
                while x < w {
                    g[x] = 299 &* Int32(p[i]) &+ 587 &* Int32(p[i &+ 1]) &+ 114 &* Int32(p[i &+ 2])
                    x &+= step
                    i &+= 3 &* step
                }
            }
            row.withUnsafeMutableBufferPointer { r in
                above.withUnsafeMutableBufferPointer { a in
                    below.withUnsafeMutableBufferPointer { b in
                        var (a, b) = (a, b)
                        greys(0, from: 1, step: 2, into: a)
                        var y = 1
                        while y < h - 1 {
                            if y / side != (y - 2) / side { closeBlockRow() }
                            greys(y, from: 0, step: 1, into: r)
                            greys(y + 1, from: 1, step: 2, into: b)
                            // Block by block along the row: the block's sums in locals, stored once.
                            for column in 0..<columns {
                                var lapSum = 0, lapSquares = 0, greySum = 0, greySquares = 0, count = 0
                                var x = column * side + 1
                                let end = min(w - 1, (column + 1) * side)
                                while x < end {
                                    let centre = r[x]
                                    if centre < limit {
                                        let sides: Int32 = r[x &- 1] &+ r[x &+ 1] &+ a[x] &+ b[x]
                                        let lap = Int((4 &* centre &- sides) / 1000)
                                        let c = Int(centre)
                                        lapSum &+= lap
                                        lapSquares &+= lap &* lap
                                        greySum &+= c
                                        greySquares &+= c &* c
                                        count &+= 1
                                    }
                                    x &+= 2
                                }
                                blocks[column].add(FocusSums(lapSum: lapSum, lapSquares: lapSquares, greySum: greySum,
                                                             greySquares: greySquares, count: count))
                            }
                            swap(&a, &b)
                            y += 2
                        }
                        closeBlockRow()
                    }
                }
            }
        } }
        return (tile.focus, lowest)
    }
}

/// The integer sums of the focus measure over a set of samples.
struct FocusSums {
    var lapSum = 0, lapSquares = 0, greySum = 0, greySquares = 0, count = 0

    mutating func add(_ o: FocusSums) {
        lapSum &+= o.lapSum
        lapSquares &+= o.lapSquares
        greySum &+= o.greySum
        greySquares &+= o.greySquares
        count &+= o.count
    }

    /// 100 × Laplacian variance / grey variance; infinite under 16 samples or on a flat grey.
    var focus: Double {
        guard count >= 16 else { return .infinity }
        let n = Double(count)
        let lapVariance = Double(lapSquares) / n - (Double(lapSum) / n) * (Double(lapSum) / n)
        let greyVariance = (Double(greySquares) / n - (Double(greySum) / n) * (Double(greySum) / n)) / 1_000_000
        return greyVariance < 1e-9 ? .infinity : 100 * lapVariance / greyVariance
    }
}
