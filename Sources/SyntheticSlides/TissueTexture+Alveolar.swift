import Foundation

extension TissueTexture {
    /// Normal lung: large, nearly empty alveolar spaces bounded by thin septa (the edges of a
    /// Voronoi diagram) carrying sparse small nuclei; septa thicken where the lung is collapsed.
    @inline(__always)
    func alveolar(x: Double, y: Double, _ f: LocalFields) -> (h: Double, e: Double) {
        let gx = x + f.warpX, gy = y + f.warpY
        let fx = gx / alveolusCell, fy = gy / alveolusCell
        let ix = floorInt(fx), iy = floorInt(fy)
        // Nearest and second-nearest alveolus centres.
        var d1 = Double.infinity, d2 = Double.infinity
        var c1 = (0.0, 0.0), c2 = (0.0, 0.0)
        let alveolusSeed = layer(30)
        for jy in (iy - 1)...(iy + 1) {
            for jx in (ix - 1)...(ix + 1) {
                let h = CellHash(alveolusSeed, jx, jy)
                let px = (Double(jx) + h.jitter(0)) * alveolusCell
                let py = (Double(jy) + h.jitter(1)) * alveolusCell
                let d = (gx - px) * (gx - px) + (gy - py) * (gy - py)
                if d < d1 {
                    d2 = d1; c2 = c1
                    d1 = d; c1 = (px, py)
                } else if d < d2 {
                    d2 = d; c2 = (px, py)
                }
            }
        }
        // Distance to the bisector between the two nearest centres: the septum's mid-line.
        let sep = ((c2.0 - c1.0) * (c2.0 - c1.0) + (c2.1 - c1.1) * (c2.1 - c1.1)).squareRoot()
        let toSeptum = (d2 - d1) / (2 * sep)
        var halfWidth = 2.0 + 3.0 * f.grain + 4.0 * max(0, f.architecture - 0.3)
        if f.architecture > 0.78 { halfWidth += 60 * (f.architecture - 0.78) }
        let air = (h: 0.03, e: 0.06 + 0.04 * f.grain)
        guard toSeptum < halfWidth + 0.6 else { return air }
        var wall = (h: 0.08 + 0.03 * f.grain, e: 0.36 + 0.1 * fibre(x: x, y: y, f))
        if toSeptum < halfWidth + 1 {
            wall = nucleus(septalNuclei.sample(x: x, y: y, presence: 0.5), over: wall, darkness: 0.95, rim: 0.15)
        }
        let c = min(1, max(0, (halfWidth - toSeptum) / 0.6 + 0.5))
        return (air.h + (wall.h - air.h) * c, air.e + (wall.e - air.e) * c)
    }
}
