import Foundation
import HDF5
import JPEG
import TesseraCore
import Tiling

/// Reads one store file (see `TileStoreSchema`).
///
/// Opening checks the format and schema version, reads the attributes, the slide table and (jpeg
/// stores) every tile's offset and length; after that, reading tiles touches only tile bytes.
/// HDF5 verifies every chunk's Fletcher-32 checksum as it reads: a damaged tile is refused as
/// `TileStoreError.damagedTile` naming it, other damaged data as `.damagedData`, and a file
/// without checksums (an older Tessera) as `.writtenWithoutChecksums`.
///
/// Parallel use (`.parallel(world)`): opening and `close()` are collective — every rank opens the
/// same file and makes the same calls, whatever its shard — and every later read is independent, so
/// each rank reads only its own tiles, when it wants. Not thread-safe: one reader per thread.
public final class TileStoreReader {
    public let url: URL
    public var path: String { url.path }
    public let attributes: TileStoreAttributes
    /// The slide table, in file order.
    public let slides: [SlideRecord]
    /// Each slide's `content_digest` (`SlideDigest`), in slide table order.
    public let contentDigests: [String]
    public let tileCount: Int
    /// jpeg stores: where each tile's bytes start in `/tiles/jpeg`, and how many there are.
    /// Empty for raw stores.
    public let tileOffsets: [Int64]
    public let tileLengths: [Int64]
    /// jpeg stores: the size of `/tiles/jpeg`.
    public let jpegByteCount: Int

    /// Ranges closer than this are read together by `encodedTiles` (reading a gap inside one chunk
    /// costs less than another HDF5 call).
    public static let mergeGap = TileStoreSchema.jpegChunkBytes

    private let file: HDF5File
    private let jpeg: HDF5Dataset<UInt8>?
    private let raw: HDF5Dataset<UInt8>?

    public init(url: URL, access: HDF5File.Access = .serial) throws {
        self.url = url
        let path = url.path
        do {
            file = try HDF5File.open(path: path, mode: .readOnly, access: access)
        } catch let error as HDF5Error {
            // HDF5's outermost message says what failed, its innermost why (e.g. "truncated file").
            let reason = error.stack.count > 1 ? "\(error.stack[0]) (cause: \(error.stack.last!))" : (error.stack.first ?? error.summary)
            throw TileStoreError.unreadableFile(path: path, reason: reason)
        }
        let file = self.file
        typealias A = TileStoreSchema.Attribute
        guard file.hasAttribute(A.format.rawValue), let format = try? file.stringAttribute(A.format.rawValue),
              format == TileStoreSchema.format else {
            throw TileStoreError.notATileStore(path: path, found: try? file.stringAttribute(A.format.rawValue))
        }
        guard file.hasAttribute(A.schemaVersion.rawValue), let version = try? file.intAttribute(A.schemaVersion.rawValue) else {
            throw TileStoreError.invalidAttribute(path: path, name: A.schemaVersion.rawValue, message: "missing or not an integer")
        }
        guard version == TileStoreSchema.version else {
            throw TileStoreError.unsupportedSchemaVersion(path: path, found: Int(version), supported: TileStoreSchema.version)
        }
        let attributes = try TileStoreAttributes(readingFrom: file, path: path)
        self.attributes = attributes

        func require(_ name: String) throws {
            guard file.exists(name) else {
                throw TileStoreError.inconsistent(path: path, message: "dataset /\(name) is missing")
            }
        }
        /// The common length of 1-D datasets, or why they have none.
        func commonLength(_ shapes: [(name: String, shape: [Int])], _ what: String) throws -> Int {
            let first = shapes[0].shape.first ?? 0
            for (name, shape) in shapes where shape.count != 1 || shape[0] != first {
                throw TileStoreError.inconsistent(
                    path: path, message: "\(what) datasets differ in length: /\(shapes[0].name) has \(first) rows, /\(name) has shape \(shape)")
            }
            return first
        }
        func shape<V: HDF5Scalar>(_ name: String, _: V.Type) throws -> (name: String, shape: [Int]) {
            try require(name)
            return (name, try withStoreErrors(path) { try file.openDataset(name, of: V.self).shape })
        }
        typealias T = TileStoreSchema.Tiles
        typealias S = TileStoreSchema.Slides
        var columnShapes = [try shape(T.label.path, Int32.self), try shape(T.slide.path, Int32.self), try shape(T.x.path, Int64.self),
                            try shape(T.y.path, Int64.self), try shape(T.background.path, Float.self)]
        if attributes.encoding == .jpeg {
            columnShapes += [try shape(T.offset.path, Int64.self), try shape(T.length.path, Int64.self)]
        }
        let tiles = try commonLength(columnShapes, "tile")
        tileCount = tiles

        switch attributes.encoding {
        case .jpeg:
            try require(T.jpeg.path)
            let bytes = try withStoreErrors(path) { try file.openDataset(T.jpeg.path, of: UInt8.self) }
            jpeg = bytes
            raw = nil
            let shape = bytes.shape
            guard shape.count == 1 else {
                throw TileStoreError.inconsistent(path: path, message: "/\(T.jpeg.path) has shape \(shape), expected one dimension")
            }
            jpegByteCount = shape[0]
            guard bytes.hasChecksum else { throw TileStoreError.writtenWithoutChecksums(path: path) }
            tileOffsets = try withStoreErrors(path) { try file.readDataset(T.offset.path, of: Int64.self) }
            tileLengths = try withStoreErrors(path) { try file.readDataset(T.length.path, of: Int64.self) }
        case .raw:
            try require(T.raw.path)
            let pixels = try withStoreErrors(path) { try file.openDataset(T.raw.path, of: UInt8.self) }
            let t = attributes.tileSize
            guard pixels.shape == [tiles, t, t, 3] else {
                throw TileStoreError.inconsistent(
                    path: path, message: "/\(T.raw.path) has shape \(pixels.shape), expected [\(tiles), \(t), \(t), 3]")
            }
            guard pixels.hasChecksum else { throw TileStoreError.writtenWithoutChecksums(path: path) }
            jpeg = nil
            raw = pixels
            jpegByteCount = 0
            tileOffsets = []
            tileLengths = []
        }

        // Every column but `reader`, which stores written before it lack.
        for column in S.allCases where column != .reader {
            try require(column.path)
        }
        let table = try withStoreErrors(path) {
            let ids = try file.readStrings(S.slideID.path)
            let patients = try file.readStrings(S.patientID.path)
            let labels = try file.readStrings(S.label.path)
            let mpp = try file.readDataset(S.mpp.path, of: Double.self)
            let level = try file.readDataset(S.level.path, of: Int32.self)
            let downsample = try file.readDataset(S.downsample.path, of: Double.self)
            let width = try file.readDataset(S.width.path, of: Int64.self)
            let height = try file.readDataset(S.height.path, of: Int64.self)
            let kept = try file.readDataset(S.tilesKept.path, of: Int64.self)
            let considered = try file.readDataset(S.tilesConsidered.path, of: Int64.self)
            let digests = try file.readStrings(S.contentDigest.path)
            // Absent in stores written before the direct JPEG reader and the drop counts.
            let readers = file.exists(S.reader.path) ? try file.readStrings(S.reader.path) : [String](repeating: "", count: ids.count)
            var dropped: [TileDropReason: [Int64]] = [:]
            for reason in TileDropReason.allCases where file.exists(S.tilesDropped(reason)) {
                dropped[reason] = try file.readDataset(S.tilesDropped(reason), of: Int64.self)
            }
            var lengths: [(String, [Int])] = [(S.slideID.path, [ids.count]), (S.patientID.path, [patients.count]), (S.label.path, [labels.count]),
                                              (S.mpp.path, [mpp.count]), (S.level.path, [level.count]), (S.downsample.path, [downsample.count]),
                                              (S.width.path, [width.count]), (S.height.path, [height.count]), (S.tilesKept.path, [kept.count]),
                                              (S.tilesConsidered.path, [considered.count]), (S.contentDigest.path, [digests.count]),
                                              (S.reader.path, [readers.count])]
            for (reason, counts) in dropped { lengths.append((S.tilesDropped(reason), [counts.count])) }
            let rows = try commonLength(lengths, "slide table")
            return (digests, (0..<rows).map { i in
                var record = SlideRecord(slideID: ids[i], patientID: patients[i], label: labels[i].isEmpty ? nil : labels[i],
                                         mpp: mpp[i] < 0 ? nil : mpp[i], level: Int(level[i]), downsample: downsample[i],
                                         width: Int(width[i]), height: Int(height[i]), tilesKept: Int(kept[i]),
                                         tilesConsidered: Int(considered[i]), reader: readers[i].isEmpty ? nil : readers[i])
                // Zero counts are left out, as the tiler leaves them out of the record it writes.
                record.tilesDropped = dropped.mapValues { Int($0[i]) }.filter { $0.value != 0 }
                return record
            })
        }
        contentDigests = table.0
        slides = table.1
    }

    /// Closes the file (collective for parallel files). A reader may also simply be released.
    public func close() throws {
        try withStoreErrors(path) { try file.close() }
    }

    /// Every tile's label, slide, position and background fraction.
    public func tileColumns() throws -> TileColumns {
        typealias T = TileStoreSchema.Tiles
        return try withStoreErrors(path) {
            TileColumns(labels: try file.readDataset(T.label.path, of: Int32.self),
                        slides: try file.readDataset(T.slide.path, of: Int32.self),
                        x: try file.readDataset(T.x.path, of: Int64.self),
                        y: try file.readDataset(T.y.path, of: Int64.self),
                        background: try file.readDataset(T.background.path, of: Float.self))
        }
    }

    // MARK: Tile bytes

    /// The JPEG bytes of one tile (jpeg stores).
    public func encodedTile(_ index: Int) throws -> [UInt8] {
        let range = try byteRange(index)
        do {
            return try bytes(offset: range.lowerBound, count: range.count)
        } catch TileStoreError.damagedData {
            throw TileStoreError.damagedTile(path: path, index: index, dataset: TileStoreSchema.Tiles.jpeg.path)
        }
    }

    /// Which of `indices` fail their checksum, each read alone (a batch read stops at the first).
    public func damagedTiles(_ indices: [Int]) throws -> [Int] {
        try indices.filter { index in
            do {
                switch attributes.encoding {
                case .jpeg: _ = try encodedTile(index)
                case .raw:
                    guard index >= 0 && index < tileCount else {
                        throw TileStoreError.tileIndexOutOfRange(path: path, index: index, count: tileCount)
                    }
                    _ = try rawTile(index)
                }
                return false
            } catch TileStoreError.damagedTile {
                return true
            }
        }
    }

    /// One raw tile's pixels, a damaged tile named.
    private func rawTile(_ index: Int) throws -> [UInt8] {
        do {
            return try rawPixels(from: index, count: 1)
        } catch TileStoreError.damagedData {
            throw TileStoreError.damagedTile(path: path, index: index, dataset: TileStoreSchema.Tiles.raw.path)
        }
    }

    /// The JPEG bytes of several tiles, in the order asked (repeats allowed). Nearby tiles are read
    /// together: the requested byte ranges, sorted, are merged when less than `mergeGap` apart, and
    /// each merged range is one independent HDF5 read — a single read for a contiguous shard.
    public func encodedTiles(_ indices: [Int]) throws -> [[UInt8]] {
        let ranges = try indices.map(byteRange)
        let order = Array(Set(indices)).sorted { tileOffsets[$0] < tileOffsets[$1] }
        var slices: [Int: [UInt8]] = [:]
        var runStart = 0
        while runStart < order.count {
            var lower = Int(tileOffsets[order[runStart]])
            var upper = lower + Int(tileLengths[order[runStart]])
            var runEnd = runStart + 1
            while runEnd < order.count, Int(tileOffsets[order[runEnd]]) <= upper + Self.mergeGap {
                let o = Int(tileOffsets[order[runEnd]])
                lower = min(lower, o)
                upper = max(upper, o + Int(tileLengths[order[runEnd]]))
                runEnd += 1
            }
            let block: [UInt8]
            do {
                block = try bytes(offset: lower, count: upper - lower)
            } catch TileStoreError.damagedData {
                // Name the first damaged tile of the run.
                for index in order[runStart..<runEnd] { _ = try encodedTile(index) }
                throw TileStoreError.damagedData(path: path, message: "bytes \(lower)..<\(upper) of /\(TileStoreSchema.Tiles.jpeg.path) fail their checksum")
            }
            for index in order[runStart..<runEnd] {
                let o = Int(tileOffsets[index]) - lower
                slices[index] = Array(block[o..<(o + Int(tileLengths[index]))])
            }
            runStart = runEnd
        }
        return zip(indices, ranges).map { index, _ in slices[index]! }
    }

    /// The byte range of a tile in `/tiles/jpeg`, checked.
    public func byteRange(_ index: Int) throws -> Range<Int> {
        guard attributes.encoding == .jpeg else {
            throw TileStoreError.wrongEncoding(path: path, expected: .jpeg, found: attributes.encoding)
        }
        guard index >= 0 && index < tileCount else {
            throw TileStoreError.tileIndexOutOfRange(path: path, index: index, count: tileCount)
        }
        let offset = tileOffsets[index], length = tileLengths[index]
        guard offset >= 0, length > 0, offset + length <= Int64(jpegByteCount) else {
            throw TileStoreError.inconsistent(
                path: path, message: "tile \(index) has bytes \(offset)..<\(offset + length), outside /\(TileStoreSchema.Tiles.jpeg.path) (\(jpegByteCount) bytes)")
        }
        return Int(offset)..<Int(offset + length)
    }

    /// A block of `/tiles/jpeg`, read independently.
    func bytes(offset: Int, count: Int) throws -> [UInt8] {
        precondition(offset >= 0 && count >= 0 && offset + count <= jpegByteCount, "\(path): bytes outside /tiles/jpeg")
        return try withStoreErrors(path) { try jpeg!.read(offset: [offset], count: [count], collective: false) }
    }

    /// Raw pixels of `count` consecutive tiles, tile after tile (raw stores).
    func rawPixels(from start: Int, count: Int) throws -> [UInt8] {
        let t = attributes.tileSize
        return try withStoreErrors(path) { try raw!.read(offset: [start, 0, 0, 0], count: [count, t, t, 3], collective: false) }
    }

    // MARK: Pixels

    /// One tile's pixels: JPEG-decoded (1/`scale` of each side, decoded in the IDCT) or read raw
    /// (box-averaged to the same size as a scaled JPEG decode).
    public func image(_ index: Int, decoder: JPEGDecoder, scale: Int = 1) throws -> RGBImage {
        try images([index], decoder: decoder, scale: scale)[0]
    }

    /// Several tiles' pixels, in the order asked, with one batch read.
    public func images(_ indices: [Int], decoder: JPEGDecoder, scale: Int = 1) throws -> [RGBImage] {
        precondition([1, 2, 4, 8].contains(scale), "scale must be 1, 2, 4 or 8, got \(scale)")
        switch attributes.encoding {
        case .jpeg:
            return try zip(indices, encodedTiles(indices)).map { index, bytes in
                try decode(bytes, index: index, decoder: decoder, scale: scale)
            }
        case .raw:
            for index in indices where index < 0 || index >= tileCount {
                throw TileStoreError.tileIndexOutOfRange(path: path, index: index, count: tileCount)
            }
            let t = attributes.tileSize
            let pixels: [UInt8]
            do {
                pixels = try withStoreErrors(path) { try raw!.readRows(indices, collective: false) }
            } catch TileStoreError.damagedData {
                for index in indices { _ = try rawTile(index) }
                throw TileStoreError.damagedData(path: path, message: "/\(TileStoreSchema.Tiles.raw.path) fails its checksum")
            }
            return indices.indices.map { k in
                let image = RGBImage(width: t, height: t, pixels: Array(pixels[(k * t * t * 3)..<((k + 1) * t * t * 3)]))
                return scale == 1 ? image : image.boxDownsampled(by: scale)
            }
        }
    }

    /// Decodes one tile's JPEG bytes, checking that it has the store's tile size.
    public func decode(_ bytes: [UInt8], index: Int, decoder: JPEGDecoder, scale: Int = 1) throws -> RGBImage {
        let image: RGBImage
        do {
            image = try decoder.decode(bytes, scale: scale)
        } catch let error as JPEGError {
            throw TileStoreError.unreadableTile(path: path, index: index, reason: error.description)
        }
        let expected = (attributes.tileSize + scale - 1) / scale
        guard image.width == expected && image.height == expected else {
            throw TileStoreError.unreadableTile(
                path: path, index: index,
                reason: "decodes to \(image.width)×\(image.height) pixels, expected \(expected)×\(expected)")
        }
        return image
    }
}
