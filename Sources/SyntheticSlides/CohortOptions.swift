/// What a cohort is generated from; equal options give byte-identical cohorts.
public struct CohortOptions: Codable, Equatable, Sendable {
    public var patients: Int
    public var seed: UInt64
    /// Level-0 size of every slide, in pixels.
    public var width: Int
    public var height: Int
    public var tileSize: Int
    public var quality: Int
    /// The realistic profile's knobs; nil for the clean profile (the default look, whose
    /// cohort.json has no such key).
    public var realism: RealismOptions?

    public init(patients: Int, seed: UInt64, width: Int, height: Int, tileSize: Int = 240, quality: Int = 90,
                realism: RealismOptions? = nil) {
        self.patients = patients
        self.seed = seed
        self.width = width
        self.height = height
        self.tileSize = tileSize
        self.quality = quality
        self.realism = realism
    }

    enum CodingKeys: String, CodingKey {
        case patients, seed, width, height, tileSize = "tile_size", quality, realism
    }
}
