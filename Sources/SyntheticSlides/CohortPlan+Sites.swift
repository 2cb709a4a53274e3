import Foundation
import TesseraCore

extension CohortPlan {
    /// The realistic profile's changes to a clean plan: every patient goes to a tissue source site
    /// (drawn by the site's weight for the patient's class, so sites contribute classes unevenly),
    /// which renames it (`TCGA-44-0001`) and sets its slides' stain, scan and JPEG quality; every
    /// tumour slide gets a purity.
    static func realistic(_ clean: [SlideSpec], options: CohortOptions, realism: RealismOptions)
        -> (slides: [SlideSpec], sites: [TissueSourceSite]) {
        let sites = TissueSourceSite.draw(options: realism, seed: options.seed)
        var rng = SeededGenerator(seed: options.seed, stream: 0x5173_B1A5)
        // The exponent that puts the median of min + (max − min)·u^k at `purityMedian`.
        let span = realism.purityMax - realism.purityMin
        let k = span > 0 ? log((realism.purityMedian - realism.purityMin) / span) / log(0.5) : 1
        var slides = clean
        var sitesOfPatients: [String: TissueSourceSite] = [:]
        for i in slides.indices {
            let patient = slides[i].patientID
            if sitesOfPatients[patient] == nil {
                // The patient's class: its tumour type, else normal.
                let cls = slides.first { $0.patientID == patient && $0.tissueClass.isTumour }?.tissueClass ?? .normal
                let column = TissueClass.allCases.firstIndex(of: cls)!
                let weights = sites.map { $0.classWeights[column] }
                var u = rng.nextUnit() * weights.reduce(0, +)
                var pick = sites.count - 1
                for (j, wgt) in weights.enumerated() {
                    if u < wgt { pick = j; break }
                    u -= wgt
                }
                sitesOfPatients[patient] = sites[pick]
            }
            let site = sitesOfPatients[patient]!
            let purity = slides[i].tissueClass.isTumour ? realism.purityMin + span * pow(rng.nextUnit(), k) : 0
            let renamed = "TCGA-" + site.code + String(patient.dropFirst("TCGA-SY".count))
            slides[i].slideID = renamed + String(slides[i].slideID.dropFirst(patient.count))
            slides[i].patientID = renamed
            slides[i].scan = site.scan
            slides[i].realism = SlideRealism(site: site.code, stain: site.stain, purity: purity, solidShare: realism.solidShare,
                                             artefactRate: realism.artefactRate, jpegQuality: site.jpegQuality, heldOut: site.heldOut)
        }
        return (slides, sites)
    }
}
