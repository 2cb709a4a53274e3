/// µm per level-0 pixel of a slide, and where that figure comes from — what a viewer such as QuPath
/// needs to put predictions back on the slide at the right scale (`slides.csv`'s `mpp`,
/// `mpp_source`).
public struct ScanResolution: Codable, Equatable, Sendable {
    public enum Source: String, Codable, Sendable, CaseIterable {
        /// The slide records it (`openslide.mpp-x/y`, their mean).
        case recorded
        /// From the objective power by the scanners' convention, 10 / power (40× = 0.25 µm).
        case magnification
        /// `--assume-mpp`, for a slide that records neither.
        case assumed
        /// From a tile store's slide table (µm per tile pixel ÷ level-0 pixels per tile pixel),
        /// when the slide file is not at hand: the store does not say how it was known.
        case store
    }

    public var mpp: Double
    public var source: Source

    public init(mpp: Double, source: Source) {
        self.mpp = mpp
        self.source = source
    }

    /// The slide's own figure first, then its objective power, then the assumption; nil when none.
    public init?(geometry g: SlideGeometry, assumeMPP: Double?) {
        if let mpp = g.mpp {
            self.init(mpp: mpp, source: .recorded)
        } else if let power = g.objectivePower, power > 0 {
            self.init(mpp: 10 / power, source: .magnification)
        } else if let assumeMPP {
            self.init(mpp: assumeMPP, source: .assumed)
        } else {
            return nil
        }
    }
}
