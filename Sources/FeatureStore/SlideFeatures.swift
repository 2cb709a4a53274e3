/// One slide's tile embeddings and where each tile is: what a feature file holds.
public struct SlideFeatures: Equatable, Sendable {
    public var slideID: String
    public var patientID: String
    public var label: String?
    /// D.
    public var width: Int
    /// N × D, row-major: tile k is `features[k*D ..< (k+1)*D]`.
    public var features: [Float]
    /// Level-0 top-left corners, one per tile.
    public var x: [Int64]
    public var y: [Int64]
    public var provenance: Provenance

    /// How the embeddings were made; empty for files made elsewhere that do not say.
    public struct Provenance: Equatable, Sendable {
        public var model = ""
        public var modelDigest = ""
        public var layer = ""
        public var tileSize = 0
        public var level = 0
        public var downsample = 1.0
        /// nil when unknown.
        public var mpp: Double?

        public init(model: String = "", modelDigest: String = "", layer: String = "", tileSize: Int = 0, level: Int = 0,
                    downsample: Double = 1, mpp: Double? = nil) {
            self.model = model
            self.modelDigest = modelDigest
            self.layer = layer
            self.tileSize = tileSize
            self.level = level
            self.downsample = downsample
            self.mpp = mpp
        }
    }

    public init(slideID: String, patientID: String, label: String?, width: Int, features: [Float], x: [Int64], y: [Int64],
                provenance: Provenance = Provenance()) {
        precondition(width > 0 && features.count == x.count * width && x.count == y.count,
                     "slide \(slideID): \(features.count) feature values for \(x.count) tiles of width \(width)")
        self.slideID = slideID
        self.patientID = patientID
        self.label = label
        self.width = width
        self.features = features
        self.x = x
        self.y = y
        self.provenance = provenance
    }

    public var tileCount: Int { x.count }

    /// Tile k's embedding.
    public func tile(_ k: Int) -> ArraySlice<Float> { features[(k * width)..<((k + 1) * width)] }
}
