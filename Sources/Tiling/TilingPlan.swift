/// What the tiler knows of a slide's pyramid, from OpenSlide.
public struct SlideGeometry: Sendable, Equatable {
    public var levelSizes: [(width: Int, height: Int)]
    public var levelDownsamples: [Double]
    /// µm per level-0 pixel.
    public var mpp: Double?
    public var objectivePower: Double?

    public init(levelSizes: [(width: Int, height: Int)], levelDownsamples: [Double], mpp: Double?, objectivePower: Double?) {
        precondition(!levelSizes.isEmpty && levelSizes.count == levelDownsamples.count)
        self.levelSizes = levelSizes
        self.levelDownsamples = levelDownsamples
        self.mpp = mpp
        self.objectivePower = objectivePower
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.levelSizes.map { [$0.width, $0.height] } == b.levelSizes.map { [$0.width, $0.height] }
            && a.levelDownsamples == b.levelDownsamples && a.mpp == b.mpp && a.objectivePower == b.objectivePower
    }

    /// The finest level whose downsample does not exceed `downsample` (never upsample).
    public func level(forDownsample downsample: Double) -> Int {
        var best = 0
        for (i, d) in levelDownsamples.enumerated() where d <= downsample * (1 + 1e-9) && d > levelDownsamples[best] { best = i }
        return best
    }
}

/// Why a slide cannot be tiled at the requested resolution.
public struct TilingPlanError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
}

/// Where the tiles of one slide are and how to read each: the pyramid level to read, the size of
/// the region at that level (possibly fractional), and the level-0 origin of every grid position.
public struct TilingPlan: Sendable, Equatable {
    public let tileSize: Int
    /// Level-0 pixels per tile pixel.
    public let downsample: Double
    public let level: Int
    public let levelDownsample: Double
    /// Side of one tile's footprint in pixels of `level` (= tileSize · downsample / levelDownsample).
    public let footprint: Double
    /// µm per tile pixel, when known.
    public let mpp: Double?
    public let columns: Int
    public let rows: Int
    /// Level-0 step between neighbouring tiles.
    public let stride: Double

    /// Builds the plan. `assumeMPP` stands in for a slide that records neither mpp nor objective
    /// power; without it such a slide cannot be tiled at a physical resolution.
    public init(geometry g: SlideGeometry, target: TilingTarget, tileSize: Int, overlap: Int = 0,
                assumeMPP: Double? = nil) throws {
        precondition(tileSize > 0 && overlap >= 0 && overlap < tileSize, "bad tile size \(tileSize) / overlap \(overlap)")
        let slideMPP = g.mpp ?? assumeMPP
        switch target {
        case let .level(n):
            guard n >= 0 && n < g.levelSizes.count else {
                throw TilingPlanError(message: "level \(n) does not exist (the slide has levels 0–\(g.levelSizes.count - 1))")
            }
            downsample = g.levelDownsamples[n]
            mpp = slideMPP.map { $0 * g.levelDownsamples[n] }
        case let .mpp(target):
            guard let slideMPP else {
                throw TilingPlanError(message: "the slide records no microns per pixel (openslide.mpp-x); pass --assume-mpp to tile it anyway, or leave it out")
            }
            downsample = target / slideMPP
            mpp = target
        case let .magnification(target):
            if let power = g.objectivePower {
                downsample = power / target
                mpp = slideMPP.map { $0 * power / target }
            } else if let slideMPP {
                // 10/mpp is the convention scanners use (0.25 µm/px = 40×, 0.5 µm/px = 20×).
                downsample = (10 / slideMPP) / target
                mpp = slideMPP * downsample
            } else {
                throw TilingPlanError(message: "the slide records neither objective power nor microns per pixel; pass --assume-mpp to tile it anyway, or leave it out")
            }
        }
        guard downsample >= 1 - 1e-9 else {
            throw TilingPlanError(message: String(format: "the requested resolution needs %.2f× upsampling of the scan; choose a lower magnification (a larger --mpp)", 1 / downsample))
        }
        self.tileSize = tileSize
        level = g.level(forDownsample: downsample)
        levelDownsample = g.levelDownsamples[level]
        footprint = Double(tileSize) * downsample / levelDownsample
        stride = Double(tileSize - overlap) * downsample
        let (w0, h0) = g.levelSizes[0]
        // Whole tiles only: a tile's footprint must lie inside level 0.
        let size0 = Double(tileSize) * downsample
        columns = Double(w0) + 1e-6 >= size0 ? Int(((Double(w0) - size0) / stride + 1e-9).rounded(.down)) + 1 : 0
        rows = Double(h0) + 1e-6 >= size0 ? Int(((Double(h0) - size0) / stride + 1e-9).rounded(.down)) + 1 : 0
    }

    public var count: Int { columns * rows }

    /// Level-0 origin of tile `index` (row-major).
    public func origin(_ index: Int) -> (x: Int, y: Int) {
        let c = index % columns, r = index / columns
        return (Int((Double(c) * stride).rounded()), Int((Double(r) * stride).rounded()))
    }

    /// Pixels to request from `level` for one tile: the footprint rounded up.
    public var readSize: Int { Int((footprint - 1e-6).rounded(.up)) }

    /// True when tiles are read as they are, without resampling.
    public var isExact: Bool { abs(footprint - Double(tileSize)) < 1e-6 }
}
