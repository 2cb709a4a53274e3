import Foundation

extension TissueTexture {
    /// Stain densities of a realistic slide's region kind at (x, y) µm, and how black it is
    /// (anthracotic pigment absorbs every colour: 0 none … 1 opaque). The same kind looks the
    /// same on every slide class: normal lung in a tumour slide is normal lung.
    @inline(__always)
    func densities(kind: UInt8, x: Double, y: Double, fields f: LocalFields) -> (h: Double, e: Double, black: Double) {
        switch RegionKind.byCode[Int(kind)] {
        case .tumourLUAD:
            let d = adenocarcinoma(x: x, y: y, f); return (d.h * 1.0, d.e * 1.05, 0)
        case .tumourLUSC:
            let d = squamous(x: x, y: y, f); return (d.h * 0.6, d.e * 0.72, 0)
        case .tumourSolid:
            return with(solid(x: x, y: y, f))
        case .stroma:
            let d = stroma(x: x, y: y, f); return (d.h * 1.6, d.e * 1.5, 0)
        case .blood:
            // Packed red cells: eosin-dense discs with pale centres, little hematoxylin.
            let hit = lymphocytes.sample(x: x, y: y, presence: 0.95)
            let rim = hit.map { 0.75 + 0.25 * $0.rho * $0.coverage } ?? 0.6
            return (0.03 + 0.02 * f.grain, 0.9 * rim + 0.1 * f.grain, 0)
        case .lymphocytes:
            let base = (h: 0.08 + 0.03 * f.grain, e: 0.2 + 0.05 * f.grain)
            return with(nucleus(lymphocytes.sample(x: x, y: y, presence: 0.85), over: base, darkness: 1.2, rim: 0.1))
        case .cartilage:
            // Hyaline matrix (blue-grey, hematoxylin-rich) with chondrocytes in clear lacunae.
            var d = (h: 0.34 + 0.08 * f.grain, e: 0.14 + 0.04 * f.grain)
            if let hit = chondrocytes.sample(x: x, y: y, presence: 0.35) {
                d = hit.rho > 0.55 ? (0.03, 0.04) : nucleus(hit, over: d, darkness: 0.9)
            }
            return with(d)
        case .pigment:
            let d = stroma(x: x, y: y, f)
            let g = pigmentGranules.sample(x: x, y: y, presence: 0.55)
            return (d.h * 1.6, d.e * 1.5, 0.9 * (g?.coverage ?? 0))
        case .necrosis:
            // Pink amorphous debris with nuclear dust.
            let base = (h: 0.1 + 0.05 * f.grain, e: 0.5 + 0.15 * f.grain)
            return with(nucleus(debris.sample(x: x, y: y, presence: 0.3), over: base, darkness: 0.8, rim: 0))
        case .mucin:
            // Pale blue-grey wisps.
            return (0.1 + 0.08 * fibre(x: x, y: y, f), 0.05 + 0.03 * f.grain, 0)
        default:
            let d = alveolar(x: x, y: y, f); return (d.h * 2.1, d.e * 1.9, 0)
        }
    }

    @inline(__always)
    private func with(_ d: (h: Double, e: Double)) -> (h: Double, e: Double, black: Double) { (d.h, d.e, 0) }

    /// Poorly differentiated carcinoma: solid sheets of crowded, pleomorphic nuclei with scant
    /// cytoplasm, neither glands nor keratin — alike in LUAD and LUSC.
    @inline(__always)
    func solid(x: Double, y: Double, _ f: LocalFields) -> (h: Double, e: Double) {
        if f.architecture > 0.7 { let d = stroma(x: x, y: y, f); return (d.h * 1.6, d.e * 1.5) }
        let cytoplasm = (h: 0.16, e: 0.36 + 0.1 * f.grain)
        return nucleus(solidNuclei.sample(x: x, y: y, presence: 0.92), over: cytoplasm, darkness: 0.9, rim: 0.25)
    }
}
