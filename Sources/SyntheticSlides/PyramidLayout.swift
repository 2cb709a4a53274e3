/// The levels of a slide pyramid: level 0 at full size, each next level a quarter of the width
/// and height of the one above (downsample 1, 4, 16, …, sizes rounded down), for as long as the
/// next level is at least one tile across.
public struct PyramidLayout: Equatable, Sendable {
    public struct Level: Equatable, Sendable {
        public let width: Int
        public let height: Int
        /// Level-0 pixels per pixel of this level, along each axis (4^k).
        public let downsample: Int
    }

    public static let factor = 4
    public let tileSize: Int
    public let levels: [Level]

    public init(width: Int, height: Int, tileSize: Int) {
        precondition(width > 0 && height > 0 && tileSize > 0, "bad pyramid \(width)×\(height), tile \(tileSize)")
        self.tileSize = tileSize
        var levels = [Level(width: width, height: height, downsample: 1)]
        while let last = levels.last {
            let next = Level(width: last.width / Self.factor, height: last.height / Self.factor,
                             downsample: last.downsample * Self.factor)
            guard max(next.width, next.height) >= tileSize, min(next.width, next.height) >= 1 else { break }
            levels.append(next)
        }
        self.levels = levels
    }

    /// Tile rows of `level` (the last may be partial).
    public func tileRows(_ level: Int) -> Int { (levels[level].height + tileSize - 1) / tileSize }
    /// Tile columns of `level` (the last may be partial).
    public func tileColumns(_ level: Int) -> Int { (levels[level].width + tileSize - 1) / tileSize }
}
