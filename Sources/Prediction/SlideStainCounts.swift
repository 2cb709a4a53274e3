/// What stain normalisation did to one slide's tiles: normalised, or left as they were because
/// the tile had too little tissue for a stable fit (the identity fallback). In report.json
/// (`stain_tiles_by_slide`, and summed in the summary) and in each task's part.
public struct SlideStainCounts: Codable, Equatable, Sendable {
    public var slideID: String
    public var normalizedTiles: Int
    public var unnormalizedTiles: Int

    // `slideId`, so that report.json's snake case (`slide_id`) reads back to it; the task parts
    // keep the declared keys.
    enum CodingKeys: String, CodingKey { case slideID = "slideId", normalizedTiles, unnormalizedTiles }

    public init(slideID: String, normalizedTiles: Int, unnormalizedTiles: Int) {
        self.slideID = slideID
        self.normalizedTiles = normalizedTiles
        self.unnormalizedTiles = unnormalizedTiles
    }

    /// From a normaliser's counts: tiles seen and tiles it fell back on.
    public init(slideID: String, tiles: Int, fallbacks: Int) {
        self.init(slideID: slideID, normalizedTiles: tiles - fallbacks, unnormalizedTiles: fallbacks)
    }
}
