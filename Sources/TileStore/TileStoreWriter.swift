import Foundation
import HDF5
import TesseraCore
import Tiling

/// Writes one store file (serial HDF5; see `TileStoreSchema`).
///
/// Slides are written one after another: `beginSlide`, then that slide's tiles with `addTile`, then
/// the next slide. Tiles stream: they are buffered and appended to the extendible datasets in
/// batches (`batchTiles` tiles or `batchBytes` bytes, whichever comes first), so memory stays
/// bounded whatever the slide's size. The slide table is written by `finish()`.
///
/// The file is written under a temporary name beside `url` and renamed into place by `finish()`,
/// so a killed job never leaves a file that looks complete; `discard()` removes the temporary file.
/// A writer released without either removes its temporary file and logs a warning.
///
/// Every dataset is written with Fletcher-32 checksums (see `TileStoreSchema`), and each slide's
/// `content_digest` is computed from the tiles added under it (`SlideDigest`).
public final class TileStoreWriter {
    /// Tiles buffered before a write.
    public static let batchTiles = 64
    /// Bytes (JPEG or raw pixels) buffered before a write. Small, so that a slide's last write
    /// (after the tiler's workers end, on one thread) is short.
    public static let batchBytes = 2 << 20

    public let url: URL
    public let attributes: TileStoreAttributes
    /// Where the file is written until `finish()` renames it to `url`.
    public let temporaryURL: URL

    private enum State { case open, finished, discarded }
    private var state = State.open
    private let file: HDF5File
    private let datasets: Datasets

    private var slides: [SlideRecord] = []
    /// Each slide's content digest: computed from its tiles as they are added, or copied with the
    /// slide by `append(contentsOf:)`.
    private var digests: [SlideDigest] = []
    private var copiedDigests: [Int: String] = [:]
    private var slideIDs: Set<String> = []
    private var currentSlide: Int?
    /// Tiles and bytes already in the file.
    private var writtenTiles = 0
    private var writtenBytes = 0
    /// Tiles and bytes waiting for the next batch write.
    private var pending = TileColumns()
    private var pendingOffsets: [Int64] = []
    private var pendingLengths: [Int64] = []
    private var pendingBytes: [UInt8] = []

    private var path: String { url.path }

    /// The open datasets of the tile columns.
    private struct Datasets {
        let label: HDF5Dataset<Int32>
        let slide: HDF5Dataset<Int32>
        let x: HDF5Dataset<Int64>
        let y: HDF5Dataset<Int64>
        let background: HDF5Dataset<Float>
        /// jpeg encoding: the bytes, and each tile's offset and length.
        let jpeg: HDF5Dataset<UInt8>?
        let offset: HDF5Dataset<Int64>?
        let length: HDF5Dataset<Int64>?
        /// raw encoding: [N, tile, tile, 3].
        let raw: HDF5Dataset<UInt8>?
    }

    /// Creates the file (under its temporary name) with its attributes and empty datasets.
    public init(url: URL, attributes: TileStoreAttributes) throws {
        precondition(attributes.tileSize > 0, "tile size must be positive, got \(attributes.tileSize)")
        precondition(attributes.tiling.jpegQuality.map { (1...100).contains($0) } ?? true,
                     "JPEG quality must be 1…100, got \(attributes.tiling.jpegQuality ?? 0)")
        self.url = url
        self.attributes = attributes
        temporaryURL = AtomicFile.temporaryURL(for: url)
        let path = url.path
        let tmp = temporaryURL
        let file = try withStoreErrors(path) { try HDF5File.create(path: tmp.path) }
        self.file = file
        do {
            datasets = try withStoreErrors(path) {
                try attributes.write(to: file)
                _ = try file.createGroup(TileStoreSchema.Tiles.group)
                _ = try file.createGroup(TileStoreSchema.Slides.group)
                func column<T: HDF5Scalar>(_ column: TileStoreSchema.Tiles, _: T.Type) throws -> HDF5Dataset<T> {
                    try file.createDataset(column.path, of: T.self, shape: [0], maxShape: [nil], chunk: [TileStoreSchema.columnChunk],
                                           checksum: true)
                }
                let t = attributes.tileSize
                let jpeg = attributes.encoding == .jpeg
                return Datasets(
                    label: try column(.label, Int32.self),
                    slide: try column(.slide, Int32.self),
                    x: try column(.x, Int64.self),
                    y: try column(.y, Int64.self),
                    background: try column(.background, Float.self),
                    jpeg: jpeg ? try file.createDataset(TileStoreSchema.Tiles.jpeg.path, of: UInt8.self, shape: [0], maxShape: [nil],
                                                        chunk: [TileStoreSchema.jpegChunkBytes], checksum: true) : nil,
                    offset: jpeg ? try column(.offset, Int64.self) : nil,
                    length: jpeg ? try column(.length, Int64.self) : nil,
                    raw: jpeg ? nil : try file.createDataset(TileStoreSchema.Tiles.raw.path, of: UInt8.self, shape: [0, t, t, 3],
                                                             maxShape: [nil, t, t, 3], chunk: [1, t, t, 3], checksum: true))
            }
        } catch {
            try? file.close()
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
    }

    deinit {
        if state == .open {
            Log.warning("\(path): tile store writer released without finish() or discard(); its temporary file was removed")
            discard()
        }
    }

    /// Tiles added so far (written or buffered).
    public var tileCount: Int { writtenTiles + pending.count }
    /// Slides begun so far.
    public var slideCount: Int { slides.count }

    /// Starts a slide: the tiles added next belong to it. Returns its row in the slide table.
    /// `record.tilesKept` is ignored: the writer counts the tiles added under the slide.
    @discardableResult
    public func beginSlide(_ record: SlideRecord) -> Int {
        precondition(state == .open, "\(path): beginSlide after finish() or discard()")
        precondition(!record.slideID.isEmpty, "\(path): a slide needs an id")
        precondition(!slideIDs.contains(record.slideID), "\(path): slide \(record.slideID) added twice")
        precondition(record.label.map { attributes.classes.contains($0) } ?? true,
                     "\(path): slide \(record.slideID) has label \(record.label!), not one of \(attributes.classes)")
        var row = record
        row.tilesKept = 0
        slides.append(row)
        digests.append(SlideDigest())
        slideIDs.insert(record.slideID)
        currentSlide = slides.count - 1
        return slides.count - 1
    }

    /// Replaces a slide's row, e.g. with `tilesConsidered` once the slide has been tiled. The slide
    /// id stays; `tilesKept` stays the writer's own count of the tiles added under the slide.
    public func updateSlide(_ index: Int, _ record: SlideRecord) {
        precondition(slides.indices.contains(index), "\(path): no slide \(index)")
        precondition(record.slideID == slides[index].slideID,
                     "\(path): updateSlide(\(index)) with slide \(record.slideID), but row \(index) is \(slides[index].slideID)")
        precondition(record.tilesConsidered >= 0, "\(path): negative tiles considered")
        precondition(record.label.map { attributes.classes.contains($0) } ?? true,
                     "\(path): slide \(record.slideID) has label \(record.label!), not one of \(attributes.classes)")
        var row = record
        row.tilesKept = slides[index].tilesKept
        slides[index] = row
    }

    /// Adds a JPEG-encoded tile to the current slide (jpeg stores). The bytes are stored as given;
    /// `digest`, when the caller has it, is their `SlideDigest.hash` (not recomputed here).
    public func addTile(encoded: [UInt8], record: TileRecord, digest: UInt64? = nil) throws {
        precondition(attributes.encoding == .jpeg, "\(path): addTile(encoded:) on a \(attributes.encoding.rawValue) store")
        precondition(!encoded.isEmpty, "\(path): empty JPEG tile")
        pendingOffsets.append(Int64(writtenBytes + pendingBytes.count))
        pendingLengths.append(Int64(encoded.count))
        // One batch's worth up front: growing by doubling copied the batch several times.
        if pendingBytes.capacity < Self.batchBytes { pendingBytes.reserveCapacity(Self.batchBytes + encoded.count) }
        pendingBytes.append(contentsOf: encoded)
        try add(record, digest: digest ?? SlideDigest.hash(encoded))
    }

    /// Adds an uncompressed tile to the current slide (raw stores); `digest` as for `addTile(encoded:)`.
    public func addTile(raw image: RGBImage, record: TileRecord, digest: UInt64? = nil) throws {
        precondition(attributes.encoding == .raw, "\(path): addTile(raw:) on a \(attributes.encoding.rawValue) store")
        precondition(image.width == attributes.tileSize && image.height == attributes.tileSize,
                     "\(path): a \(image.width)×\(image.height) tile in a store of \(attributes.tileSize)² tiles")
        pendingBytes.append(contentsOf: image.pixels)
        try add(record, digest: digest ?? SlideDigest.hash(image.pixels))
    }

    private func add(_ record: TileRecord, digest: UInt64) throws {
        precondition(state == .open, "\(path): addTile after finish() or discard()")
        guard let slide = currentSlide else { preconditionFailure("\(path): addTile before beginSlide") }
        precondition(record.label >= TileStoreSchema.unlabelled && Int(record.label) < attributes.classes.count,
                     "\(path): tile label \(record.label) outside -1..<\(attributes.classes.count)")
        pending.labels.append(record.label)
        pending.slides.append(Int32(slide))
        pending.x.append(record.x)
        pending.y.append(record.y)
        pending.background.append(record.background)
        slides[slide].tilesKept += 1
        digests[slide].add(hash: digest)
        if pending.count >= Self.batchTiles || pendingBytes.count >= Self.batchBytes {
            try flush()
        }
    }

    /// Writes the buffered tiles at the end of the datasets.
    private func flush() throws {
        guard pending.count > 0 else { return }
        try withStoreErrors(path) {
            if let jpeg = datasets.jpeg, let offset = datasets.offset, let length = datasets.length {
                try append(pendingBytes, to: jpeg, at: writtenBytes)
                try append(pendingOffsets, to: offset, at: writtenTiles)
                try append(pendingLengths, to: length, at: writtenTiles)
            } else if let raw = datasets.raw {
                try appendRaw(pendingBytes, count: pending.count, to: raw, at: writtenTiles)
            }
            try writeColumns(pending, at: writtenTiles)
        }
        writtenTiles += pending.count
        writtenBytes += pendingBytes.count
        pending = TileColumns()
        pendingOffsets.removeAll(keepingCapacity: true)
        pendingLengths.removeAll(keepingCapacity: true)
        pendingBytes.removeAll(keepingCapacity: true)
    }

    private func append<T: HDF5Scalar>(_ values: [T], to dataset: HDF5Dataset<T>, at start: Int) throws {
        guard !values.isEmpty else { return }
        try dataset.setExtent([start + values.count])
        try dataset.write(values, offset: [start], count: [values.count])
    }

    private func appendRaw(_ pixels: [UInt8], count: Int, to dataset: HDF5Dataset<UInt8>, at start: Int) throws {
        let t = attributes.tileSize
        try dataset.setExtent([start + count, t, t, 3])
        try dataset.write(pixels, offset: [start, 0, 0, 0], count: [count, t, t, 3])
    }

    private func writeColumns(_ columns: TileColumns, at start: Int) throws {
        try append(columns.labels, to: datasets.label, at: start)
        try append(columns.slides, to: datasets.slide, at: start)
        try append(columns.x, to: datasets.x, at: start)
        try append(columns.y, to: datasets.y, at: start)
        try append(columns.background, to: datasets.background, at: start)
    }

    /// Copies every slide and tile of a finished store file to the end of this one, JPEG bytes as
    /// they are (no decoding), in large bulk reads: how the tiler merges its per-slide files into a
    /// part file. The source's tiling parameters and split must be this file's.
    public func append(contentsOf reader: TileStoreReader) throws {
        precondition(state == .open, "\(path): append after finish() or discard()")
        var differences = reader.attributes.tilingDifferences(from: attributes)
        if reader.attributes.split != attributes.split {
            differences.insert("\(TileStoreSchema.Attribute.split.rawValue): \(reader.attributes.split) vs \(attributes.split)", at: 0)
        }
        guard differences.isEmpty else {
            throw TileStoreError.incompatibleStores(path: path, source: reader.path, differences: differences)
        }
        if let duplicate = reader.slides.first(where: { slideIDs.contains($0.slideID) }) {
            throw TileStoreError.inconsistent(path: path, message: "slide \(duplicate.slideID) of \(reader.path) is already in the file")
        }
        try flush()
        var columns = try reader.tileColumns()
        let firstSlide = slides.count
        var kept = [Int](repeating: 0, count: reader.slides.count)
        for i in columns.slides.indices {
            let s = Int(columns.slides[i])
            guard kept.indices.contains(s) else {
                throw TileStoreError.inconsistent(path: reader.path, message: "tile \(i) belongs to slide \(s), but the file has \(reader.slides.count) slides")
            }
            kept[s] += 1
            columns.slides[i] = Int32(firstSlide + s)
        }

        let sourceBytes: Int
        switch attributes.encoding {
        case .jpeg:
            sourceBytes = reader.jpegByteCount
            try copyBytes(from: reader, count: sourceBytes)
            try withStoreErrors(path) {
                try append(reader.tileOffsets.map { $0 + Int64(writtenBytes) }, to: datasets.offset!, at: writtenTiles)
                try append(reader.tileLengths, to: datasets.length!, at: writtenTiles)
            }
        case .raw:
            sourceBytes = 0
            try copyRawTiles(from: reader)
        }
        try withStoreErrors(path) { try writeColumns(columns, at: writtenTiles) }
        writtenTiles += columns.count
        writtenBytes += sourceBytes

        for (s, record) in reader.slides.enumerated() {
            var row = record
            row.tilesKept = kept[s]
            copiedDigests[slides.count] = reader.contentDigests[s]
            slides.append(row)
            digests.append(SlideDigest())
            slideIDs.insert(row.slideID)
        }
        currentSlide = nil
    }

    /// Copies the source's JPEG byte dataset in `batchBytes` blocks to the end of this file's.
    private func copyBytes(from reader: TileStoreReader, count: Int) throws {
        var copied = 0
        while copied < count {
            let n = min(Self.batchBytes, count - copied)
            let block = try reader.bytes(offset: copied, count: n)
            try withStoreErrors(path) { try append(block, to: datasets.jpeg!, at: writtenBytes + copied) }
            copied += n
        }
    }

    private func copyRawTiles(from reader: TileStoreReader) throws {
        let tileBytes = attributes.tileSize * attributes.tileSize * 3
        let perBlock = max(1, Self.batchBytes / tileBytes)
        var copied = 0
        while copied < reader.tileCount {
            let n = min(perBlock, reader.tileCount - copied)
            let block = try reader.rawPixels(from: copied, count: n)
            try withStoreErrors(path) { try appendRaw(block, count: n, to: datasets.raw!, at: writtenTiles + copied) }
            copied += n
        }
    }

    /// Writes the remaining tiles and the slide table, closes the file and renames it into place.
    public func finish() throws {
        precondition(state == .open, "\(path): finish() called twice or after discard()")
        try flush()
        try withStoreErrors(path) {
            typealias S = TileStoreSchema.Slides
            try file.writeStrings(S.slideID.path, slides.map(\.slideID), checksum: true)
            try file.writeStrings(S.patientID.path, slides.map(\.patientID), checksum: true)
            try file.writeStrings(S.label.path, slides.map { $0.label ?? "" }, checksum: true)
            try file.writeDataset(S.mpp.path, slides.map { $0.mpp ?? Double(TileStoreSchema.unknown) }, checksum: true)
            try file.writeDataset(S.level.path, slides.map { Int32($0.level) }, checksum: true)
            try file.writeDataset(S.downsample.path, slides.map(\.downsample), checksum: true)
            try file.writeDataset(S.width.path, slides.map { Int64($0.width) }, checksum: true)
            try file.writeDataset(S.height.path, slides.map { Int64($0.height) }, checksum: true)
            try file.writeDataset(S.tilesKept.path, slides.map { Int64($0.tilesKept) }, checksum: true)
            try file.writeDataset(S.tilesConsidered.path, slides.map { Int64($0.tilesConsidered) }, checksum: true)
            for reason in TileDropReason.allCases {
                try file.writeDataset(S.tilesDropped(reason), slides.map { Int64($0.tilesDropped[reason] ?? 0) }, checksum: true)
            }
            try file.writeStrings(S.contentDigest.path, slides.indices.map { copiedDigests[$0] ?? digests[$0].text }, checksum: true)
            try file.writeStrings(S.reader.path, slides.map { $0.reader ?? "" }, checksum: true)
            try file.close()
        }
        try AtomicFile.commit(temporaryURL, to: url)
        state = .finished
    }

    /// Abandons the file: closes it and removes the temporary file. Safe after a failed `finish()`.
    public func discard() {
        guard state == .open else { return }
        try? file.close()
        state = .discarded
        try? FileManager.default.removeItem(at: temporaryURL)
    }
}
