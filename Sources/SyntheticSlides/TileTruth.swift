/// The true composition of a tile from its slide's ground truth: fractions of the tile's area (on a
/// `samples` × `samples` grid of point centres) that are tissue, tumour and under an artefact, and
/// the label a pathologist would give it.
public struct TileTruth: Equatable, Sendable {
    public var tissueFraction: Double
    public var tumourFraction: Double
    public var artefactFraction: Double
    /// `artefact` when artefacts cover half the tile; `glass` when tissue covers less than half;
    /// else the slide's tumour class when tumour is at least half of the tissue; else `normal`
    /// (non-tumour tissue).
    public var label: String

    public static let samples = 32

    /// - Parameters: x, y, size: the tile's level-0 top-left corner and side; tumourLabel: the
    ///   slide's class (LUAD, LUSC, or normal for a normal slide).
    public init(truth: SlideTruth, x: Int, y: Int, size: Int, tumourLabel: String) {
        let n = Self.samples
        var tissue = 0, tumour = 0, artefact = 0
        // Only the regions that reach the tile.
        let x0 = Double(x), y0 = Double(y), x1 = Double(x + size), y1 = Double(y + size)
        let near = truth.regions.filter { r in
            let b = r.polygon.bounds
            return b.maxX >= x0 && b.minX <= x1 && b.maxY >= y0 && b.minY <= y1
        }
        let local = SlideTruth(slideID: truth.slideID, width: truth.width, height: truth.height, regions: near)
        let hasTissueRegion = truth.regions.contains { $0.kind == .tissue }
        for j in 0..<n {
            for i in 0..<n {
                let px = x0 + (Double(i) + 0.5) * Double(size) / Double(n)
                let py = y0 + (Double(j) + 0.5) * Double(size) / Double(n)
                var c = local.composition(x: px, y: py)
                // A tissue outline that does not reach the tile means glass, not "everything is tissue".
                if hasTissueRegion && !near.contains(where: { $0.kind == .tissue }) { c.kind = nil }
                if let kind = c.kind {
                    tissue += 1
                    if kind.isTumour { tumour += 1 }
                }
                if c.artefact { artefact += 1 }
            }
        }
        let total = Double(n * n)
        tissueFraction = Double(tissue) / total
        tumourFraction = Double(tumour) / total
        artefactFraction = Double(artefact) / total
        if artefactFraction >= 0.5 {
            label = "artefact"
        } else if tissueFraction < 0.5 {
            label = "glass"
        } else if tumourFraction >= 0.5 * tissueFraction && tumourLabel != "normal" {
            label = tumourLabel
        } else {
            label = "normal"
        }
    }
}
