/// Nuclei scattered on a jittered lattice: in each cell of side `cell` µm, with a given
/// probability, one elliptical nucleus.
///
/// A nucleus never reaches beyond half a cell from its centre, so only the pixel's own cell and
/// the three neighbours towards its nearest corner can cover it: four hashes per lookup.
struct NucleusField: Sendable {
    let seed: UInt64
    /// Lattice spacing, µm.
    let cell: Double
    /// Semi-minor axis range, µm.
    let minorRadius: ClosedRange<Double>
    /// Largest ratio of major to minor axis (1 = round).
    let maxAspect: Double

    /// Width of the soft nuclear edge, µm.
    static let edge = 0.5

    init(seed: UInt64, cell: Double, minorRadius: ClosedRange<Double>, maxAspect: Double) {
        precondition(minorRadius.upperBound * maxAspect + Self.edge / 2 <= cell / 2,
                     "nuclei of up to \(minorRadius.upperBound * maxAspect) µm would spill out of \(cell) µm cells")
        self.seed = seed
        self.cell = cell
        self.minorRadius = minorRadius
        self.maxAspect = maxAspect
    }

    enum Orientation {
        /// Each nucleus turned at random.
        case random
        /// Long axis pointing at (x, y) (columnar cells around a gland's lumen).
        case radial(Double, Double)
    }

    struct Hit {
        /// How much of the pixel the nucleus covers (0...1, soft at the edge).
        var coverage: Double
        /// Normalised distance from the nucleus centre (0 at centre, 1 at the membrane).
        var rho: Double
        /// Per-nucleus random number in [0, 1) (darkness).
        var shade: Double
    }

    /// The nucleus covering (x, y) (µm) that has the largest coverage, if any. `presence` is the
    /// probability that a cell holds a nucleus; `accept` can veto a nucleus by its centre.
    @inline(__always)
    func sample(x: Double, y: Double, presence: Double, orientation: Orientation = .random,
                accept: (Double, Double) -> Bool = { _, _ in true }) -> Hit? {
        let cells = NearCells(x: x, y: y, cell: cell)
        var best: Hit?
        for k in 0..<4 {
            let (jx, jy) = cells[k]
            let h = CellHash(seed, jx, jy)
            guard h.unit(0) < presence else { continue }
            let centreX = (Double(jx) + h.jitter(0)) * cell
            let centreY = (Double(jy) + h.jitter(1)) * cell
            let dx = x - centreX, dy = y - centreY
            let b = minorRadius.lowerBound + (minorRadius.upperBound - minorRadius.lowerBound) * h.unit(1)
            let a = b * (1 + (maxAspect - 1) * h.unit(2))
            let reach = a + Self.edge / 2
            if dx * dx + dy * dy > reach * reach { continue }
            guard accept(centreX, centreY) else { continue }
            var c = 1.0, s = 0.0
            switch orientation {
            case .random:
                (c, s) = orientationTable[Int(h.unit(3) * 16)]
            case let .radial(px, py):
                let rx = centreX - px, ry = centreY - py
                let len = (rx * rx + ry * ry).squareRoot()
                if len > 0 { c = rx / len; s = ry / len }
            }
            let along = dx * c + dy * s, across = dy * c - dx * s
            let rho = ((along * along) / (a * a) + (across * across) / (b * b)).squareRoot()
            let coverage = min(1, max(0, (1 - rho) * b / Self.edge + 0.5))
            if coverage > (best?.coverage ?? 0) {
                best = Hit(coverage: coverage, rho: min(rho, 1), shade: h.unit(4))
            }
        }
        return best
    }
}
