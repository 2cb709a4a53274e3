import COpenSlide
import Foundation
import TesseraCore

/// An open whole-slide image (OpenSlide handle).
///
/// OpenSlide's error state is sticky: once a read fails (a corrupt JPEG tile, a truncated file), every
/// later call on the same handle fails too. So the wrapper checks `openslide_get_error` after every
/// call and, once it is set, marks the handle poisoned: every later call throws the same error
/// instead of returning zero-filled pixels. To read on after a failure, open a new `Slide`.
///
/// OpenSlide handles are thread-safe, so one `Slide` may be shared by worker threads.
public final class Slide: @unchecked Sendable {
    public let path: String
    private let handle: OpaquePointer
    private let lock = NSLock()
    private var poison: OpenSlideError?

    public let levelCount: Int
    private let levelDimensions: [(width: Int, height: Int)]
    private let levelDownsamples: [Double]
    /// Every property OpenSlide reports, e.g. `openslide.vendor`, `openslide.mpp-x`, `aperio.AppMag`.
    public let properties: [String: String]
    public let associatedImageNames: [String]

    public init(path: String) throws {
        self.path = path
        guard FileManager.default.isReadableFile(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw OpenSlideError(kind: .missingFile, path: path,
                                 message: exists ? "permission denied" : "file not found")
        }
        guard let h = openslide_open(path) else {
            let vendorGuess = openslide_detect_vendor(path).map { String(cString: $0) }
            let detail = vendorGuess.map { "format detected as \($0), but the file cannot be opened: truncated or damaged" }
                ?? "unknown file format"
            throw OpenSlideError(kind: .unsupportedFormat, path: path, message: detail)
        }
        if let err = openslide_get_error(h) {
            let message = String(cString: err)
            openslide_close(h)
            throw OpenSlideError(kind: .corrupt, path: path, message: message)
        }
        handle = h
        let n = Int(openslide_get_level_count(h))
        var dims: [(Int, Int)] = []
        var downs: [Double] = []
        for level in 0..<max(n, 0) {
            var w: Int64 = 0, hgt: Int64 = 0
            openslide_get_level_dimensions(h, Int32(level), &w, &hgt)
            dims.append((Int(w), Int(hgt)))
            downs.append(openslide_get_level_downsample(h, Int32(level)))
        }
        var props: [String: String] = [:]
        if var names = openslide_get_property_names(h) {
            while let namePtr = names.pointee {
                if let value = openslide_get_property_value(h, namePtr) {
                    props[String(cString: namePtr)] = String(cString: value)
                }
                names += 1
            }
        }
        var assoc: [String] = []
        if var names = openslide_get_associated_image_names(h) {
            while let namePtr = names.pointee {
                assoc.append(String(cString: namePtr))
                names += 1
            }
        }
        levelCount = n
        levelDimensions = dims
        levelDownsamples = downs
        properties = props
        associatedImageNames = assoc
        if let err = openslide_get_error(h) {
            throw OpenSlideError(kind: .corrupt, path: path, message: String(cString: err))
        }
        if n <= 0 {
            throw OpenSlideError(kind: .corrupt, path: path, message: "the slide has no pyramid levels")
        }
    }

    deinit { openslide_close(handle) }

    /// The vendor OpenSlide detected (`aperio`, `generic-tiff`, …).
    public var vendor: String? { properties["openslide.vendor"] }

    /// Micrometres per level-0 pixel, when the slide records it.
    public var mpp: (x: Double, y: Double)? {
        guard let x = properties["openslide.mpp-x"].flatMap(Double.init),
              let y = properties["openslide.mpp-y"].flatMap(Double.init), x > 0, y > 0 else { return nil }
        return (x, y)
    }

    /// The scanner's objective power at level 0 (20, 40, …), when the slide records it.
    public var objectivePower: Double? {
        properties["openslide.objective-power"].flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil }
    }

    public func dimensions(level: Int) -> (width: Int, height: Int) {
        precondition(level >= 0 && level < levelCount, "level \(level) out of range 0..<\(levelCount) for \(path)")
        return levelDimensions[level]
    }

    public func downsample(level: Int) -> Double {
        precondition(level >= 0 && level < levelCount, "level \(level) out of range 0..<\(levelCount) for \(path)")
        return levelDownsamples[level]
    }

    /// The finest level whose downsample is ≤ `downsample` (OpenSlide's rule), so that reading from it
    /// and reducing never upsamples.
    public func bestLevel(forDownsample downsample: Double) -> Int {
        Int(openslide_get_best_level_for_downsample(handle, downsample))
    }

    /// Reads a region as RGB. `x`, `y` are level-0 coordinates; `width`, `height` are in pixels of
    /// `level`. Pixels outside the slide, or fully transparent, come back white (glass).
    public func readRegion(x: Int, y: Int, level: Int, width: Int, height: Int) throws -> RGBImage {
        precondition(level >= 0 && level < levelCount, "level \(level) out of range 0..<\(levelCount) for \(path)")
        precondition(width > 0 && height > 0, "empty region \(width)×\(height)")
        try checkPoison()
        var argb = [UInt32](repeating: 0, count: width * height)
        argb.withUnsafeMutableBufferPointer { buf in
            openslide_read_region(handle, buf.baseAddress, Int64(x), Int64(y), Int32(level), Int64(width), Int64(height))
        }
        try checkError()
        return RGBImage(width: width, height: height, pixels: Slide.unpremultiply(argb))
    }

    /// An associated image (`thumbnail`, `label`, `macro`) as RGB.
    public func associatedImage(_ name: String) throws -> RGBImage {
        try checkPoison()
        guard associatedImageNames.contains(name) else {
            throw OpenSlideError(kind: .noSuchAssociatedImage, path: path,
                                 message: "no associated image '\(name)' (the slide has: \(associatedImageNames.joined(separator: ", ")))")
        }
        var w: Int64 = 0, h: Int64 = 0
        openslide_get_associated_image_dimensions(handle, name, &w, &h)
        try checkError()
        var argb = [UInt32](repeating: 0, count: Int(w * h))
        argb.withUnsafeMutableBufferPointer { buf in
            openslide_read_associated_image(handle, name, buf.baseAddress)
        }
        try checkError()
        return RGBImage(width: Int(w), height: Int(h), pixels: Slide.unpremultiply(argb))
    }

    private func checkPoison() throws {
        lock.lock(); defer { lock.unlock() }
        if let poison { throw poison }
    }

    private func checkError() throws {
        guard let err = openslide_get_error(handle) else { return }
        let e = OpenSlideError(kind: .corrupt, path: path, message: String(cString: err))
        lock.lock(); poison = e; lock.unlock()
        throw e
    }

    /// Premultiplied ARGB (OpenSlide's format) → straight RGB over white.
    ///
    /// OpenSlide premultiplies colour by alpha; a pixel with alpha 0 lies outside the scanned area
    /// and is glass, hence white. Partially transparent pixels (edges of Mirax/Leica scans) are
    /// un-premultiplied and then composited over white, which keeps straight-alpha colours unbiased.
    public static func unpremultiply(_ argb: [UInt32]) -> [UInt8] {
        var out = [UInt8](repeating: 255, count: argb.count * 3)
        out.withUnsafeMutableBufferPointer { o in
            argb.withUnsafeBufferPointer { src in
                for i in 0..<src.count {
                    let p = src[i]
                    let a = p >> 24
                    if a == 255 {
                        o[3 * i] = UInt8(truncatingIfNeeded: p >> 16)
                        o[3 * i + 1] = UInt8(truncatingIfNeeded: p >> 8)
                        o[3 * i + 2] = UInt8(truncatingIfNeeded: p)
                    } else if a != 0 {
                        // c_straight = c_pre * 255 / a; over white: c_straight * a/255 + 255 * (1 - a/255)
                        // = c_pre + 255 - a.
                        let inv = 255 - a
                        o[3 * i] = UInt8(min(255, ((p >> 16) & 0xFF) + inv))
                        o[3 * i + 1] = UInt8(min(255, ((p >> 8) & 0xFF) + inv))
                        o[3 * i + 2] = UInt8(min(255, (p & 0xFF) + inv))
                    }
                }
            }
        }
        return out
    }
}
