import Foundation

extension TissueTexture {
    /// LUAD: glands — a ring of columnar cells, nuclei pointing at the centre, around a pale
    /// lumen — scattered in fibrous stroma.
    @inline(__always)
    func adenocarcinoma(x: Double, y: Double, _ f: LocalFields) -> (h: Double, e: Double) {
        let gx = x + f.warpX, gy = y + f.warpY
        // The gland whose outer edge is nearest (glands stay within half a cell of their centre,
        // so the 2×2 cells towards the nearest corner suffice).
        let cells = NearCells(x: gx, y: gy, cell: glandCell)
        var best = (gap: Double.infinity, d: 0.0, radius: 0.0, ring: 0.0, x: 0.0, y: 0.0)
        let glandSeed = layer(10)
        for k in 0..<4 {
            guard let gland = CellDisc(cells, k, seed: glandSeed, cell: glandCell, presence: 0.9, radius: (30, 24)) else { continue }
            let dx = gx - gland.x, dy = gy - gland.y
            let d = (dx * dx + dy * dy).squareRoot()
            if d - gland.radius < best.gap {
                best = (d - gland.radius, d, gland.radius, 14 + 6 * gland.hash.unit(2), gland.x, gland.y)
            }
        }
        guard best.gap < 0.5 else { return stroma(x: x, y: y, f) }
        let lumen = best.radius - best.ring
        if best.d < lumen {
            return (0.015, 0.05 + 0.06 * f.grain)
        }
        let cytoplasm = (h: 0.2, e: 0.28 + 0.08 * f.grain)
        let inner = lumen + 2.6, outer = best.radius - 2.6
        let (px, py) = (best.x, best.y)
        let hit = ringNuclei.sample(x: gx, y: gy, presence: 1, orientation: .radial(px, py)) { cx, cy in
            let r = ((cx - px) * (cx - px) + (cy - py) * (cy - py)).squareRoot()
            return r >= inner && r <= outer
        }
        return nucleus(hit, over: cytoplasm, darkness: 0.95)
    }
}
