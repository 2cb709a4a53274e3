import JPEG
import TIFF
import TesseraCore

/// Reads regions of a `DirectJPEGSource` on one thread: each source tile the region overlaps is
/// read raw, spliced with its level's tables and decoded once, then copied into place; decoded
/// tiles stay in the source's cache (shared by its threads) for the neighbouring regions that
/// share them. A tile that lies wholly inside the region and that no other planned region needs is
/// decoded straight into the region.
///
/// Level-0 coordinates map to a level by dividing by its downsample and rounding to the nearest
/// pixel. OpenSlide instead paints at the fractional offset (interpolating), so on levels above 0
/// at origins that are not whole level pixels the two differ; at level 0 they are the same pixels.
final class DirectRegionReader: RegionReader {
    private let source: DirectJPEGSource
    private let file: TIFFTileReader
    private let decoder: JPEGDecoder
    private let cache: DecodedTileCache
    private var raw: [UInt8] = []
    private var stream: [UInt8] = []

    init(source: DirectJPEGSource, file: TIFFTileReader, cache: DecodedTileCache) throws {
        self.source = source
        self.file = file
        self.cache = cache
        decoder = try JPEGDecoder()
    }

    func readRegion(x: Int, y: Int, level: Int, width: Int, height: Int) throws -> RGBImage {
        try readRegion(x: x, y: y, level: level, width: width, height: height, scale: 1)!
    }

    func readRegion(x: Int, y: Int, level: Int, width: Int, height: Int, scale: Int) throws -> RGBImage? {
        guard let area = source.area(x: x, y: y, level: level, width: width, height: height, scale: scale) else { return nil }
        return try read(area)
    }

    private func read(_ a: DirectJPEGSource.Area) throws -> RGBImage {
        let (x, y, width, height) = (a.x, a.y, a.width, a.height)
        let d = source.levels[a.level].directory
        let tw = d.tileWidth / a.scale, th = d.tileHeight / a.scale
        let (x0, x1, y0, y1) = (a.clipped.x0, a.clipped.x1, a.clipped.y0, a.clipped.y1)
        // A region inside the level is covered by its tiles (a tile's decoded size is its full
        // size inside the level), so only one that reaches past an edge needs the white fill.
        let inside = x0 == x && y0 == y && x1 == x + width && y1 == y + height
        var out = inside ? [UInt8](unsafeUninitializedCapacity: width * height * 3) { _, count in count = width * height * 3 }
            : [UInt8](repeating: 255, count: width * height * 3)
        for key in a.keys {
            let (column, row) = (key.column, key.row)
            let left = column * tw, top = row * th
            // Wholly inside the region and needed by no other planned region: decode in place.
            if left >= x0 && left + tw <= x1 && top >= y0 && top + th <= y1 && cache.takeSoleUse(key) {
                let at = ((top - y) * width + (left - x)) * 3
                let size = try out.withUnsafeMutableBytes { o in
                    try decode(key, into: UnsafeMutableRawBufferPointer(rebasing: o[at...]), pitch: width * 3)
                }
                if size.width < tw || size.height < th {
                    // A tile that decodes smaller than its place in the grid leaves glass (white).
                    out.withUnsafeMutableBytes { o in
                        for yy in 0..<th {
                            let from = yy < size.height ? size.width : 0
                            o.baseAddress!.advanced(by: at + yy * width * 3 + from * 3).initializeMemory(as: UInt8.self, repeating: 255, count: (tw - from) * 3)
                        }
                    }
                }
                continue
            }
            let (tile, mustDecode) = cache.acquire(key, bytes: tw * th * 3)
            if mustDecode {
                do {
                    let size = try tile.pixels.withUnsafeMutableBytes { try decode(key, into: $0, pitch: tw * 3) }
                    cache.decoded(tile, width: min(size.width, tw), height: min(size.height, th))
                } catch {
                    cache.failed(key, tile)
                    throw error
                }
            }
            defer { cache.release(key, tile) }
            let ix0 = max(x0, left), ix1 = min(x1, left + tile.width), nx1 = min(x1, left + tw)
            let iy0 = max(y0, top), iy1 = min(y1, top + tile.height), ny1 = min(y1, top + th)
            out.withUnsafeMutableBytes { o in
                tile.pixels.withUnsafeBytes { t in
                    for yy in iy0..<ny1 {
                        let to = ((yy - y) * width + (ix0 - x)) * 3
                        // A tile that decodes smaller than its place in the grid leaves glass (white).
                        let copied = yy < iy1 ? max(0, ix1 - ix0) : 0
                        if copied > 0 {
                            let from = ((yy - top) * tw + (ix0 - left)) * 3
                            o.baseAddress!.advanced(by: to).copyMemory(from: t.baseAddress!.advanced(by: from), byteCount: copied * 3)
                        }
                        if ix0 + copied < nx1 {
                            o.baseAddress!.advanced(by: to + copied * 3).initializeMemory(as: UInt8.self, repeating: 255, count: (nx1 - ix0 - copied) * 3)
                        }
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// Decodes tile `key` at 1/`key.scale` into `destination` (rows `pitch` bytes apart); its size.
    private func decode(_ key: DecodedTileCache.Key, into destination: UnsafeMutableRawBufferPointer, pitch: Int) throws -> (width: Int, height: Int) {
        let lv = source.levels[key.level]
        let d = lv.directory
        let (tw, th) = (d.tileWidth / key.scale, d.tileHeight / key.scale)
        let at = "level \(key.level) tile (\(key.column), \(key.row)) at level pixels (\(key.column * d.tileWidth), \(key.row * d.tileHeight))"
        do {
            let count = try file.readRawTile(directory: d.index, column: key.column, row: key.row, into: &raw)
            if count == 0 {
                // A tile the scanner left out: glass.
                for yy in 0..<th {
                    UnsafeMutableRawBufferPointer(rebasing: destination[(yy * pitch)..<(yy * pitch + tw * 3)]).initializeMemory(as: UInt8.self, repeating: 255)
                }
                return (tw, th)
            }
            guard let length = raw.withUnsafeBytes({ lv.splice.splice(tile: UnsafeRawBufferPointer(rebasing: $0[0..<count]), into: &stream) }) else {
                throw SlideReadError(path: source.path, message: "\(at): the tile is not a JPEG stream (no SOI marker); the slide file is damaged")
            }
            let size = try stream.withUnsafeBytes { s in
                try decoder.decode(UnsafeRawBufferPointer(rebasing: s[0..<length]), scale: key.scale, into: destination, pitch: pitch, limit: (tw, th))
            }
            return size
        } catch let error as SlideReadError {
            throw error
        } catch {
            throw SlideReadError(path: source.path, message: "\(at): \(error); the slide file is damaged there (OpenSlide would show grey or garbage): re-export or re-scan it, or leave it out of the manifest")
        }
    }
}
