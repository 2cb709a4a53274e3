/// What a ground-truth region of a realistic slide is: a tissue kind (one per point of tissue, the
/// last region drawn wins) or an artefact laid over tissue and glass alike.
///
/// The raw values are the `kind` property of the truth GeoJSON.
public enum RegionKind: String, CaseIterable, Codable, Sendable {
    // Tissue, painted in this order over normal lung.
    case normal
    case stroma
    case blood
    case lymphocytes
    case cartilage
    case pigment
    case tumourLUAD = "tumour_luad"
    case tumourLUSC = "tumour_lusc"
    /// Poorly differentiated tumour: solid sheets that look the same in LUAD and LUSC.
    case tumourSolid = "tumour_solid"
    case necrosis
    case mucin
    // Artefacts.
    case pen
    case blur
    case fold
    case bubble
    case dust
    /// The outline of the tissue itself (row runs of the tissue mask), so that tools can tell
    /// tissue from glass without rendering.
    case tissue

    /// Tumour cells (what purity counts).
    public var isTumour: Bool { self == .tumourLUAD || self == .tumourLUSC || self == .tumourSolid }

    /// Overlaid on the slide rather than a kind of tissue.
    public var isArtefact: Bool {
        switch self {
        case .pen, .blur, .fold, .bubble, .dust: return true
        default: return false
        }
    }

    /// The byte stored in a `RegionRaster` (0 is "nothing": normal lung or no artefact).
    var code: UInt8 { UInt8(Self.allCases.firstIndex(of: self)!) }
    static let byCode: [RegionKind] = allCases
}
