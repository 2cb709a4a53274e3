import CTIFF
import Foundation

/// What one TIFF directory (image) holds, as far as a tile reader needs to know.
public struct TIFFDirectoryInfo: Sendable, Equatable {
    /// 0-based position in the file.
    public let index: Int
    public let width: Int
    public let height: Int
    /// 0 when the directory is stored in strips, not tiles.
    public let tileWidth: Int
    public let tileHeight: Int
    /// TIFF Compression tag (7 = JPEG, 33003/33005 = Aperio JPEG 2000, …).
    public let compression: Int
    /// TIFF Photometric tag (2 = RGB, 6 = YCbCr).
    public let photometric: Int
    public let bitsPerSample: Int
    public let samplesPerPixel: Int
    /// 1 = contiguous (RGBRGB…), 2 = separate planes.
    public let planarConfig: Int
    /// NewSubfileType (bit 0: reduced image; Aperio marks label and macro with other bits).
    public let subfileType: Int
    /// The shared JPEG tables (a complete JPEG stream of DQT/DHT markers), when the directory has them.
    public let jpegTables: [UInt8]?
    public let description: String?

    public static let compressionJPEG = 7
    public static let photometricRGB = 2
    public static let photometricYCbCr = 6

    public var isTiled: Bool { tileWidth > 0 && tileHeight > 0 }
    public var tileColumns: Int { isTiled ? (width + tileWidth - 1) / tileWidth : 0 }
    public var tileRows: Int { isTiled ? (height + tileHeight - 1) / tileHeight : 0 }
}

/// Reads raw (still compressed) tiles of a TIFF file with libtiff's `TIFFReadRawTile`: the direct
/// JPEG path decodes them itself. One instance per thread (a libtiff handle is not thread-safe);
/// opening another is cheap. The file is read with `pread`, not memory-mapped, so the pages read
/// do not count against the process's resident memory.
public final class TIFFTileReader {
    public let path: String
    public let directories: [TIFFDirectoryInfo]
    private let handle: OpaquePointer
    private var current = 0

    private static let handlersInstalled: Void = installTIFFErrorHandlers()

    public init(path: String) throws {
        _ = Self.handlersInstalled
        self.path = path
        clearLastTIFFError()
        // "m": no memory mapping.
        guard let h = TIFFOpen(path, "rm") else {
            throw TIFFError(path: path, operation: "opening the file for reading", message: takeLastTIFFError(),
                            hint: "check that the file exists, is readable and is a TIFF")
        }
        handle = h
        var found: [TIFFDirectoryInfo] = []
        repeat {
            found.append(Self.describe(h, index: found.count))
        } while TIFFReadDirectory(h) == 1 && found.count < 4096
        directories = found
        guard TIFFSetDirectory(h, 0) == 1 else {
            TIFFClose(h)
            throw TIFFError(path: path, operation: "returning to directory 0", message: takeLastTIFFError(), hint: "")
        }
    }

    deinit { TIFFClose(handle) }

    /// The compressed bytes of tile (`column`, `row`) of `directory`, into `buffer` (grown as
    /// needed); returns the byte count (0 for a tile the file leaves empty).
    public func readRawTile(directory: Int, column: Int, row: Int, into buffer: inout [UInt8]) throws -> Int {
        let info = directories[directory]
        precondition(info.isTiled && column >= 0 && column < info.tileColumns && row >= 0 && row < info.tileRows,
                     "tile (\(column), \(row)) outside directory \(directory) of \(path)")
        if current != directory {
            clearLastTIFFError()
            guard TIFFSetDirectory(handle, tdir_t(directory)) == 1 else {
                throw TIFFError(path: path, operation: "selecting directory \(directory)", message: takeLastTIFFError(),
                                hint: "the file is truncated or damaged")
            }
            current = directory
        }
        let index = UInt32(row * info.tileColumns + column)
        let size = Int(TIFFGetStrileByteCount(handle, index))
        if size == 0 { return 0 }
        guard size < 64 << 20 else {
            throw TIFFError(path: path, operation: "reading tile (\(column), \(row)) of directory \(directory)",
                            message: "the tile claims \(size) bytes", hint: "the file is damaged")
        }
        if buffer.count < size { buffer = [UInt8](repeating: 0, count: size) }
        clearLastTIFFError()
        let read = buffer.withUnsafeMutableBytes { TIFFReadRawTile(handle, index, $0.baseAddress, tmsize_t(size)) }
        guard read == size else {
            throw TIFFError(path: path, operation: "reading tile (\(column), \(row)) of directory \(directory)",
                            message: takeLastTIFFError(), hint: "the file is truncated or damaged")
        }
        return size
    }

    private static func describe(_ h: OpaquePointer, index: Int) -> TIFFDirectoryInfo {
        func u32(_ tag: Int32) -> Int {
            var v: UInt32 = 0
            return ctiff_get_u32(h, UInt32(tag), &v) == 1 ? Int(v) : 0
        }
        func u16(_ tag: Int32, default d: Int = 0) -> Int {
            var v: UInt16 = 0
            return ctiff_get_u16(h, UInt32(tag), &v) == 1 ? Int(v) : d
        }
        var tables: [UInt8]?
        var count: UInt32 = 0
        var data: UnsafeRawPointer?
        if ctiff_get_jpegtables(h, &count, &data) == 1, let data, count > 0 {
            tables = Array(UnsafeRawBufferPointer(start: data, count: Int(count)))
        }
        var text: UnsafePointer<CChar>?
        let description = ctiff_get_string(h, UInt32(TIFFTAG_IMAGEDESCRIPTION), &text) == 1 ? text.map { String(cString: $0) } : nil
        let tiled = TIFFIsTiled(h) != 0
        return TIFFDirectoryInfo(
            index: index, width: u32(TIFFTAG_IMAGEWIDTH), height: u32(TIFFTAG_IMAGELENGTH),
            tileWidth: tiled ? u32(TIFFTAG_TILEWIDTH) : 0, tileHeight: tiled ? u32(TIFFTAG_TILELENGTH) : 0,
            compression: u16(TIFFTAG_COMPRESSION, default: 1), photometric: u16(TIFFTAG_PHOTOMETRIC),
            bitsPerSample: u16(TIFFTAG_BITSPERSAMPLE, default: 1), samplesPerPixel: u16(TIFFTAG_SAMPLESPERPIXEL, default: 1),
            planarConfig: u16(TIFFTAG_PLANARCONFIG, default: 1), subfileType: u32(TIFFTAG_SUBFILETYPE),
            jpegTables: tables, description: description)
    }
}
