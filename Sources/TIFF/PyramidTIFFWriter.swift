import CTIFF
import Foundation

/// Writes a tiled, JPEG-compressed pyramidal BigTIFF, one directory per level, largest first — the
/// layout of an Aperio `.svs` file.
///
/// Tiles are JPEG in YCbCr with 2×2 chroma subsampling (libtiff converts from the RGB the caller
/// supplies) and shared `JPEGTables`, as scanners write them; `colour` and `sharedTables` make the
/// other variants found in the wild (RGB JPEG as in many Aperio files, self-contained tiles) for
/// the readers' tests. Use from one thread: libtiff handles are not thread-safe.
///
///     let writer = try PyramidTIFFWriter(path: tmp, tileSize: 240, quality: 90)
///     try writer.beginDirectory(width: w, height: h, description: aperioText)
///     for row in 0..<tileRows { try writer.writeTileRow(row, pixels: strip, width: w, height: stripHeight) }
///     try writer.finishDirectory()
///     …                                   // further levels
///     try writer.close()
///
/// `close()` can fail (it flushes), so it is explicit; a writer dropped without `close()` or
/// `discard()` complains on standard error.
public final class PyramidTIFFWriter {
    public let path: String
    public let tileSize: Int
    public let quality: Int
    public let colour: Colour
    public let sharedTables: Bool

    /// How the JPEG tiles hold colour.
    public enum Colour: Sendable {
        /// YCbCr with 2×2 chroma subsampling (Photometric YCbCr).
        case ycbcr
        /// R, G, B components at full resolution (Photometric RGB).
        case rgb
    }

    private var handle: OpaquePointer?
    private var directoryIndex = 0
    private var current: (width: Int, height: Int, columns: Int, rows: Int)?
    private var tilesWritten = 0
    /// One tile, tileSize² × 3 bytes, reused for every tile (edge tiles are padded with white).
    private var tileBuffer: [UInt8]

    /// libtiff's error handler is process-wide; install Tessera's (which keeps the last message per
    /// thread instead of printing it) once.
    private static let handlersInstalled: Void = installTIFFErrorHandlers()

    /// Creates (or truncates) `path` as a BigTIFF file.
    public init(path: String, tileSize: Int, quality: Int, colour: Colour = .ycbcr, sharedTables: Bool = true) throws {
        precondition(tileSize >= 16 && tileSize % 16 == 0, "TIFF tile size must be a positive multiple of 16, got \(tileSize)")
        precondition((1...100).contains(quality), "JPEG quality must be 1...100, got \(quality)")
        _ = Self.handlersInstalled
        self.path = path
        self.tileSize = tileSize
        self.quality = quality
        self.colour = colour
        self.sharedTables = sharedTables
        self.tileBuffer = [UInt8](repeating: 255, count: tileSize * tileSize * 3)
        clearLastTIFFError()
        guard let h = TIFFOpen(path, "w8") else {
            throw error("opening the file for writing",
                        hint: "check that the folder exists, is writable and has free space")
        }
        handle = h
    }

    deinit {
        if let handle {
            TIFFClose(handle)
            let note = "tessera: PyramidTIFFWriter for \(path) was dropped without close() or discard(); the file may be incomplete\n"
            FileHandle.standardError.write(Data(note.utf8))
        }
    }

    /// Starts the next directory (level): `width` × `height` pixels, tiled, JPEG YCbCr 4:2:0.
    /// `description` becomes the ImageDescription tag (the Aperio text goes on the first directory).
    public func beginDirectory(width: Int, height: Int, description: String? = nil) throws {
        let h = openHandle()
        precondition(current == nil, "beginDirectory while directory \(directoryIndex) is still open in \(path)")
        precondition(width > 0 && height > 0 && width <= Int(UInt32.max) && height <= Int(UInt32.max),
                     "bad directory size \(width)×\(height)")
        let what = "setting the tags of directory \(directoryIndex)"
        let reduced = directoryIndex > 0 ? UInt32(FILETYPE_REDUCEDIMAGE) : 0
        try check(ctiff_set_u32(h, UInt32(TIFFTAG_SUBFILETYPE), reduced), what)
        try check(ctiff_set_u32(h, UInt32(TIFFTAG_IMAGEWIDTH), UInt32(width)), what)
        try check(ctiff_set_u32(h, UInt32(TIFFTAG_IMAGELENGTH), UInt32(height)), what)
        try check(ctiff_set_u32(h, UInt32(TIFFTAG_TILEWIDTH), UInt32(tileSize)), what)
        try check(ctiff_set_u32(h, UInt32(TIFFTAG_TILELENGTH), UInt32(tileSize)), what)
        try check(ctiff_set_u16(h, UInt32(TIFFTAG_BITSPERSAMPLE), 8), what)
        try check(ctiff_set_u16(h, UInt32(TIFFTAG_SAMPLESPERPIXEL), 3), what)
        try check(ctiff_set_u16(h, UInt32(TIFFTAG_PLANARCONFIG), UInt16(PLANARCONFIG_CONTIG)), what)
        try check(ctiff_set_u16(h, UInt32(TIFFTAG_COMPRESSION), UInt16(COMPRESSION_JPEG)), what)
        switch colour {
        case .ycbcr:
            try check(ctiff_set_u16(h, UInt32(TIFFTAG_PHOTOMETRIC), UInt16(PHOTOMETRIC_YCBCR)), what)
            try check(ctiff_set_u16_pair(h, UInt32(TIFFTAG_YCBCRSUBSAMPLING), 2, 2), what)
        case .rgb:
            try check(ctiff_set_u16(h, UInt32(TIFFTAG_PHOTOMETRIC), UInt16(PHOTOMETRIC_RGB)), what)
        }
        // Pseudo-tags of libtiff's JPEG codec: valid only after COMPRESSION_JPEG is set.
        try check(ctiff_set_int(h, UInt32(TIFFTAG_JPEGQUALITY), Int32(quality)), what)
        if colour == .ycbcr { try check(ctiff_set_int(h, UInt32(TIFFTAG_JPEGCOLORMODE), JPEGCOLORMODE_RGB), what) }
        // Mode 0: every tile carries its own tables, no JPEGTables tag.
        if !sharedTables { try check(ctiff_set_int(h, UInt32(TIFFTAG_JPEGTABLESMODE), 0), what) }
        if let description {
            try check(ctiff_set_string(h, UInt32(TIFFTAG_IMAGEDESCRIPTION), description), what)
        }
        let columns = (width + tileSize - 1) / tileSize
        let rows = (height + tileSize - 1) / tileSize
        current = (width, height, columns, rows)
        tilesWritten = 0
    }

    /// Writes every tile of tile row `row` from a strip of RGB pixels (`width` × `height`, rows top
    /// to bottom, interleaved R, G, B). The strip spans the directory's full width and is
    /// `tileSize` rows high, except the last, which holds the rows that remain.
    public func writeTileRow(_ row: Int, pixels: [UInt8], width: Int, height: Int) throws {
        let dir = openDirectory()
        precondition(width == dir.width, "strip width \(width) ≠ directory width \(dir.width)")
        precondition(row >= 0 && row < dir.rows, "tile row \(row) out of range 0..<\(dir.rows)")
        precondition(height == min(tileSize, dir.height - row * tileSize),
                     "strip for tile row \(row) must be \(min(tileSize, dir.height - row * tileSize)) rows, got \(height)")
        precondition(pixels.count == width * height * 3, "strip needs \(width * height * 3) bytes, got \(pixels.count)")
        for column in 0..<dir.columns {
            try writeTile(column: column, row: row, from: pixels, stripWidth: width, stripHeight: height,
                          x0: column * tileSize)
        }
    }

    /// Writes one tile from an RGB block of at most `tileSize` × `tileSize` pixels (smaller only at
    /// the right and bottom edges; the rest of the tile is padded with white).
    public func writeTile(column: Int, row: Int, pixels: [UInt8], width: Int, height: Int) throws {
        let dir = openDirectory()
        precondition(column >= 0 && column < dir.columns && row >= 0 && row < dir.rows,
                     "tile (\(column), \(row)) outside the \(dir.columns)×\(dir.rows) grid")
        precondition(width == min(tileSize, dir.width - column * tileSize)
                     && height == min(tileSize, dir.height - row * tileSize),
                     "tile (\(column), \(row)) must be \(min(tileSize, dir.width - column * tileSize))×\(min(tileSize, dir.height - row * tileSize)), got \(width)×\(height)")
        precondition(pixels.count == width * height * 3, "tile needs \(width * height * 3) bytes, got \(pixels.count)")
        try writeTile(column: column, row: row, from: pixels, stripWidth: width, stripHeight: height, x0: 0)
    }

    /// Ends the current directory (writes its tags); the next `beginDirectory` starts a new level.
    public func finishDirectory() throws {
        let h = openHandle()
        let dir = openDirectory()
        precondition(tilesWritten == dir.columns * dir.rows,
                     "directory \(directoryIndex) of \(path) has \(tilesWritten) of \(dir.columns * dir.rows) tiles written")
        clearLastTIFFError()
        try check(TIFFWriteDirectory(h), "writing directory \(directoryIndex)")
        current = nil
        directoryIndex += 1
    }

    /// Flushes and closes the file. Every directory must be finished.
    public func close() throws {
        let h = openHandle()
        precondition(current == nil, "close() with directory \(directoryIndex) of \(path) unfinished")
        handle = nil
        clearLastTIFFError()
        let flushed = TIFFFlush(h)
        TIFFClose(h)
        let message = takeLastTIFFError()
        if flushed != 1 || !message.isEmpty {
            throw error("closing the file", hint: "check free space on the file system")
        }
    }

    /// Closes without finishing and deletes the file (for error paths: the file is incomplete).
    public func discard() {
        if let handle { TIFFClose(handle) }
        handle = nil
        current = nil
        unlink(path)
    }

    // MARK: - Private

    private func writeTile(column: Int, row: Int, from pixels: [UInt8], stripWidth: Int, stripHeight: Int,
                           x0: Int) throws {
        let h = openHandle()
        let dir = openDirectory()
        let w = min(tileSize, dir.width - column * tileSize)
        let rows = stripHeight
        let full = w == tileSize && rows == tileSize
        let rowBytes = w * 3
        let tileRowBytes = tileSize * 3
        tileBuffer.withUnsafeMutableBytes { tile in
            pixels.withUnsafeBytes { src in
                if !full { tile.initializeMemory(as: UInt8.self, repeating: 255) }
                for y in 0..<rows {
                    let from = (y * stripWidth + x0) * 3
                    tile.baseAddress!.advanced(by: y * tileRowBytes)
                        .copyMemory(from: src.baseAddress!.advanced(by: from), byteCount: rowBytes)
                }
            }
        }
        let index = TIFFComputeTile(h, UInt32(column * tileSize), UInt32(row * tileSize), 0, 0)
        clearLastTIFFError()
        let written = tileBuffer.withUnsafeMutableBytes { tile in
            TIFFWriteEncodedTile(h, index, tile.baseAddress, tmsize_t(tile.count))
        }
        if written < 0 {
            throw error("writing tile (\(column), \(row)) of directory \(directoryIndex)",
                        hint: "check free space on the file system")
        }
        tilesWritten += 1
    }

    private func openHandle() -> OpaquePointer {
        guard let handle else { preconditionFailure("PyramidTIFFWriter for \(path) used after close()") }
        return handle
    }

    private func openDirectory() -> (width: Int, height: Int, columns: Int, rows: Int) {
        guard let current else { preconditionFailure("no directory begun in \(path): call beginDirectory first") }
        return current
    }

    /// The one check every libtiff call goes through: libtiff returns 1 on success.
    private func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws {
        if rc != 1 { throw error(operation(), hint: "") }
    }

    private func error(_ operation: String, hint: String) -> TIFFError {
        TIFFError(path: path, operation: operation, message: takeLastTIFFError(), hint: hint)
    }
}
