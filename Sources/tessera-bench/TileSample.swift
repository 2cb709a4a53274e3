import OpenSlide
import TesseraCore

/// The level-0 corner of one tile.
struct TilePosition: Sendable, Equatable {
    let x: Int
    let y: Int
}

/// Which tiles a read benchmark reads: cells of the level-0 grid of `tileSize` tiles (so distinct and
/// non-overlapping) that lie mostly on tissue, as the tiler would keep them, in a seeded random order.
enum TileSample {
    /// Above this many pixels the lowest level is too large to scan for tissue, and every cell counts.
    static let maxScanPixels = 32_000_000
    /// A cell is tissue when at least this share of its pixels is.
    static let minTissue = 0.5

    /// A pixel is tissue when it is clearly darker than glass (mean of R, G, B below 215).
    @inline(__always) static func isTissue(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Bool {
        Int(r) + Int(g) + Int(b) < 3 * 215
    }

    /// The share of `image`'s pixels that are tissue.
    static func tissueFraction(_ image: RGBImage) -> Double {
        var tissue = 0
        let p = image.pixels
        for i in stride(from: 0, to: p.count, by: 3) where isTissue(p[i], p[i + 1], p[i + 2]) { tissue += 1 }
        return Double(tissue) / Double(max(1, image.width * image.height))
    }

    static func tissueTiles(of slide: Slide, tileSize: Int, count: Int, seed: UInt64) throws -> [TilePosition] {
        let (width, height) = slide.dimensions(level: 0)
        let columns = width / tileSize, rows = height / tileSize
        guard columns * rows > 0 else {
            throw BenchError.missingInput("\(slide.path) (\(width)×\(height)) is smaller than one \(tileSize)² tile", hint: "")
        }
        var cells = (0..<rows).flatMap { r in (0..<columns).map { c in TilePosition(x: c * tileSize, y: r * tileSize) } }
        let tissue = try tissueMask(of: slide, columns: columns, rows: rows, tileSize: tileSize)
        let onTissue = zip(cells, tissue).filter(\.1).map(\.0)
        if onTissue.count >= min(count, 8) {
            cells = onTissue
        } else {
            Log.warning("\(slide.path): only \(onTissue.count) of \(columns * rows) tiles lie on tissue; reading tiles from the whole grid")
        }
        var rng = SeededGenerator(seed: seed)
        let chosen = Array(cells.shuffled(using: &rng).prefix(count))
        Log.info("\(slide.path): \(width)×\(height), \(onTissue.count) of \(columns * rows) \(tileSize)² grid cells on tissue; reading \(chosen.count) per pass")
        return chosen
    }

    /// For each grid cell, row by row: whether it is mostly tissue, judged on the slide's lowest level.
    static func tissueMask(of slide: Slide, columns: Int, rows: Int, tileSize: Int) throws -> [Bool] {
        let level = slide.levelCount - 1
        let (w, h) = slide.dimensions(level: level)
        guard w * h <= maxScanPixels else {
            Log.warning("\(slide.path): lowest level \(w)×\(h) is too large to scan for tissue; counting every tile")
            return Array(repeating: true, count: columns * rows)
        }
        let image = try slide.readRegion(x: 0, y: 0, level: level, width: w, height: h)
        let down = slide.downsample(level: level)
        var mask: [Bool] = []
        mask.reserveCapacity(columns * rows)
        for r in 0..<rows {
            for c in 0..<columns {
                let x0 = Int(Double(c * tileSize) / down), x1 = min(w, max(x0 + 1, Int(Double((c + 1) * tileSize) / down)))
                let y0 = Int(Double(r * tileSize) / down), y1 = min(h, max(y0 + 1, Int(Double((r + 1) * tileSize) / down)))
                var tissue = 0, total = 0
                for y in y0..<y1 {
                    for x in x0..<x1 {
                        let (red, green, blue) = image.pixel(x: x, y: y)
                        if isTissue(red, green, blue) { tissue += 1 }
                        total += 1
                    }
                }
                mask.append(total > 0 && Double(tissue) >= minTissue * Double(total))
            }
        }
        return mask
    }
}
