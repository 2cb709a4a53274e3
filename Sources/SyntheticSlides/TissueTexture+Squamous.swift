import Foundation

extension TissueTexture {
    /// LUSC: sheets of large, vesicular nuclei in pink cytoplasm, broken by keratin pearls
    /// (concentric eosinophilic whorls) and bands of stroma.
    @inline(__always)
    func squamous(x: Double, y: Double, _ f: LocalFields) -> (h: Double, e: Double) {
        let gx = x + f.warpX, gy = y + f.warpY
        let cells = NearCells(x: gx, y: gy, cell: pearlCell)
        let pearlSeed = layer(20)
        for k in 0..<4 {
            guard let pearl = CellDisc(cells, k, seed: pearlSeed, cell: pearlCell, presence: 0.45, radius: (22, 33)) else { continue }
            let dx = gx - pearl.x, dy = gy - pearl.y
            let d2 = dx * dx + dy * dy
            guard d2 < pearl.radius * pearl.radius else { continue }
            let d = d2.squareRoot()
            if d > pearl.radius - 4 {
                // A rim of flattened keratinocytes.
                return (0.35, 0.6)
            }
            let lamella = 0.5 + 0.5 * cos(d * 0.95 + 6.28 * pearl.hash.unit(2))
            return (0.03 + 0.03 * f.grain, 0.8 + 0.2 * lamella)
        }
        if f.architecture > 0.62 {
            return stroma(x: x, y: y, f)
        }
        let cytoplasm = (h: 0.14, e: 0.46 + 0.1 * f.grain)
        return nucleus(sheetNuclei.sample(x: x, y: y, presence: 0.9), over: cytoplasm, darkness: 0.85, rim: 0.3)
    }
}
