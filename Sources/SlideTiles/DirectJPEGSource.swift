import Foundation
import OpenSlide
import TIFF

/// A slide whose levels are JPEG-tiled TIFF directories (Aperio `.svs`, generic tiled TIFF): its
/// pixels are read as raw tiles with libtiff and decoded with TurboJPEG, without OpenSlide.
///
/// It applies only when every OpenSlide level is a tiled directory of the same size with 8-bit,
/// 3-sample, interleaved JPEG in RGB or YCbCr; anything else (JPEG 2000 Aperio, other vendors,
/// separate planes, odd bit depths) is read by OpenSlide. Geometry (levels, downsamples, mpp) stays
/// OpenSlide's, so the tiling plan is the same on both paths.
public final class DirectJPEGSource: SlideSource, @unchecked Sendable {
    public let slide: Slide
    public var path: String { slide.path }
    public var kind: SlideReaderKind { .directJPEG }
    /// The TIFF directory of each OpenSlide level.
    let levels: [DirectLevel]
    private let lock = NSLock()
    private var firstFile: TIFFTileReader?

    struct DirectLevel: Sendable {
        let directory: TIFFDirectoryInfo
        let downsample: Double
        let splice: JPEGStreamSplice
    }

    /// Why a slide is read by OpenSlide instead.
    public struct Ineligible: Error, Sendable {
        public let message: String
    }

    /// Decoded source tiles, shared by the threads' readers.
    let cache: DecodedTileCache

    /// The most bytes of decoded source tiles kept by default. Planned tiling (`expect`) keeps
    /// about one row of source tiles across the slide (~40 MB on a 50,000-pixel-wide 20× slide at
    /// full scale, a quarter of that at ½): within the budget, no tile is decoded twice.
    public static let defaultCacheBytes = 64 << 20

    private init(slide: Slide, levels: [DirectLevel], file: TIFFTileReader, cacheBytes: Int) {
        self.slide = slide
        self.levels = levels
        firstFile = file
        cache = DecodedTileCache(budget: cacheBytes)
    }

    /// The direct source for `slide`, or why it does not apply.
    public static func open(slide: Slide, cacheBytes: Int = defaultCacheBytes) -> Result<DirectJPEGSource, Ineligible> {
        let vendor = slide.vendor ?? "unknown"
        guard vendor == "aperio" || vendor == "generic-tiff" else {
            return .failure(Ineligible(message: "vendor \(vendor) is not a tiled TIFF"))
        }
        let file: TIFFTileReader
        do { file = try TIFFTileReader(path: slide.path) } catch {
            return .failure(Ineligible(message: "libtiff cannot open it: \(error)"))
        }
        var used = Set<Int>()
        var levels: [DirectLevel] = []
        for level in 0..<slide.levelCount {
            let (w, h) = slide.dimensions(level: level)
            guard let dir = file.directories.first(where: { $0.isTiled && $0.width == w && $0.height == h && !used.contains($0.index) }) else {
                return .failure(Ineligible(message: "level \(level) (\(w)×\(h)) is not a tiled directory"))
            }
            used.insert(dir.index)
            if let problem = unsupported(dir) {
                return .failure(Ineligible(message: "level \(level) (directory \(dir.index)) \(problem)"))
            }
            guard let splice = JPEGStreamSplice(tables: dir.jpegTables, rgb: dir.photometric == TIFFDirectoryInfo.photometricRGB) else {
                return .failure(Ineligible(message: "level \(level) has JPEG tables that are not a JPEG stream"))
            }
            levels.append(DirectLevel(directory: dir, downsample: slide.downsample(level: level), splice: splice))
        }
        return .success(DirectJPEGSource(slide: slide, levels: levels, file: file, cacheBytes: cacheBytes))
    }

    /// What the direct path cannot read in a directory, or nil.
    static func unsupported(_ d: TIFFDirectoryInfo) -> String? {
        if d.compression != TIFFDirectoryInfo.compressionJPEG { return "has compression \(d.compression), not JPEG (7)" }
        if d.bitsPerSample != 8 || d.samplesPerPixel != 3 { return "has \(d.samplesPerPixel) samples of \(d.bitsPerSample) bits, not 3 × 8" }
        if d.planarConfig != 1 { return "stores colour planes separately" }
        if d.photometric != TIFFDirectoryInfo.photometricRGB && d.photometric != TIFFDirectoryInfo.photometricYCbCr {
            return "has photometric \(d.photometric), not RGB or YCbCr"
        }
        if d.tileWidth % 8 != 0 || d.tileHeight % 8 != 0 { return "has \(d.tileWidth)×\(d.tileHeight) tiles, not a multiple of 8" }
        return nil
    }

    /// For the log: tile size, colour and tables of level 0.
    public var summary: String {
        let d = levels[0].directory
        let colour = d.photometric == TIFFDirectoryInfo.photometricRGB ? "RGB" : "YCbCr"
        return "\(levels.count) level\(levels.count == 1 ? "" : "s"), \(d.tileWidth)×\(d.tileHeight) \(colour) tiles, \(d.jpegTables == nil ? "no shared tables" : "shared JPEG tables")"
    }

    public func makeRegionReader() throws -> any RegionReader {
        lock.lock()
        let file = firstFile
        firstFile = nil
        lock.unlock()
        return try DirectRegionReader(source: self, file: file ?? TIFFTileReader(path: path), cache: cache)
    }

    public func expect(_ reads: [RegionRequest]) {
        cache.expect(reads.flatMap { r in area(x: r.x, y: r.y, level: r.level, width: r.width, height: r.height, scale: r.scale)?.keys ?? [] })
    }

    public var decodeCounts: SourceTileCounts? {
        let c = cache.statistics
        return SourceTileCounts(decoded: c.decoded, planned: c.planned, decodedInPlace: c.decodedInPlace, waits: c.waits, peakCacheBytes: c.peakBytes)
    }

    /// A region in pixels of `level` reduced 1/`scale`, clipped to the level, and the source tiles it overlaps.
    struct Area {
        let level: Int, scale: Int
        let x: Int, y: Int, width: Int, height: Int
        let clipped: (x0: Int, x1: Int, y0: Int, y1: Int)
        /// Row by row, left to right.
        let keys: [DecodedTileCache.Key]
    }

    /// The area of a region given in level-0 coordinates and `width` × `height` pixels of `level`
    /// reduced 1/`scale` (1, 2, 4 or 8); nil when the decoder cannot reduce it that way.
    func area(x: Int, y: Int, level: Int, width: Int, height: Int, scale: Int) -> Area? {
        precondition(width > 0 && height > 0, "empty region \(width)×\(height)")
        guard [1, 2, 4, 8].contains(scale) else { return nil }
        let d = levels[level].directory
        let ds = levels[level].downsample
        // Level-0 coordinates to the level, rounded to the nearest pixel.
        let (lx, ly) = level == 0 ? (x, y) : (Int((Double(x) / ds).rounded()), Int((Double(y) / ds).rounded()))
        // The reduced tiles must tile the reduced level exactly, and the region start on a reduced pixel.
        guard d.tileWidth % scale == 0, d.tileHeight % scale == 0, lx % scale == 0, ly % scale == 0 else { return nil }
        let (rx, ry) = (lx / scale, ly / scale)
        let tw = d.tileWidth / scale, th = d.tileHeight / scale
        // Pixels past the level's right and bottom edges are padding: white, as in OpenSlide.
        let x0 = max(rx, 0), x1 = min(rx + width, (d.width + scale - 1) / scale)
        let y0 = max(ry, 0), y1 = min(ry + height, (d.height + scale - 1) / scale)
        var keys: [DecodedTileCache.Key] = []
        if x0 < x1 && y0 < y1 {
            for row in (y0 / th)...((y1 - 1) / th) {
                for column in (x0 / tw)...((x1 - 1) / tw) { keys.append(.init(level: level, column: column, row: row, scale: scale)) }
            }
        }
        return Area(level: level, scale: scale, x: rx, y: ry, width: width, height: height, clipped: (x0, x1, y0, y1), keys: keys)
    }
}
