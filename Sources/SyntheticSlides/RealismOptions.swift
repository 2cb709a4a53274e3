/// The knobs of the realistic profile (`tessera-synth --profile realistic`), each with the default
/// documented beside it. Every draw they drive comes from the cohort's seed.
public struct RealismOptions: Codable, Equatable, Sendable {
    /// Tumour purity — the fraction of a tumour slide's tissue that is tumour — is drawn per slide
    /// from [purityMin, purityMax] with median `purityMedian` (defaults 0.05, 0.70, 0.30).
    public var purityMin = 0.05
    public var purityMax = 0.70
    public var purityMedian = 0.30
    /// The share of tumour regions that are poorly differentiated solid sheets, alike in LUAD and
    /// LUSC (default 0.35). A tumour slide's first region is always typical of its type.
    public var solidShare = 0.35
    /// Scales the expected number of artefacts per slide (pen marks, blur, folds, bubbles, dust);
    /// 0 gives none, 1 (default) about five per slide.
    public var artefactRate = 1.0
    /// Tissue source sites, each with its own stain, scanner, JPEG quality and MPP recording
    /// (default 6, at most `TissueSourceSite.codes.count`).
    public var sites = 6
    /// The last `heldOutSites` sites go to a separate manifest (`manifest-heldout.csv`) for a
    /// site-held-out test (default 2; 0 for none).
    public var heldOutSites = 2
    /// How unevenly sites contribute classes: 0 spreads every class evenly over the sites, 1 sends
    /// each class mostly to its favoured sites (default 0.9: at 0.6 the benchmark's site-held-out
    /// figures were no lower than the site-mixed ones; at 0.9 they are, as on TCGA).
    public var siteBias = 0.9

    public init() {}

    /// A problem with the knobs, naming the option, or nil.
    public var problem: String? {
        if !(0...1).contains(purityMin) || !(0...1).contains(purityMax) || purityMin > purityMax {
            return "--purity must be MIN,MAX with 0 ≤ MIN ≤ MAX ≤ 1 (default 0.05,0.70); got \(purityMin),\(purityMax)"
        }
        if !(purityMedian > purityMin && purityMedian < purityMax) && purityMin < purityMax {
            return "--purity-median must lie strictly between the --purity bounds \(purityMin) and \(purityMax); got \(purityMedian)"
        }
        if !(0...1).contains(solidShare) { return "--solid-share must be 0...1 (default 0.35); got \(solidShare)" }
        if !(0...10).contains(artefactRate) { return "--artefact-rate must be 0...10 (default 1); got \(artefactRate)" }
        if !(1...TissueSourceSite.codes.count).contains(sites) {
            return "--sites must be 1...\(TissueSourceSite.codes.count) (default 6); got \(sites)"
        }
        if heldOutSites < 0 || heldOutSites >= sites { return "--held-out-sites must be 0...\(sites - 1) (fewer than --sites); got \(heldOutSites)" }
        if !(0...1).contains(siteBias) { return "--site-bias must be 0...1 (default 0.9); got \(siteBias)" }
        return nil
    }

    enum CodingKeys: String, CodingKey {
        case purityMin = "purity_min", purityMax = "purity_max", purityMedian = "purity_median", solidShare = "solid_share"
        case artefactRate = "artefact_rate", sites, heldOutSites = "held_out_sites", siteBias = "site_bias"
    }
}
