import Tiling

/// One row of a store file's slide table (see `TileStoreSchema`).
public struct SlideRecord: Equatable, Sendable, Codable {
    public var slideID: String
    public var patientID: String
    /// Class name; nil when unlabelled.
    public var label: String?
    /// µm per tile pixel as written; nil when the slide does not say.
    public var mpp: Double?
    /// Pyramid level read.
    public var level: Int
    /// Level-0 pixels per tile pixel.
    public var downsample: Double
    /// Level-0 size in pixels.
    public var width: Int
    public var height: Int
    /// Tiles of this slide in the file. `TileStoreWriter` counts them itself.
    public var tilesKept: Int
    /// Candidate tiles before the background filter.
    public var tilesConsidered: Int
    /// How the tiler read the slide's pixels (`direct-jpeg`, `openslide`); nil in stores written
    /// before it was recorded.
    public var reader: String?
    /// Candidate tiles dropped, by reason (`tiles_dropped_<reason>`); empty in stores written
    /// before the counts (then only kept and considered are known).
    public var tilesDropped: [TileDropReason: Int] = [:]

    public init(slideID: String, patientID: String, label: String?, mpp: Double?, level: Int, downsample: Double,
                width: Int, height: Int, tilesKept: Int = 0, tilesConsidered: Int = 0, reader: String? = nil) {
        self.slideID = slideID
        self.patientID = patientID
        self.label = label
        self.mpp = mpp
        self.level = level
        self.downsample = downsample
        self.width = width
        self.height = height
        self.tilesKept = tilesKept
        self.tilesConsidered = tilesConsidered
        self.reader = reader
    }
}
