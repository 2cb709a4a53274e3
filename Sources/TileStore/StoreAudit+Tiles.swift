import Foundation
import JPEG
import TesseraCore
import Tiling

/// The audit's second pass: the tile columns and pixels of every readable file.
extension StoreAuditRun {

    /// Findings about many tiles of one file, grouped by what is wrong.
    struct TileFindings {
        private(set) var order: [String] = []
        private(set) var examples: [String: [String]] = [:]
        mutating func add(_ what: String, _ example: String) {
            if examples[what] == nil { order.append(what) }
            examples[what, default: []].append(example)
        }
    }

    /// Pass 2: tile columns and pixels of each readable file.
    func checkTiles() throws {
        let total = surveyed.reduce(0) { $0 + $1.tileCount }
        let progress = options.checkPixels && total > 0
            ? ProgressLog("checking tile pixels", total: total, unit: "tiles", interval: options.progressInterval) : nil
        let decoders = try DecoderPool(count: options.workers)
        for k in surveyed.indices {
            let file = surveyed[k]
            do {
                let reader = try TileStoreReader(url: file.url)
                defer { try? reader.close() }
                let (valid, findings) = try checkColumns(reader, &surveyed[k])
                for what in findings.order {
                    report(.tileRecords, file.relative, what, findings.examples[what]!)
                }
                checkSlideTable(surveyed[k])
                if options.checkPixels {
                    try checkPixels(reader, valid, file.relative, decoders, progress)
                }
            } catch {
                problem(kind(of: error), file.relative, message(of: error))
            }
        }
    }

    /// Checks every tile's record; returns which tiles have bytes to decode.
    func checkColumns(_ reader: TileStoreReader, _ file: inout SurveyedFile) throws -> ([Bool], TileFindings) {
        let columns = try reader.tileColumns()
        let a = reader.attributes
        let slides = reader.slides
        let classCount = Int32(a.classes.count)
        // A slide's label as an index; nil when the slide's label is not a class (reported apart).
        let slideLabels: [Int32?] = slides.map { slide in
            guard let label = slide.label else { return TileStoreSchema.unlabelled }
            return a.classes.firstIndex(of: label).map { Int32($0) }
        }
        var findings = TileFindings()
        var valid = [Bool](repeating: true, count: columns.count)
        var perSlide = [Int](repeating: 0, count: slides.count)
        var perLabel: [Int32: Int] = [:]
        for i in 0..<columns.count {
            let label = columns.labels[i]
            if label < TileStoreSchema.unlabelled || label >= classCount {
                findings.add("tiles with a label outside -1..<\(classCount)", "tile \(i) (label \(label))")
            } else {
                perLabel[label, default: 0] += 1
            }
            if a.encoding == .jpeg {
                let offset = reader.tileOffsets[i], length = reader.tileLengths[i]
                if offset < 0 || length <= 0 || offset + length > Int64(reader.jpegByteCount) {
                    findings.add("tiles whose bytes lie outside /\(TileStoreSchema.Tiles.jpeg.path) (\(reader.jpegByteCount) bytes)",
                                 "tile \(i) (\(offset)..<\(offset + length))")
                    valid[i] = false
                }
            }
            let s = Int(columns.slides[i])
            guard s >= 0 && s < slides.count else {
                findings.add("tiles with a slide index outside 0..<\(slides.count)", "tile \(i) (slide \(s))")
                continue
            }
            perSlide[s] += 1
            if i > 0 && columns.slides[i - 1] > columns.slides[i] {
                findings.add("tiles out of slide order (a slide's tiles must be contiguous)",
                             "tile \(i) (slide \(s) after slide \(columns.slides[i - 1]))")
            }
            let slide = slides[s]
            if let expected = slideLabels[s], label != expected, label >= TileStoreSchema.unlabelled, label < classCount {
                findings.add("tiles labelled otherwise than their slide",
                             "tile \(i) (label \(label), slide \(slide.slideID) is \(slide.label ?? "unlabelled"))")
            }
            let x = columns.x[i], y = columns.y[i]
            if x < 0 || y < 0 || x >= Int64(slide.width) || y >= Int64(slide.height) {
                findings.add("tiles whose top-left corner is outside their slide",
                             "tile \(i) at (\(x), \(y)) on \(slide.slideID) of \(slide.width)×\(slide.height)")
            }
            let background = columns.background[i]
            if !(background >= 0 && background <= 1 && Double(background) <= a.tiling.maxBackground + 1e-6) {
                findings.add("tiles whose background fraction is outside 0…\(a.tiling.maxBackground) (max_background)",
                             "tile \(i) (\(background))")
            }
        }
        file.tilesPerSlide = perSlide
        file.tilesPerLabel = perLabel
        return (valid, findings)
    }

    func checkSlideTable(_ file: SurveyedFile) {
        var examples: [String: [String]] = [:]
        var order: [String] = []
        func add(_ what: String, _ example: String) {
            if examples[what] == nil { order.append(what) }
            examples[what, default: []].append(example)
        }
        for (s, slide) in file.slides.enumerated() {
            if let label = slide.label, !file.attributes.classes.contains(label) {
                add("slides whose label is not one of the classes \(file.attributes.classes)", "\(slide.slideID) (\(label))")
            }
            if slide.tilesKept != file.tilesPerSlide[s] {
                add("slides whose tiles_kept is not their number of tiles",
                    "\(slide.slideID) (tiles_kept \(slide.tilesKept), tiles \(file.tilesPerSlide[s]))")
            }
            if slide.tilesKept > slide.tilesConsidered {
                add("slides that kept more tiles than they considered",
                    "\(slide.slideID) (\(slide.tilesKept) > \(slide.tilesConsidered))")
            }
            if slide.width <= 0 || slide.height <= 0 || !(slide.downsample > 0) {
                add("slides with an impossible size or downsample",
                    "\(slide.slideID) (\(slide.width)×\(slide.height), downsample \(slide.downsample))")
            }
        }
        for what in order { report(.slideTable, file.relative, what, examples[what]!) }
    }

    /// Decodes every JPEG tile with valid bytes on all workers (or reads every raw tile).
    func checkPixels(_ reader: TileStoreReader, _ valid: [Bool], _ relative: String, _ decoders: DecoderPool,
                     _ progress: ProgressLog?) throws {
        var failed: [String] = [], damagedTiles: [String] = []
        let size = reader.attributes.tileSize
        switch reader.attributes.encoding {
        case .jpeg:
            let indices = valid.indices.filter { valid[$0] }
            progress?.advance(by: valid.count - indices.count)
            var start = 0
            while start < indices.count {
                var wanted = Array(indices[start..<min(start + options.batchTiles, indices.count)])
                start += wanted.count
                let bytes: [[UInt8]]
                do {
                    bytes = try reader.encodedTiles(wanted)
                } catch TileStoreError.damagedTile {
                    // Name every damaged tile of the batch, then decode the others.
                    let damaged = try reader.damagedTiles(wanted)
                    damagedTiles.append(contentsOf: damaged.map { "tile \($0)" })
                    report.tilesChecked += damaged.count
                    progress?.advance(by: damaged.count)
                    wanted = wanted.filter { !damaged.contains($0) }
                    bytes = try reader.encodedTiles(wanted)
                }
                let batch = wanted
                let results = DecodeResults(count: batch.count)
                let workers = min(decoders.decoders.count, batch.count)
                DispatchQueue.concurrentPerform(iterations: workers) { w in
                    let decoder = decoders.decoders[w]
                    for k in stride(from: w, to: batch.count, by: workers) {
                        results.set(k, Self.decodeFailure(bytes[k], tileSize: size, decoder: decoder))
                    }
                }
                for (k, failure) in results.all.enumerated() {
                    if let failure { failed.append("tile \(batch[k]) (\(failure))") }
                }
                report.tilesChecked += batch.count
                progress?.advance(by: batch.count)
            }
        case .raw:
            let perBlock = max(1, TileStoreWriter.batchBytes / (size * size * 3))
            var start = 0
            while start < reader.tileCount {
                let n = min(perBlock, reader.tileCount - start)
                do {
                    _ = try reader.rawPixels(from: start, count: n)
                } catch TileStoreError.damagedData {
                    damagedTiles += try reader.damagedTiles(Array(start..<(start + n))).map { "tile \($0)" }
                }
                report.tilesChecked += n
                progress?.advance(by: n)
                start += n
            }
        }
        report(.damagedTile, relative, "tiles whose stored bytes fail their Fletcher-32 checksum (the file changed after it was written)",
               damagedTiles)
        report(.undecodableTile, relative, "tiles that do not decode to \(size)×\(size) pixels", failed)
    }

    /// Why a tile's bytes are not a `tileSize`² JPEG, or nil when they are.
    static func decodeFailure(_ bytes: [UInt8], tileSize: Int, decoder: JPEGDecoder) -> String? {
        do {
            let image = try decoder.decode(bytes)
            if image.width != tileSize || image.height != tileSize {
                return "decodes to \(image.width)×\(image.height)"
            }
            return nil
        } catch {
            return "\(error)"
        }
    }
}

/// One JPEG decoder per worker thread; each thread uses only its own.
final class DecoderPool: @unchecked Sendable {
    let decoders: [JPEGDecoder]
    init(count: Int) throws { decoders = try (0..<count).map { _ in try JPEGDecoder() } }
}

/// Per-tile decode results written by several threads, each to its own slots.
private final class DecodeResults: @unchecked Sendable {
    private var slots: [String?]
    private let lock = NSLock()
    init(count: Int) { slots = [String?](repeating: nil, count: count) }
    func set(_ index: Int, _ value: String?) {
        guard let value else { return }
        lock.lock()
        slots[index] = value
        lock.unlock()
    }
    var all: [String?] { slots }
}
