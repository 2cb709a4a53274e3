/// Slowly varying fields at a pixel, interpolated from a coarse grid (see `FieldGrid`).
struct LocalFields {
    /// Signed distance to the tissue's edge, µm (positive inside).
    var edgeDistance: Double
    /// Fine mottling of stain uptake, [0, 1), ~25 µm features.
    var grain: Double
    /// Tissue architecture, [0, 1), ~180 µm features: where stroma, inflammation or collapse appear.
    var architecture: Double
    /// Domain warp (µm) that makes glands, pearls and alveoli irregular.
    var warpX: Double
    var warpY: Double
    /// Phase wobble of the collagen fibres (radians), so they wave instead of running straight.
    var fibreWobble: Double
    /// Weight of the first of the slide's two fibre directions (the second gets 1 − weight).
    var fibreBlend: Double
    /// Slow variation of staining intensity across the slide (a factor near 1).
    var stainScale: Double

    static let count = 8
}
