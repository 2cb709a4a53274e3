/// What a store keeps about one tile besides its pixels. The tile's slide is the one it was added
/// under (`TileStoreWriter.beginSlide`).
public struct TileRecord: Equatable, Sendable {
    /// Index into the store's classes; `TileStoreSchema.unlabelled` (−1) when unlabelled.
    public var label: Int32
    /// Level-0 coordinates of the top-left corner.
    public var x: Int64
    public var y: Int64
    /// Fraction of background pixels, 0…1.
    public var background: Float

    public init(label: Int32, x: Int64, y: Int64, background: Float) {
        self.label = label
        self.x = x
        self.y = y
        self.background = background
    }
}

/// Every tile's record in a file, column by column (as stored): what the trainer reads once to
/// pick its shard and labels.
public struct TileColumns: Equatable, Sendable {
    /// [N] index into the classes, −1 = unlabelled.
    public var labels: [Int32]
    /// [N] row in the slide table.
    public var slides: [Int32]
    /// [N] level-0 top-left corner.
    public var x: [Int64]
    public var y: [Int64]
    /// [N] background fraction.
    public var background: [Float]

    public var count: Int { labels.count }

    public func record(_ index: Int) -> TileRecord {
        TileRecord(label: labels[index], x: x[index], y: y[index], background: background[index])
    }
}

// In an extension, so that the struct keeps its memberwise initialiser (internal: the reader's).
extension TileColumns {
    /// No tiles.
    public init() { self.init(labels: [], slides: [], x: [], y: [], background: []) }
}
