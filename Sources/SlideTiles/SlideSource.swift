import Foundation
import OpenSlide
import TesseraCore
import Tiling

/// How a slide's pixels are read.
public enum SlideReaderKind: String, Sendable, Codable, CaseIterable {
    /// Raw JPEG tiles of an Aperio or generic tiled TIFF, read with libtiff and decoded with TurboJPEG.
    case directJPEG = "direct-jpeg"
    /// OpenSlide's `read_region` (every other format, and anything the direct path does not fully understand).
    case openSlide = "openslide"
}

/// Which reader to use when a slide allows more than one.
public enum SlideReaderChoice: String, Sendable, CaseIterable {
    /// The direct JPEG reader where it applies, OpenSlide otherwise.
    case auto
    /// OpenSlide for every slide.
    case openSlide = "openslide"
}

/// One open slide: its pyramid as OpenSlide describes it (the same whichever reader serves the
/// pixels, so the tiling plan does not depend on the reader) and a factory of per-thread readers.
public protocol SlideSource: AnyObject, Sendable {
    var path: String { get }
    var kind: SlideReaderKind { get }
    /// The OpenSlide handle the source was opened from (metadata, associated images).
    var slide: Slide { get }
    /// A reader for one thread. The first call may hand out a reader on `slide` itself.
    func makeRegionReader() throws -> any RegionReader
    /// The regions about to be read (in any order, by any of the readers), so that what they
    /// share is decoded once and let go after its last read. Optional: reads work without it.
    func expect(_ reads: [RegionRequest])
    /// Source tiles decoded so far against the ideal, for a reader that decodes tiles itself.
    var decodeCounts: SourceTileCounts? { get }
}

extension SlideSource {
    public var geometry: SlideGeometry { SlideTiler.geometry(of: slide) }
    public func expect(_ reads: [RegionRequest]) {}
    public var decodeCounts: SourceTileCounts? { nil }
}

/// One region to be read: as `RegionReader.readRegion(x:y:level:width:height:scale:)` takes it.
public struct RegionRequest: Sendable, Equatable {
    public let x: Int, y: Int, level: Int, width: Int, height: Int
    /// 1, or the decoder reduction (2, 4, 8).
    public let scale: Int

    public init(x: Int, y: Int, level: Int, width: Int, height: Int, scale: Int = 1) {
        (self.x, self.y, self.level, self.width, self.height, self.scale) = (x, y, level, width, height, scale)
    }
}

/// How a source that decodes JPEG tiles itself did: decodes against the ideal of one per tile.
public struct SourceTileCounts: Sendable, Equatable {
    /// Source tiles decoded (a tile decoded twice counts twice).
    public var decoded: Int
    /// Distinct source tiles the planned regions need: the fewest decodes possible.
    public var planned: Int
    /// Of `decoded`, those decoded straight into their region (no copy).
    public var decodedInPlace: Int
    /// Times a thread waited for another thread's decode of a tile both needed.
    public var waits: Int
    /// Largest size of the shared cache of decoded tiles.
    public var peakCacheBytes: Int

    /// "1234 source tiles decoded for 1200 needed (1.03 per tile), 410 in place, peak cache 18.2 MB".
    public var summary: String {
        let per = planned > 0 ? String(format: "%.3f", Double(decoded) / Double(planned)) : "-"
        return "\(decoded) source tiles decoded for \(planned) needed (\(per) per tile), \(decodedInPlace) straight into their region, "
            + "\(waits) waits for another thread's decode, peak cache \(String(format: "%.1f", Double(peakCacheBytes) / 1e6)) MB"
    }
}

/// Reads regions of one slide; used by one thread at a time.
public protocol RegionReader: AnyObject {
    /// RGB pixels of a region: `x`, `y` level-0 coordinates, `width` × `height` pixels of `level`;
    /// outside the slide is white.
    func readRegion(x: Int, y: Int, level: Int, width: Int, height: Int) throws -> RGBImage
    /// The same region reduced 1/`scale` per side (2, 4 or 8) in the JPEG decoder's IDCT, `width` ×
    /// `height` being the reduced size; nil when the reader cannot (the caller reads at full
    /// resolution and averages by area).
    func readRegion(x: Int, y: Int, level: Int, width: Int, height: Int, scale: Int) throws -> RGBImage?
}

/// Opens slides with the reader that applies.
public enum SlideSources {
    /// Opens `path` with OpenSlide and, when `choice` allows and the file qualifies, the direct JPEG
    /// reader; logs which path the slide takes and why. Throws OpenSlide's error when the file
    /// cannot be opened at all.
    public static func open(path: String, choice: SlideReaderChoice = .auto, log: Bool = true) throws -> any SlideSource {
        let slide = try Slide(path: path)
        guard choice == .auto else { return OpenSlideSource(slide: slide) }
        switch DirectJPEGSource.open(slide: slide) {
        case .success(let source):
            if log { Log.info("\(path): direct JPEG reader (\(source.summary))") }
            return source
        case .failure(let reason):
            if log { Log.info("\(path): OpenSlide reader (\(reason.message))") }
            return OpenSlideSource(slide: slide)
        }
    }
}

/// OpenSlide's `read_region`, one handle per thread (the first is the source's own).
public final class OpenSlideSource: SlideSource, @unchecked Sendable {
    public let slide: Slide
    public var path: String { slide.path }
    public var kind: SlideReaderKind { .openSlide }
    private let lock = NSLock()
    private var handedOut = false

    public init(slide: Slide) { self.slide = slide }

    public func makeRegionReader() throws -> any RegionReader {
        lock.lock()
        let first = !handedOut
        handedOut = true
        lock.unlock()
        return OpenSlideRegionReader(slide: first ? slide : try Slide(path: slide.path))
    }
}

final class OpenSlideRegionReader: RegionReader {
    let slide: Slide
    init(slide: Slide) { self.slide = slide }

    func readRegion(x: Int, y: Int, level: Int, width: Int, height: Int) throws -> RGBImage {
        try slide.readRegion(x: x, y: y, level: level, width: width, height: height)
    }

    func readRegion(x: Int, y: Int, level: Int, width: Int, height: Int, scale: Int) throws -> RGBImage? { nil }
}

/// A slide whose pixels could not be read: which file, where, and what went wrong.
public struct SlideReadError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
