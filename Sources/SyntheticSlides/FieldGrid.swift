import Foundation

/// The slowly varying fields of a slide (`LocalFields`), evaluated at the points of a fixed
/// global grid — every `spacing` level-0 pixels — and interpolated bilinearly in between.
///
/// The grid is anchored at (0, 0) whatever region is rendered, so interpolated values, like
/// everything else, depend only on the pixel's coordinates.
struct FieldGrid: Sendable {
    static let spacing = 16

    let tissue: TissueLayout
    let micronsPerPixel: Double
    let width: Int
    let height: Int
    private let grainSeed, architectureSeed, warpXSeed, warpYSeed, fibreSeed, stainSeed, blendSeed: UInt64

    init(tissue: TissueLayout, micronsPerPixel: Double, width: Int, height: Int, seed: UInt64) {
        self.tissue = tissue
        self.micronsPerPixel = micronsPerPixel
        self.width = width
        self.height = height
        grainSeed = seed &+ 1
        architectureSeed = seed &+ 2
        warpXSeed = seed &+ 3
        warpYSeed = seed &+ 4
        fibreSeed = seed &+ 5
        stainSeed = seed &+ 6
        blendSeed = seed &+ 7
    }

    /// Scale (µm) of the fields' features.
    static let grainScale = 25.0, architectureScale = 180.0, warpScale = 90.0, fibreScale = 40.0
    /// Largest domain warp, µm.
    static let warpAmplitude = 16.0
    /// Range of the fibres' phase wobble, radians.
    static let fibreWobbleRange = 4 * Double.pi

    /// The fields at grid point (gx, gy), appended to `values` in `LocalFields` order.
    func append(gx: Int, gy: Int, to values: inout [Double]) {
        let px = Double(gx * Self.spacing), py = Double(gy * Self.spacing)
        let ux = px * micronsPerPixel, uy = py * micronsPerPixel
        values.append(tissue.edgeDistance(x: px, y: py) * micronsPerPixel)
        values.append(ValueNoise.fractal(grainSeed, ux / Self.grainScale, uy / Self.grainScale, octaves: 2))
        values.append(ValueNoise.fractal(architectureSeed, ux / Self.architectureScale, uy / Self.architectureScale, octaves: 2))
        values.append((ValueNoise.fractal(warpXSeed, ux / Self.warpScale, uy / Self.warpScale, octaves: 2) - 0.5) * 2 * Self.warpAmplitude)
        values.append((ValueNoise.fractal(warpYSeed, ux / Self.warpScale, uy / Self.warpScale, octaves: 2) - 0.5) * 2 * Self.warpAmplitude)
        values.append(ValueNoise.fractal(fibreSeed, ux / Self.fibreScale, uy / Self.fibreScale, octaves: 2) * Self.fibreWobbleRange)
        let u = px / Double(width), v = py / Double(height)
        values.append(0.88 + 0.24 * ValueNoise.fractal(stainSeed, u * 4, v * 4, octaves: 2))
        values.append(min(1, max(0, ValueNoise.fractal(blendSeed, ux / 250, uy / 250, octaves: 2) * 3 - 1)))
    }
}
