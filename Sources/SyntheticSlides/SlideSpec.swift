/// Everything that determines one synthetic slide: its identity, class, size, scan and seed.
/// The slide's pixels are a pure function of this value and the pixel coordinates.
public struct SlideSpec: Codable, Equatable, Sendable {
    /// TCGA-style slide barcode, e.g. `TCGA-SY-0001-01A-01-TS1`.
    public var slideID: String
    /// TCGA-style patient barcode, e.g. `TCGA-SY-0001`.
    public var patientID: String
    public var tissueClass: TissueClass
    public var seed: UInt64
    /// Level-0 size in pixels.
    public var width: Int
    public var height: Int
    public var scan: ScanProfile
    /// The realistic profile's site, stain, purity and artefacts; nil for the clean look.
    public var realism: SlideRealism?

    public init(slideID: String, patientID: String, tissueClass: TissueClass, seed: UInt64,
                width: Int, height: Int, scan: ScanProfile, realism: SlideRealism? = nil) {
        precondition(width > 0 && height > 0, "slide size must be positive, got \(width)×\(height)")
        self.slideID = slideID
        self.patientID = patientID
        self.tissueClass = tissueClass
        self.seed = seed
        self.width = width
        self.height = height
        self.scan = scan
        self.realism = realism
    }

    /// The slide's file name in a cohort (`.svs`: OpenSlide detects Aperio from the content and
    /// the description, and `.svs` is what TCGA ships).
    public var fileName: String { "\(slideID).svs" }
}
