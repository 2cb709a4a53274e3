import Dispatch
import Foundation
import TesseraCore

/// Renders any region of a synthetic slide at level 0: glass, tissue pieces, and the class's
/// micro-anatomy in the slide's stain colours.
///
/// Every pixel is a pure function of the slide's `SlideSpec` and its level-0 coordinates, so
/// regions can be rendered independently, in any order and on any thread, and always agree.
public struct SlideRenderer: Sendable {
    public let spec: SlideSpec
    public let tissue: TissueLayout
    public let palette: StainPalette
    let texture: TissueTexture
    let fields: FieldGrid
    let noiseSeed: UInt64
    /// The realistic profile's regions and their raster (nil for a clean slide).
    public let regions: RegionLayout?
    let raster: RegionRaster?

    /// Rows per unit of parallel work.
    static let bandRows = 16
    /// Rows whose field grid is computed at once (bounds the grid's memory for tall regions).
    static let chunkRows = 256
    /// Width of the tissue's soft edge, µm.
    static let edgeWidth = 2.0

    public init(spec: SlideSpec) {
        self.spec = spec
        var rng = SeededGenerator(seed: spec.seed, stream: 0x2E4D)
        tissue = TissueLayout(width: spec.width, height: spec.height, seed: rng.next())
        let paletteSeed = rng.next()
        palette = spec.realism.map { StainPalette(seed: paletteSeed, site: $0.stain) } ?? StainPalette(seed: paletteSeed)
        texture = TissueTexture(tissueClass: spec.tissueClass, seed: rng.next())
        fields = FieldGrid(tissue: tissue, micronsPerPixel: spec.scan.micronsPerPixel,
                           width: spec.width, height: spec.height, seed: rng.next())
        noiseSeed = rng.next()
        if let realism = spec.realism {
            let layout = RegionLayout(spec: spec, tissue: tissue, realism: realism)
            regions = layout
            raster = RegionRaster(width: spec.width, height: spec.height, layout: layout)
        } else {
            regions = nil
            raster = nil
        }
    }

    /// The slide's tissue layout alone (what `init` draws first), without building the rest.
    public static func tissueLayout(for spec: SlideSpec) -> TissueLayout {
        var rng = SeededGenerator(seed: spec.seed, stream: 0x2E4D)
        return TissueLayout(width: spec.width, height: spec.height, seed: rng.next())
    }

    /// The level-0 region at (x, y) of `width` × `height` pixels, rendered on all cores. Parts
    /// outside the slide are rendered too (tissue fades to glass near the edges), so callers clip.
    public func render(x: Int, y: Int, width: Int, height: Int) -> RGBImage {
        precondition(x >= 0 && y >= 0 && width > 0 && height > 0, "bad region \(width)×\(height) at (\(x), \(y))")
        var pixels: [UInt8] = []
        pixels.reserveCapacity(width * height * 3)
        var y0 = y
        while y0 < y + height {
            let rows = min(Self.chunkRows, y + height - y0)
            let top = y0
            let samples = FieldSamples(fields, x: x, y: top, width: width, height: rows, parallel: true)
            let bands = (rows + Self.bandRows - 1) / Self.bandRows
            let results = Collector<[UInt8]>(count: bands, empty: [])
            DispatchQueue.concurrentPerform(iterations: bands) { band in
                let yb = top + band * Self.bandRows
                let h = min(Self.bandRows, top + rows - yb)
                results.store(band, raster != nil ? renderRealisticRows(samples, x: x, y: yb, width: width, height: h)
                                                  : renderCleanRows(samples, x: x, y: yb, width: width, height: h))
            }
            for band in results.take() { pixels.append(contentsOf: band) }
            y0 += rows
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// The same region on the calling thread only: RGB bytes, rows top to bottom. A reference for
    /// `render` (which must agree with it byte for byte).
    public func renderSerially(x: Int, y: Int, width: Int, height: Int) -> [UInt8] {
        let samples = FieldSamples(fields, x: x, y: y, width: width, height: height, parallel: false)
        return raster != nil ? renderRealisticRows(samples, x: x, y: y, width: width, height: height)
                             : renderCleanRows(samples, x: x, y: y, width: width, height: height)
    }

    /// Rows y..<y+height, columns x..<x+width, with the fields taken from `samples`: the pixel loop
    /// both profiles share. `colour` gives a pixel's RGB before sensor noise from its position, its
    /// interpolated fields and its noise bits; the loop adds the noise and writes the bytes.
    @inline(__always)
    func renderRows(_ samples: FieldSamples, x: Int, y: Int, width: Int, height: Int,
                    colour: (_ px: Int, _ py: Int, _ uy: Double, _ field: (Int) -> Double, _ noise: UInt64) -> (Double, Double, Double)) -> [UInt8] {
        let g = FieldGrid.spacing
        let n = LocalFields.count
        let columns = samples.columns
        let grid = samples.values
        var out = [UInt8](repeating: 0, count: width * height * 3)
        var row = [Double](repeating: 0, count: columns * n)
        let mpp = spec.scan.micronsPerPixel
        var o = 0
        for py in y..<(y + height) {
            // Interpolate the grid vertically once per pixel row.
            let top = (py / g - samples.gy0) * columns * n
            let ty = (Double(py % g) + 0.5) / Double(g)
            for i in 0..<(columns * n) {
                row[i] = grid[top + i] + (grid[top + columns * n + i] - grid[top + i]) * ty
            }
            let uy = (Double(py) + 0.5) * mpp
            for px in x..<(x + width) {
                let c = (px / g - samples.gx0) * n
                let tx = (Double(px % g) + 0.5) / Double(g)
                @inline(__always) func field(_ k: Int) -> Double { row[c + k] + (row[c + n + k] - row[c + k]) * tx }
                let noise = mixHash(noiseSeed, UInt64(px), UInt64(py))
                let (r, gr, b) = colour(px, py, uy, field, noise)
                // Sensor noise: ±1.5 levels of luminance and ±1 per channel.
                let lum = Self.signedUnit(noise >> 16) * 1.5
                out[o] = Self.clampByte(r + lum + Self.signedUnit(noise >> 24))
                out[o + 1] = Self.clampByte(gr + lum + Self.signedUnit(noise >> 32))
                out[o + 2] = Self.clampByte(b + lum + Self.signedUnit(noise >> 40))
                o += 3
            }
        }
        return out
    }

    /// The clean profile: one tissue class on glass.
    private func renderCleanRows(_ samples: FieldSamples, x: Int, y: Int, width: Int, height: Int) -> [UInt8] {
        let mpp = spec.scan.micronsPerPixel
        let glass = palette.table[0]
        return renderRows(samples, x: x, y: y, width: width, height: height) { px, _, uy, field, noise in
            // Roughen the tissue's edge at the micrometre scale and soften it over ~2 µm.
            let grain = field(1)
            let alpha = Self.smoothstep((field(0) + 10 * (grain - 0.5)) / Self.edgeWidth)
            var packed: UInt32
            if alpha <= 0 {
                packed = glass
            } else {
                let local = LocalFields(edgeDistance: field(0), grain: grain, architecture: field(2), warpX: field(3),
                                        warpY: field(4), fibreWobble: field(5), fibreBlend: field(7), stainScale: field(6))
                let d = texture.densities(x: (Double(px) + 0.5) * mpp, y: uy, fields: local)
                let scale = alpha * local.stainScale
                // Grain in the stain uptake, per pixel.
                let nh: Double = Self.signedUnit(noise), ne: Double = Self.signedUnit(noise >> 8)
                let h: Double = d.h * scale * (1 + 0.12 * nh) + 0.01 * nh
                let e: Double = d.e * scale * (1 + 0.08 * ne) + 0.01 * ne
                packed = palette.packedColor(h: h, e: e)
            }
            return (Double((packed >> 16) & 0xFF), Double((packed >> 8) & 0xFF), Double(packed & 0xFF))
        }
    }

    /// 0 below −½, 1 above ½, smooth in between.
    @inline(__always)
    static func smoothstep(_ t: Double) -> Double {
        if t <= -0.5 { return 0 }
        if t >= 0.5 { return 1 }
        let u = t + 0.5
        return u * u * (3 - 2 * u)
    }

    /// The low 8 bits of `bits` as a number in [−1, 1].
    @inline(__always)
    static func signedUnit(_ bits: UInt64) -> Double { Double(bits & 0xFF) * (2.0 / 255) - 1 }

    /// Rounded to the nearest byte value, clamped to 0...255.
    @inline(__always)
    static func clampByte(_ v: Double) -> UInt8 { UInt8(Int(max(0, min(255, v)) + 0.5)) }
}

/// The field grid's points around a region: columns gx0...gx0+columns−1, rows gy0...,
/// `LocalFields.count` values per point.
struct FieldSamples: Sendable {
    let gx0: Int
    let gy0: Int
    let columns: Int
    let values: [Double]

    init(_ fields: FieldGrid, x: Int, y: Int, width: Int, height: Int, parallel: Bool) {
        let g = FieldGrid.spacing
        gx0 = x / g
        gy0 = y / g
        columns = (x + width - 1) / g + 1 - gx0 + 1
        let rows = (y + height - 1) / g + 1 - gy0 + 1
        let (gx0, gy0, columns) = (self.gx0, self.gy0, columns)
        @Sendable func gridRow(_ r: Int) -> [Double] {
            var values: [Double] = []
            values.reserveCapacity(columns * LocalFields.count)
            for c in 0..<columns { fields.append(gx: gx0 + c, gy: gy0 + r, to: &values) }
            return values
        }
        if parallel {
            let results = Collector<[Double]>(count: rows, empty: [])
            DispatchQueue.concurrentPerform(iterations: rows) { r in results.store(r, gridRow(r)) }
            values = results.take().flatMap { $0 }
        } else {
            values = (0..<rows).flatMap(gridRow)
        }
    }
}

/// Results of parallel work, one slot per iteration, handed back under a lock.
final class Collector<Value>: @unchecked Sendable {
    private var slots: [Value]
    private let lock = NSLock()

    init(count: Int, empty: Value) { slots = Array(repeating: empty, count: count) }

    func store(_ index: Int, _ value: Value) {
        lock.lock()
        slots[index] = value
        lock.unlock()
    }

    func take() -> [Value] {
        lock.lock(); defer { lock.unlock() }
        return slots
    }
}
