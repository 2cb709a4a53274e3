/// The realistic profile's part of one slide's spec: its site, stain, purity and how much it
/// suffers from artefacts. nil in a clean slide.
public struct SlideRealism: Codable, Equatable, Sendable {
    public var site: String
    public var stain: SiteStain
    /// Target fraction of the tissue that is tumour (0 for normal slides).
    public var purity: Double
    public var solidShare: Double
    public var artefactRate: Double
    public var jpegQuality: Int
    public var heldOut: Bool

    enum CodingKeys: String, CodingKey {
        case site, stain, purity, solidShare = "solid_share", artefactRate = "artefact_rate", jpegQuality = "jpeg_quality"
        case heldOut = "held_out"
    }
}
