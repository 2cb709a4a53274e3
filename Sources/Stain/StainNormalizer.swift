import TesseraCore

/// Applies a `StainNormalization` to tiles and counts the tiles it left as they were (too little
/// tissue for a stable fit). One per thread: it owns scratch buffers.
public struct StainNormalizer {
    public let settings: StainNormalization
    private var reinhard: ReinhardNormalizer?
    private var macenko: MacenkoNormalizer?
    /// Tiles seen, and those left unnormalised (the identity fallback).
    public private(set) var tiles = 0
    public private(set) var fallbacks = 0

    public init(_ settings: StainNormalization) {
        self.settings = settings
        reinhard = settings.reinhard.map(ReinhardNormalizer.init)
        macenko = settings.macenko.map(MacenkoNormalizer.init)
    }

    /// Normalises `image` in place; false when it fell back to the identity.
    @discardableResult
    public mutating func normalize(_ image: inout RGBImage) -> Bool {
        tiles += 1
        let done = switch settings.method {
        case .reinhard: reinhard!.normalize(&image)
        case .macenko: macenko!.normalize(&image)
        }
        if !done { fallbacks += 1 }
        return done
    }

    /// The counts so far, and zero from here.
    public mutating func takeCounts() -> (tiles: Int, fallbacks: Int) {
        defer { (tiles, fallbacks) = (0, 0) }
        return (tiles, fallbacks)
    }
}

/// A reference fitted on many tiles (the training split): the mean of the per-tile L*a*b*
/// statistics (Reinhard) or of the per-tile stain vectors and maxima (Macenko), over the tiles
/// with enough tissue. The sums are a flat array so that MPI ranks can add theirs.
public struct StainReferenceFit {
    public let method: StainNormalization.Method
    /// [tiles, then 6 (Reinhard: means, stds) or 8 (Macenko: H, E, maxima) sums].
    public var sums: [Double]
    private var reinhard = ReinhardNormalizer(reference: .builtIn)
    private var macenko = MacenkoNormalizer(reference: .builtIn)

    public init(method: StainNormalization.Method) {
        self.method = method
        sums = [Double](repeating: 0, count: method == .reinhard ? 7 : 9)
    }

    public mutating func add(_ image: RGBImage) {
        switch method {
        case .reinhard:
            let s = reinhard.statistics(image)
            guard reinhard.matchable(s, pixels: image.width * image.height) else { return }
            for (k, v) in (s.mean + s.std).enumerated() { sums[1 + k] += Double(v) }
        case .macenko:
            guard let f = macenko.fit(image) else { return }
            for (k, v) in (f.haematoxylin + f.eosin + f.maxConcentrations).enumerated() { sums[1 + k] += Double(v) }
        }
        sums[0] += 1
    }

    /// The fitted normalisation, its reference named `from` and the tiles fitted (`train (N
    /// tiles)`, `slide NAME region X,Y,W,H (N tiles)`); nil when no tile had enough tissue.
    public func normalization(from name: String = "train") -> StainNormalization? {
        guard sums[0] > 0 else { return nil }
        let m = sums.dropFirst().map { Float($0 / sums[0]) }
        let source = "\(name) (\(Int(sums[0])) tiles)"
        switch method {
        case .reinhard:
            return StainNormalization(method: .reinhard, referenceSource: source,
                                      reinhard: ReinhardReference(mean: Array(m[0..<3]), std: Array(m[3..<6])))
        case .macenko:
            func unit(_ v: ArraySlice<Float>) -> [Float] { let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot(); return v.map { $0 / n } }
            return StainNormalization(method: .macenko, referenceSource: source,
                                      macenko: MacenkoReference(haematoxylin: unit(m[0..<3]), eosin: unit(m[3..<6]), maxConcentrations: Array(m[6..<8])))
        }
    }
}
