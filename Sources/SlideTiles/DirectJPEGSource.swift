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

    /// Bytes of decoded source tiles each thread keeps for neighbouring regions.
    public var cacheBytes = 48 << 20

    private init(slide: Slide, levels: [DirectLevel], file: TIFFTileReader) {
        self.slide = slide
        self.levels = levels
        firstFile = file
    }

    /// The direct source for `slide`, or why it does not apply.
    public static func open(slide: Slide) -> Result<DirectJPEGSource, Ineligible> {
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
        return .success(DirectJPEGSource(slide: slide, levels: levels, file: file))
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
        return try DirectRegionReader(source: self, file: file ?? TIFFTileReader(path: path))
    }
}
