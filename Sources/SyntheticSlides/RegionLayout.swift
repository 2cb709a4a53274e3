import Foundation
import TesseraCore

/// The ground truth of a realistic slide: where its tumour, non-diagnostic tissue and artefacts
/// lie, as polygons in level-0 pixels, in painter's order (a point's tissue kind is that of the last
/// tissue region holding it, normal lung where none does; artefacts lie over tissue and glass).
///
/// - Non-diagnostic tissue in every class (stroma, vessels with blood, lymphocyte aggregates,
///   bronchial cartilage, anthracotic pigment), at densities per mm² of tissue.
/// - Tumour (tumour slides only): one to three ragged regions embedded in normal lung, scaled until
///   tumour covers the slide's purity of its tissue; a share `solidShare` of the regions after the
///   first is poorly differentiated (`tumour_solid`); necrosis in tumours, mucin in LUAD.
/// - Artefacts, `artefactRate` × about five per slide: pen circles around tumour and pen lines
///   (blue, green or black), out-of-focus patches, folds, air bubbles, dust.
public struct RegionLayout: Sendable {
    public let regions: [TruthRegion]
    /// Tumour fraction of the tissue, measured on the calibration grid.
    public let purity: Double
    /// The pen colour of each pen region, in region order (0 blue, 1 green, 2 black).
    let penColours: [Int]

    /// Cell (level-0 pixels) of the tissue outline written to the truth.
    static func tissueCell(width: Int, height: Int) -> Int { max(16, max(width, height) / 512) }

    public init(spec: SlideSpec, tissue: TissueLayout, realism: SlideRealism) {
        var rng = SeededGenerator(seed: spec.seed, stream: 0x2E610)
        func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * rng.nextUnit() }
        let mpp = spec.scan.micronsPerPixel
        let w = Double(spec.width), h = Double(spec.height)
        func um(_ v: Double) -> Double { v / mpp }

        // The tissue on a coarse grid: to place regions in it and to measure purity.
        let cell = Double(Self.tissueCell(width: spec.width, height: spec.height))
        let columns = Int((w / cell).rounded(.up)), rows = Int((h / cell).rounded(.up))
        var inTissue = [Bool](repeating: false, count: columns * rows)
        var tissueCells: [Int] = []
        for r in 0..<rows {
            for c in 0..<columns where tissue.contains(x: (Double(c) + 0.5) * cell, y: (Double(r) + 0.5) * cell) {
                inTissue[r * columns + c] = true
                tissueCells.append(r * columns + c)
            }
        }
        func tissuePoint() -> (Double, Double) {
            guard !tissueCells.isEmpty else { return (w / 2, h / 2) }
            let i = tissueCells[Int(rng.next() % UInt64(tissueCells.count))]
            return ((Double(i % columns) + uniform(0, 1)) * cell, (Double(i / columns) + uniform(0, 1)) * cell)
        }
        var regions: [TruthRegion] = [TruthRegion(kind: .tissue, polygon: RegionPolygon(rings: []))]
        // Row runs of the tissue mask, as rectangles (one multi-ring polygon; `SlideTruth` writes it as a MultiPolygon).
        var runs: [[RegionPolygon.Point]] = []
        for r in 0..<rows {
            var c = 0
            while c < columns {
                guard inTissue[r * columns + c] else { c += 1; continue }
                let start = c
                while c < columns && inTissue[r * columns + c] { c += 1 }
                runs.append(RegionPolygon.rectangle(x: Double(start) * cell, y: Double(r) * cell, width: Double(c - start) * cell,
                                                    height: cell).rings[0])
            }
        }
        regions[0].polygon = RegionPolygon(rings: runs)

        // Non-diagnostic tissue: counts per mm² of tissue.
        let tissueMM2 = Double(tissueCells.count) * cell * cell * mpp * mpp / 1e6
        func count(_ perMM2: Double) -> Int {
            let mean = perMM2 * tissueMM2
            return Int(mean) + (rng.nextUnit() < mean - Double(Int(mean)) ? 1 : 0)
        }
        func blob(_ kind: RegionKind, radius: Double, elongation: Double = 1, at p: (Double, Double)? = nil, roughness: Double = 0.3) {
            let (x, y) = p ?? tissuePoint()
            regions.append(TruthRegion(kind: kind, polygon: .blob(cx: x, cy: y, radius: radius, elongation: elongation,
                                                                   angle: uniform(0, Double.pi), roughness: roughness, seed: rng.next())))
        }
        // Every slide has some stroma, however little tissue it has.
        for _ in 0..<max(1, count(2.0)) { blob(.stroma, radius: um(uniform(80, 220)), elongation: uniform(1.2, 2.5)) }
        for _ in 0..<count(1.5) {
            let (x, y) = tissuePoint()
            let r = um(uniform(40, 110))
            blob(.stroma, radius: r * 1.35, at: (x, y), roughness: 0.1)
            blob(.blood, radius: r, at: (x, y), roughness: 0.12)
        }
        for _ in 0..<count(1.0) { blob(.lymphocytes, radius: um(uniform(50, 140))) }
        for _ in 0..<count(0.35) { blob(.cartilage, radius: um(uniform(100, 220)), elongation: uniform(1.5, 2.5), roughness: 0.15) }
        for _ in 0..<count(1.0) { blob(.pigment, radius: um(uniform(25, 80)), elongation: uniform(1, 2)) }

        // Tumour, scaled to the purity.
        var tumourCentres: [(x: Double, y: Double, r: Double)] = []
        var purity = 0.0
        if spec.tissueClass.isTumour && realism.purity > 0 {
            let typical: RegionKind = spec.tissueClass == .luad ? .tumourLUAD : .tumourLUSC
            let n = 1 + Int(rng.next() % 3)
            struct Seeded { var kind: RegionKind; var x, y, weight, elongation, angle: Double; var seed: UInt64
                            var inner: [(kind: RegionKind, dx: Double, dy: Double, weight: Double, seed: UInt64)] }
            var parts: [Seeded] = []
            for i in 0..<n {
                let (x, y) = tissuePoint()
                var part = Seeded(kind: i > 0 && rng.nextUnit() < realism.solidShare ? .tumourSolid : typical, x: x, y: y,
                                  weight: uniform(0.6, 1), elongation: uniform(1, 1.8), angle: uniform(0, Double.pi), seed: rng.next(), inner: [])
                if rng.nextUnit() < 0.6 { part.inner.append((.necrosis, uniform(-0.3, 0.3), uniform(-0.3, 0.3), uniform(0.2, 0.35), rng.next())) }
                if spec.tissueClass == .luad && rng.nextUnit() < 0.5 {
                    part.inner.append((.mucin, uniform(-0.4, 0.4), uniform(-0.4, 0.4), uniform(0.15, 0.3), rng.next()))
                }
                parts.append(part)
            }
            func tumourRegions(scale: Double) -> [TruthRegion] {
                let side = max(w, h)
                var out: [TruthRegion] = []
                for p in parts {
                    out.append(TruthRegion(kind: p.kind, polygon: .blob(cx: p.x, cy: p.y, radius: p.weight * scale * side,
                                                                          elongation: p.elongation, angle: p.angle, seed: p.seed)))
                }
                for p in parts {
                    for q in p.inner {
                        let r = p.weight * scale * side
                        out.append(TruthRegion(kind: q.kind, polygon: .blob(cx: p.x + q.dx * r, cy: p.y + q.dy * r, radius: q.weight * r,
                                                                              seed: q.seed)))
                    }
                }
                return out
            }
            func measure(_ tumour: [TruthRegion]) -> Double {
                var top = [UInt8](repeating: 0, count: columns * rows)
                for region in tumour {
                    let isTumour: UInt8 = region.kind.isTumour ? 1 : 2
                    RegionRaster.forEachCell(of: region.polygon, cell: cell, columns: columns, rows: rows) { top[$0] = isTumour }
                }
                let hits = tissueCells.reduce(0) { $0 + (top[$1] == 1 ? 1 : 0) }
                return tissueCells.isEmpty ? 0 : Double(hits) / Double(tissueCells.count)
            }
            var lo = 0.0, hi = 1.5
            for _ in 0..<18 {
                let mid = (lo + hi) / 2
                if measure(tumourRegions(scale: mid)) < realism.purity { lo = mid } else { hi = mid }
            }
            let tumour = tumourRegions(scale: hi)
            purity = measure(tumour)
            regions += tumour
            tumourCentres = parts.map { ($0.x, $0.y, $0.weight * hi * max(w, h) * (1 + $0.elongation) / 2) }
        }
        self.purity = purity

        // Artefacts.
        let rate = realism.artefactRate
        var penColours: [Int] = []
        func chance(_ p: Double) -> Bool { rng.nextUnit() < min(1, p * rate) }
        if chance(0.45) {
            // A pathologist's circle around the tumour (or around something, on a normal slide).
            let target = tumourCentres.first ?? { let p = tissuePoint(); return (p.0, p.1, um(uniform(250, 500))) }()
            regions.append(TruthRegion(kind: .pen, polygon: .annulus(cx: target.x, cy: target.y, radius: target.r * uniform(1.1, 1.4),
                                                                       width: um(uniform(40, 80)), wobble: 0.12, seed: rng.next())))
            penColours.append(Int(rng.next() % 3))
        }
        if chance(0.3) {
            let (x, y) = tissuePoint()
            let a = uniform(0, Double.pi), len = um(uniform(300, 900))
            regions.append(TruthRegion(kind: .pen, polygon: .stroke(x0: x - cos(a) * len / 2, y0: y - sin(a) * len / 2, x1: x + cos(a) * len / 2,
                                                                      y1: y + sin(a) * len / 2, width: um(uniform(35, 70)))))
            penColours.append(Int(rng.next() % 3))
        }
        if chance(0.5) { blob(.blur, radius: um(uniform(150, 350)), elongation: uniform(1, 2)) }
        if chance(0.4) { blob(.fold, radius: um(uniform(60, 140)), elongation: uniform(2.5, 5), roughness: 0.15) }
        if chance(0.3) {
            let (x, y) = tissuePoint()
            regions.append(TruthRegion(kind: .bubble, polygon: .blob(cx: x, cy: y, radius: um(uniform(80, 250)), roughness: 0.02,
                                                                     vertices: 48, seed: rng.next())))
        }
        let specks = Int(3 * rate * rng.nextUnit() * 2)
        for _ in 0..<specks {
            let p = (uniform(0.05, 0.95) * w, uniform(0.05, 0.95) * h)
            blob(.dust, radius: um(uniform(4, 14)), elongation: uniform(1, 3), at: p, roughness: 0.4)
        }
        self.regions = regions
        self.penColours = penColours
    }

    /// The artefact kinds present, in `RegionKind` order.
    public var artefacts: [RegionKind] {
        let present = Set(regions.map(\.kind))
        return RegionKind.allCases.filter { $0.isArtefact && present.contains($0) }
    }
}
