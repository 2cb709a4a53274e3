import TesseraCore

/// Which artefact checks the tiler runs on a tile that passed the background rule.
public struct QCChecks: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let pen = QCChecks(rawValue: 1)
    public static let blur = QCChecks(rawValue: 2)
    public static let none: QCChecks = []
    /// What `tessera-tile` runs unless told otherwise.
    public static let standard: QCChecks = [.pen, .blur]

    /// `pen,blur`, `pen`, `blur` or `none`: the option's and the job key's form.
    public var description: String {
        let names = [(QCChecks.pen, "pen"), (.blur, "blur")].filter { contains($0.0) }.map(\.1)
        return names.isEmpty ? "none" : names.joined(separator: ",")
    }

    /// Parses the form of `description`; nil for anything else.
    public init?(parsing text: String) {
        let words = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if words == ["none"] { self = .none; return }
        var checks: QCChecks = []
        for word in words {
            switch word {
            case "pen": checks.insert(.pen)
            case "blur": checks.insert(.blur)
            default: return nil
            }
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
}

/// The per-tile artefact checks: pen ink and blur. Pure functions of the tile's RGB pixels, so the
/// hook does not depend on how the pixels were read.
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
/// measure is below `blurMin` is dropped.
public struct ArtefactQC: Sendable, Equatable {
    public var checks: QCChecks
    public var penMax: Double
    public var blurMin: Double
    /// Luminance at or above which a pixel is glass (the background rule's), for the blur measure.
    public var backgroundThreshold: Double

    /// Defaults chosen on the realistic synthetic cohort and checked on the real slides (README, "Tile QC").
    public static let defaultPenMax = 0.05
    public static let defaultBlurMin = 20.0

    public init(checks: QCChecks = .standard, penMax: Double = defaultPenMax, blurMin: Double = defaultBlurMin,
                backgroundThreshold: Double = 220) {
        self.checks = checks
        self.penMax = penMax
        self.blurMin = blurMin
        self.backgroundThreshold = backgroundThreshold
    }

    /// A tile's measures (nil for a check that is off) and the verdict.
    public struct Verdict: Sendable, Equatable {
        public var inkFraction: Double?
        public var focus: Double?
        /// Why the tile is dropped (pen before blur), or nil when it is kept.
        public var dropped: TileDropReason?
    }

    public func evaluate(_ tile: RGBImage) -> Verdict {
        let ink = checks.contains(.pen) ? Self.inkFraction(tile) : nil
        let focus = checks.contains(.blur) ? Self.focusMeasure(tile, backgroundThreshold: backgroundThreshold) : nil
        let dropped: TileDropReason? = (ink ?? 0) > penMax ? .pen : (focus ?? .infinity) < blurMin ? .blur : nil
        return Verdict(inkFraction: ink, focus: focus, dropped: dropped)
    }

    /// Why the tile is dropped (pen before blur), or nil when it is kept.
    public func dropReason(_ tile: RGBImage) -> TileDropReason? { evaluate(tile).dropped }

    /// Whether one pixel is pen ink (blue, green or black).
    @inline(__always) public static func isInk(_ r: Int, _ g: Int, _ b: Int) -> Bool {
        if r < 200 && (g + 1) * 1000 > (r + 1) * 1284 { return true }
        let hi = max(r, g, b), lo = min(r, g, b)
        return hi < 60 && hi - lo < 25
    }

    /// Fraction of the tile's pixels that are ink.
    public static func inkFraction(_ image: RGBImage) -> Double {
        let n = image.width * image.height
        guard n > 0 else { return 0 }
        var count = 0
        image.pixels.withUnsafeBufferPointer { p in
            var i = 0
            while i < p.count {
                if isInk(Int(p[i]), Int(p[i + 1]), Int(p[i + 2])) { count += 1 }
                i += 3
            }
        }
        return Double(count) / Double(n)
    }

    /// The focus measure: 100 × the variance of the grey Laplacian over the variance of the grey
    /// level, both at the sampled tissue pixels (grey levels 0–255, the Laplacian truncated to whole
    /// levels). Infinite (never blurred) when fewer than 16 tissue pixels are sampled or the tile is
    /// flat: nothing to judge, the background rule decides.
    public static func focusMeasure(_ image: RGBImage, backgroundThreshold: Double = 220) -> Double {
        let w = image.width, h = image.height
        guard w >= 3 && h >= 3 else { return .infinity }
        let limit = Int((backgroundThreshold * 1000).rounded(.up))
        // Integer sums (grey ×1000, Laplacian in whole levels): exact, the same on every machine.
        var lapSum = 0, lapSquares = 0, greySum = 0, greySquares = 0, count = 0
        image.pixels.withUnsafeBufferPointer { p in
            @inline(__always) func grey(_ i: Int) -> Int { 299 * Int(p[i]) + 587 * Int(p[i + 1]) + 114 * Int(p[i + 2]) }
            var y = 1
            while y < h - 1 {
                var x = 1
                while x < w - 1 {
                    let i = (y * w + x) * 3
                    let centre = grey(i)
                    if centre < limit {
                        let lap = (4 * centre - grey(i - 3) - grey(i + 3) - grey(i - 3 * w) - grey(i + 3 * w)) / 1000
                        lapSum += lap
                        lapSquares += lap * lap
                        greySum += centre
                        greySquares += centre * centre
                        count += 1
                    }
                    x += 2
                }
                y += 2
            }
        }
        guard count >= 16 else { return .infinity }
        let n = Double(count)
        let lapVariance = Double(lapSquares) / n - (Double(lapSum) / n) * (Double(lapSum) / n)
        let greyVariance = (Double(greySquares) / n - (Double(greySum) / n) * (Double(greySum) / n)) / 1_000_000
        return greyVariance < 1e-9 ? .infinity : 100 * lapVariance / greyVariance
    }
}
