import Tiling

/// Where a slide's tiles lie on the slide: what a heatmap, `tiles.csv`'s tile extent, `slides.csv`'s
/// resolution and the QuPath GeoJSON need besides the tile scores. Kept with each finished slide
/// of a task (`SlideResult`), so a resumed task writes the same files.
struct SlidePlacement: Codable, Equatable, Sendable {
    /// Level-0 size of the slide in pixels.
    var width: Int
    var height: Int
    /// A tile's side in level-0 pixels (tile size × level-0 pixels per tile pixel).
    var tileSpan: Double
    /// The slide file, when known.
    var slidePath: String?
    /// µm per level-0 pixel, when known.
    var resolution: ScanResolution?

    /// A tile's side in whole level-0 pixels, as `tiles.csv` and the GeoJSON give it.
    var tileExtent: Int { max(1, Int(tileSpan.rounded())) }
}
