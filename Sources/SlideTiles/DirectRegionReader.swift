import JPEG
import TIFF
import TesseraCore

/// Reads regions of a `DirectJPEGSource` on one thread: each source tile the region overlaps is
/// read raw, spliced with its level's tables and decoded once, then copied into place; decoded
/// tiles stay in a small cache for the neighbouring regions that share them.
///
/// Level-0 coordinates map to a level by dividing by its downsample and rounding to the nearest
/// pixel. OpenSlide instead paints at the fractional offset (interpolating), so on levels above 0
/// at origins that are not whole level pixels the two differ; at level 0 they are the same pixels.
final class DirectRegionReader: RegionReader {
    private let source: DirectJPEGSource
    private let file: TIFFTileReader
    private let decoder: JPEGDecoder
    private var raw: [UInt8] = []
    private var stream: [UInt8] = []
    private var cache: DecodedTileCache

    init(source: DirectJPEGSource, file: TIFFTileReader) throws {
        self.source = source
        self.file = file
        decoder = try JPEGDecoder()
        let d = source.levels[0].directory
        cache = DecodedTileCache(capacity: max(16, source.cacheBytes / max(1, d.tileWidth * d.tileHeight * 3)))
    }

    func readRegion(x: Int, y: Int, level: Int, width: Int, height: Int) throws -> RGBImage {
        let (lx, ly) = levelOrigin(x: x, y: y, level: level)
        return try read(x: lx, y: ly, level: level, width: width, height: height, scale: 1)
    }

    func readRegion(x: Int, y: Int, level: Int, width: Int, height: Int, scale: Int) throws -> RGBImage? {
        guard [2, 4, 8].contains(scale) else { return scale == 1 ? try readRegion(x: x, y: y, level: level, width: width, height: height) : nil }
        let d = source.levels[level].directory
        let (lx, ly) = levelOrigin(x: x, y: y, level: level)
        // The reduced tiles must tile the reduced level exactly, and the region start on a reduced pixel.
        guard d.tileWidth % scale == 0, d.tileHeight % scale == 0, lx % scale == 0, ly % scale == 0 else { return nil }
        return try read(x: lx / scale, y: ly / scale, level: level, width: width, height: height, scale: scale)
    }

    private func levelOrigin(x: Int, y: Int, level: Int) -> (Int, Int) {
        let ds = source.levels[level].downsample
        return level == 0 ? (x, y) : (Int((Double(x) / ds).rounded()), Int((Double(y) / ds).rounded()))
    }

    /// `x`, `y`, `width`, `height` in pixels of the level reduced 1/`scale`.
    private func read(x: Int, y: Int, level: Int, width: Int, height: Int, scale: Int) throws -> RGBImage {
        precondition(width > 0 && height > 0, "empty region \(width)×\(height)")
        let d = source.levels[level].directory
        let tw = d.tileWidth / scale, th = d.tileHeight / scale
        // Pixels past the level's right and bottom edges are padding: white, as in OpenSlide.
        let x0 = max(x, 0), x1 = min(x + width, (d.width + scale - 1) / scale)
        let y0 = max(y, 0), y1 = min(y + height, (d.height + scale - 1) / scale)
        // A region inside the level is covered by its tiles (a tile's decoded size is its full
        // size inside the level), so only one that reaches past an edge needs the white fill.
        let inside = x0 == x && y0 == y && x1 == x + width && y1 == y + height
        var out = inside ? [UInt8](unsafeUninitializedCapacity: width * height * 3) { _, count in count = width * height * 3 }
            : [UInt8](repeating: 255, count: width * height * 3)
        guard x0 < x1 && y0 < y1 else { return RGBImage(width: width, height: height, pixels: out) }
        for row in (y0 / th)...((y1 - 1) / th) {
            for column in (x0 / tw)...((x1 - 1) / tw) {
                let slot = try decodedTile(level: level, column: column, row: row, scale: scale)
                let tile = cache.entry(slot)
                let ix0 = max(x0, column * tw), ix1 = min(x1, column * tw + tile.width), nx1 = min(x1, column * tw + tw)
                let iy0 = max(y0, row * th), iy1 = min(y1, row * th + tile.height), ny1 = min(y1, row * th + th)
                out.withUnsafeMutableBytes { o in
                    tile.pixels.withUnsafeBytes { t in
                        for yy in iy0..<ny1 {
                            let to = ((yy - y) * width + (ix0 - x)) * 3
                            // A tile that decodes smaller than its place in the grid leaves glass (white).
                            let copied = yy < iy1 ? max(0, ix1 - ix0) : 0
                            if copied > 0 {
                                let from = ((yy - row * th) * tw + (ix0 - column * tw)) * 3
                                o.baseAddress!.advanced(by: to).copyMemory(from: t.baseAddress!.advanced(by: from), byteCount: copied * 3)
                            }
                            if ix0 + copied < nx1 {
                                o.baseAddress!.advanced(by: to + copied * 3).initializeMemory(as: UInt8.self, repeating: 255, count: (nx1 - ix0 - copied) * 3)
                            }
                        }
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// The cache slot holding tile (`column`, `row`) of `level` decoded at 1/`scale`.
    private func decodedTile(level: Int, column: Int, row: Int, scale: Int) throws -> Int {
        let key = DecodedTileCache.Key(level: level, column: column, row: row, scale: scale)
        if let slot = cache.lookup(key) { return slot }
        let lv = source.levels[level]
        let d = lv.directory
        let slot = cache.claim(key, bytes: (d.tileWidth / scale) * (d.tileHeight / scale) * 3)
        let at = "level \(level) tile (\(column), \(row)) at level pixels (\(column * d.tileWidth), \(row * d.tileHeight))"
        do {
            let count = try file.readRawTile(directory: d.index, column: column, row: row, into: &raw)
            if count == 0 {
                // A tile the scanner left out: glass.
                cache.fill(slot, width: d.tileWidth / scale, height: d.tileHeight / scale, value: 255)
                return slot
            }
            guard let length = raw.withUnsafeBytes({ lv.splice.splice(tile: UnsafeRawBufferPointer(rebasing: $0[0..<count]), into: &stream) }) else {
                throw SlideReadError(path: source.path, message: "\(at): the tile is not a JPEG stream (no SOI marker); the slide file is damaged")
            }
            let size = try stream.withUnsafeBytes { s in
                try cache.withPixels(slot) { p in
                    try decoder.decode(UnsafeRawBufferPointer(rebasing: s[0..<length]), scale: scale, into: p, pitch: (d.tileWidth / scale) * 3)
                }
            }
            cache.setSize(slot, width: min(size.width, d.tileWidth / scale), height: min(size.height, d.tileHeight / scale))
            return slot
        } catch let error as SlideReadError {
            cache.drop(slot)
            throw error
        } catch {
            cache.drop(slot)
            throw SlideReadError(path: source.path, message: "\(at): \(error); the slide file is damaged there (OpenSlide would show grey or garbage): re-export or re-scan it, or leave it out of the manifest")
        }
    }
}

/// Decoded source tiles of one thread, least recently used evicted first; buffers are reused.
struct DecodedTileCache {
    struct Key: Hashable {
        let level: Int, column: Int, row: Int, scale: Int
    }
    struct Entry {
        var key: Key?
        var pixels: [UInt8] = []
        var width = 0
        var height = 0
        var lastUse = 0
    }

    let capacity: Int
    private var entries: [Entry] = []
    private var slots: [Key: Int] = [:]
    private var clock = 0

    init(capacity: Int) { self.capacity = capacity }

    func entry(_ slot: Int) -> Entry { entries[slot] }

    mutating func lookup(_ key: Key) -> Int? {
        guard let slot = slots[key] else { return nil }
        clock += 1
        entries[slot].lastUse = clock
        return slot
    }

    /// A slot for `key` with at least `bytes` of pixels (a new one, or the least recently used).
    mutating func claim(_ key: Key, bytes: Int) -> Int {
        clock += 1
        let slot: Int
        if entries.count < capacity {
            entries.append(Entry())
            slot = entries.count - 1
        } else {
            slot = entries.indices.min { entries[$0].lastUse < entries[$1].lastUse }!
            if let old = entries[slot].key { slots[old] = nil }
        }
        // Not zeroed: the decoder (or `fill`) writes every byte that is read back.
        if entries[slot].pixels.count < bytes { entries[slot].pixels = [UInt8](unsafeUninitializedCapacity: bytes) { _, n in n = bytes } }
        entries[slot].key = key
        entries[slot].lastUse = clock
        slots[key] = slot
        return slot
    }

    mutating func withPixels<T>(_ slot: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> T) rethrows -> T {
        try entries[slot].pixels.withUnsafeMutableBytes(body)
    }

    mutating func setSize(_ slot: Int, width: Int, height: Int) {
        entries[slot].width = width
        entries[slot].height = height
    }

    mutating func fill(_ slot: Int, width: Int, height: Int, value: UInt8) {
        entries[slot].pixels.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: value) }
        setSize(slot, width: width, height: height)
    }

    mutating func drop(_ slot: Int) {
        if let key = entries[slot].key { slots[key] = nil }
        entries[slot].key = nil
        entries[slot].lastUse = 0
    }
}
