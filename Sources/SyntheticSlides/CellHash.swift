import Foundation
import TesseraCore

/// Random parameters of one lattice cell of a procedural layer: one 64-bit hash of
/// (layer seed, cell column, cell row), sliced into uniform numbers.
struct CellHash {
    let bits: UInt64

    @inline(__always)
    init(_ seed: UInt64, _ ix: Int, _ iy: Int) {
        bits = mixHash(seed, UInt64(bitPattern: Int64(ix)), UInt64(bitPattern: Int64(iy)))
    }

    /// Jitter in [0, 1) from 12 bits: slot 0 or 1.
    @inline(__always)
    func jitter(_ slot: UInt64) -> Double { Double((bits >> (slot * 12)) & 0xFFF) * (1.0 / 4096) }

    /// A uniform in [0, 1) from 8 bits: slots 0...4 (bits 24...63).
    @inline(__always)
    func unit(_ slot: UInt64) -> Double { Double((bits >> (24 + slot * 8)) & 0xFF) * (1.0 / 256) }
}

/// Sixteen evenly spaced orientations (cos, sin) over a half turn, for elongated nuclei.
let orientationTable: [(Double, Double)] = (0..<16).map { i in
    let angle = Double(i) * Double.pi / 16
    return (cos(angle), sin(angle))
}

/// ⌊v⌋ as an Int without a libm call (Swift's `rounded(.down)` calls `floor` on baseline x86-64).
@inline(__always)
func floorInt(_ v: Double) -> Int {
    let i = Int(v)
    return v < Double(i) ? i - 1 : i
}

/// The four grid cells whose features can reach a point when each feature stays within half a cell
/// of its cell's centre: the point's own cell and its neighbours towards the nearest corner.
struct NearCells {
    let ix, iy, nx, ny: Int

    @inline(__always)
    init(x: Double, y: Double, cell: Double) {
        let fx = x / cell, fy = y / cell
        ix = floorInt(fx)
        iy = floorInt(fy)
        nx = fx - Double(ix) < 0.5 ? ix - 1 : ix + 1
        ny = fy - Double(iy) < 0.5 ? iy - 1 : iy + 1
    }

    /// Cell k of 0..<4: own, horizontal neighbour, vertical neighbour, diagonal.
    @inline(__always)
    subscript(k: Int) -> (x: Int, y: Int) { (k & 1 == 0 ? ix : nx, k < 2 ? iy : ny) }
}

/// A disc placed in a grid cell (a gland, a keratin pearl): present with some probability, its
/// centre jittered within the cell, its radius drawn; `hash` gives its further draws (slot 2 on).
struct CellDisc {
    let hash: CellHash
    let x: Double, y: Double, radius: Double

    /// The disc of cell `k` of `cells`, or nil when that cell has none (u₀ ≥ `presence`); radius
    /// `radius.base + radius.spread · u₁`.
    @inline(__always)
    init?(_ cells: NearCells, _ k: Int, seed: UInt64, cell: Double, presence: Double, radius: (base: Double, spread: Double)) {
        let (jx, jy) = cells[k]
        let h = CellHash(seed, jx, jy)
        guard h.unit(0) < presence else { return nil }
        hash = h
        self.radius = radius.base + radius.spread * h.unit(1)
        x = (Double(jx) + h.jitter(0)) * cell
        y = (Double(jy) + h.jitter(1)) * cell
    }
}
