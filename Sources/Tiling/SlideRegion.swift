/// A rectangle of a slide in level-0 pixels: `x`, `y` its top-left corner.
public struct SlideRegion: Equatable, Sendable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        (self.x, self.y, self.width, self.height) = (x, y, width, height)
    }

    /// `x,y,w,h`, as written after `@` in `--stain-reference slide:PATH@x,y,w,h`.
    public var description: String { "\(x),\(y),\(width),\(height)" }

    /// Whether a square of side `size` at (`x`, `y`) lies wholly inside.
    public func contains(x px: Int, y py: Int, size: Int) -> Bool {
        px >= x && py >= y && px + size <= x + width && py + size <= y + height
    }

    /// Whether it lies within a level-0 image of `width` × `height`.
    public func isInside(width w: Int, height h: Int) -> Bool { x >= 0 && y >= 0 && x + width <= w && y + height <= h }
}

extension TilingPlan {
    /// Level-0 pixels a tile spans (its footprint at level 0, rounded up).
    public var levelZeroSpan: Int { Int((Double(tileSize) * downsample).rounded(.up)) }

    /// The grid positions whose tile lies wholly inside `region` (all of them without one), thinned
    /// to every `step`-th row and column where more than `maxPositions` qualify, so that a reference
    /// cut from a whole slide reads a bounded part of it, spread over all of it.
    public func positions(in region: SlideRegion?, maxPositions: Int) -> [Int] {
        let span = levelZeroSpan
        let inside = (0..<count).filter { i in
            guard let region else { return true }
            let o = origin(i)
            return region.contains(x: o.x, y: o.y, size: span)
        }
        guard inside.count > maxPositions, maxPositions > 0 else { return inside }
        let step = Int((Double(inside.count) / Double(maxPositions)).squareRoot().rounded(.up))
        return inside.filter { ($0 % columns) % step == 0 && ($0 / columns) % step == 0 }
    }
}
