/// The three slide-level classes of the synthetic lung cohort, with their manifest labels.
public enum TissueClass: String, CaseIterable, Codable, Sendable {
    /// Lung adenocarcinoma: glands — rings of nuclei around pale lumens — in fibrous stroma.
    case luad = "LUAD"
    /// Lung squamous cell carcinoma: dense sheets of large nuclei with pink keratin whorls.
    case lusc = "LUSC"
    /// Normal lung: thin septa with sparse small nuclei around large, pale alveolar spaces.
    case normal = "normal"

    /// The label as written in `manifest.csv`.
    public var label: String { rawValue }

    /// Whether the slide is tumour (TCGA sample type 01) rather than normal tissue (type 11).
    public var isTumour: Bool { self != .normal }
}
