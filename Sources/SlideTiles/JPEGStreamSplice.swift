/// Builds a complete JPEG stream from a TIFF tile: the directory's shared tables (if any) and the
/// tile's abbreviated stream, with an Adobe marker that states the colour space.
///
/// The colour space of a TIFF JPEG tile is the directory's Photometric tag, not anything in the
/// stream: Aperio writes RGB tiles with component ids 0, 1, 2 and no JFIF or Adobe marker, which
/// libjpeg would guess to be YCbCr. OpenSlide sets `jpeg_color_space` from the tag; TurboJPEG has no
/// such parameter, so the Adobe APP14 marker (transform 0 = RGB, 1 = YCbCr) says it instead.
struct JPEGStreamSplice: Sendable {
    /// SOI, APP14, then the tables' markers without their SOI and EOI.
    let prefix: [UInt8]

    /// `tables`: the JPEGTables tag (SOI … EOI), or nil. Returns nil when the tables are not a JPEG stream.
    init?(tables: [UInt8]?, rgb: Bool) {
        var p: [UInt8] = [0xFF, 0xD8]
        // APP14 "Adobe": length 14, version 100, flags0 0, flags1 0, transform.
        p += [0xFF, 0xEE, 0x00, 0x0E, 0x41, 0x64, 0x6F, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, rgb ? 0 : 1]
        if let tables {
            guard tables.count >= 4, tables[0] == 0xFF, tables[1] == 0xD8 else { return nil }
            let end = tables[tables.count - 2] == 0xFF && tables[tables.count - 1] == 0xD9 ? tables.count - 2 : tables.count
            p += tables[2..<end]
        }
        prefix = p
    }

    /// Writes prefix + `tile` without its SOI into `stream` (grown as needed); returns the stream's
    /// length, or nil when the tile does not start with SOI.
    func splice(tile: UnsafeRawBufferPointer, into stream: inout [UInt8]) -> Int? {
        guard tile.count >= 4, tile[0] == 0xFF, tile[1] == 0xD8 else { return nil }
        let total = prefix.count + tile.count - 2
        if stream.count < total { stream = [UInt8](repeating: 0, count: total + total / 4) }
        stream.withUnsafeMutableBytes { out in
            prefix.withUnsafeBytes { out.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            out.baseAddress!.advanced(by: prefix.count).copyMemory(from: tile.baseAddress!.advanced(by: 2), byteCount: tile.count - 2)
        }
        return total
    }
}
