import Foundation
import HDF5
import JPEG
import TesseraCore
import TesseraTestSupport
import TileStore
import Tiling
import XCTest

/// Writing and reading store files: everything written comes back bit for bit.
final class TileStoreRoundTripTests: XCTestCase {
    func testJPEGStoreRoundTrip() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "store")
        let url = dir.appendingPathComponent("part-0000-of-0001.h5")
        var attributes = StoreFixtures.attributes()
        attributes.tiling.target = .magnification(20)
        let writer = try TileStoreWriter(url: url, attributes: attributes)
        // Written under a hidden temporary name until finish().
        XCTAssertEqual(writer.temporaryURL.deletingLastPathComponent().path, dir.path)
        XCTAssertTrue(writer.temporaryURL.lastPathComponent.hasPrefix(".part-0000-of-0001.h5.tmp-"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: writer.temporaryURL.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))

        let s1 = SlideRecord(slideID: "TCGA-AA-0001", patientID: "TCGA-AA", label: "LUSC", mpp: 0.499, level: 1,
                             downsample: 4.000_5, width: 35_544, height: 28_536)
        let s2 = SlideRecord(slideID: "slide-no-mpp", patientID: "P2", label: nil, mpp: nil, level: 0, downsample: 1,
                             width: 4443, height: 3567)
        XCTAssertEqual(writer.beginSlide(s1), 0)
        let tiles = try (0..<5).map { try StoreFixtures.jpeg(seed: $0) }
        let records = (0..<5).map { (n: Int) -> TileRecord in
            let label: Int32 = n < 3 ? 1 : -1
            return TileRecord(label: label, x: Int64(512 * n), y: (1 << 33) + Int64(n), background: Float(n) / 8)
        }
        for n in 0..<3 { try writer.addTile(encoded: tiles[n], record: records[n]) }
        var considered = s1
        considered.tilesConsidered = 17
        writer.updateSlide(0, considered)
        XCTAssertEqual(writer.beginSlide(s2), 1)
        for n in 3..<5 { try writer.addTile(encoded: tiles[n], record: records[n]) }
        XCTAssertEqual(writer.tileCount, 5)
        try writer.finish()
        XCTAssertTrue(FileManager.default.fileExists(atPath: url.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: writer.temporaryURL.path))

        let reader = try TileStoreReader(url: url)
        XCTAssertEqual(reader.attributes, attributes)
        XCTAssertEqual(reader.tileCount, 5)
        var expected1 = s1
        expected1.tilesKept = 3
        expected1.tilesConsidered = 17
        var expected2 = s2
        expected2.tilesKept = 2
        XCTAssertEqual(reader.slides, [expected1, expected2])
        let columns = try reader.tileColumns()
        XCTAssertEqual(columns.labels, [1, 1, 1, -1, -1])
        XCTAssertEqual(columns.slides, [0, 0, 0, 1, 1])
        XCTAssertEqual((0..<5).map(columns.record), records)
        XCTAssertEqual(reader.tileLengths, tiles.map { Int64($0.count) })
        XCTAssertEqual(reader.jpegByteCount, tiles.reduce(0) { $0 + $1.count })
        for n in 0..<5 { XCTAssertEqual(try reader.encodedTile(n), tiles[n], "tile \(n)") }
        // Batch reads in any order, with repeats.
        XCTAssertEqual(try reader.encodedTiles([4, 0, 2, 0]), [tiles[4], tiles[0], tiles[2], tiles[0]])
        XCTAssertEqual(try reader.encodedTiles([]), [])
        // Decoded pixels are the JPEG decoder's, at full and reduced scale.
        let decoder = try JPEGDecoder()
        XCTAssertEqual(try reader.image(3, decoder: decoder), try decoder.decode(tiles[3]))
        let half = try reader.image(3, decoder: decoder, scale: 2)
        XCTAssertEqual([half.width, half.height], [8, 8])
        try reader.close()

        // The raw HDF5 layout is the documented schema (h5py users read it without Tessera).
        let file = try HDF5File.open(path: url.path)
        XCTAssertEqual(try file.intAttribute("schema_version"), 1)
        XCTAssertEqual(try file.stringAttribute("format"), "tessera-tile-store")
        // One target (here 20×); the others are -1, "not given".
        XCTAssertEqual(try file.doubleAttribute("target_mpp"), -1)
        XCTAssertEqual(try file.doubleAttribute("target_magnification"), 20)
        XCTAssertEqual(try file.intAttribute("level"), -1)
        XCTAssertEqual(try file.intAttribute("split_seed"), Int64(bitPattern: 0xFEED_FACE_CAFE_BEEF))
        XCTAssertEqual(try file.readStrings("slides/label"), ["LUSC", ""])
        XCTAssertEqual(try file.readDataset("slides/mpp", of: Double.self), [0.499, -1])
        XCTAssertEqual(try file.readDataset("tiles/offset", of: Int64.self),
                       [0, 1, 2, 3, 4].map { n in Int64(tiles[..<n].reduce(0) { $0 + $1.count }) })
        XCTAssertEqual(try file.readDataset("tiles/jpeg", of: UInt8.self), tiles.flatMap { $0 })
        XCTAssertFalse(file.exists("tiles/raw"))
        try file.close()
    }

    func testRawStoreRoundTrip() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "store")
        let url = dir.appendingPathComponent("raw.h5")
        var attributes = StoreFixtures.attributes(encoding: .raw, tileSize: 8)
        attributes.tiling.target = .level(2)
        let writer = try TileStoreWriter(url: url, attributes: attributes)
        writer.beginSlide(StoreFixtures.slide("R1", patient: "P1"))
        let images = (0..<3).map { StoreFixtures.image(seed: $0, size: 8) }
        for (n, image) in images.enumerated() { try writer.addTile(raw: image, record: StoreFixtures.record(n)) }
        try writer.finish()

        let reader = try TileStoreReader(url: url)
        XCTAssertEqual(reader.attributes, attributes)
        XCTAssertEqual(reader.attributes.tiling.target.fields.mpp, nil)
        XCTAssertEqual(reader.attributes.tiling.target.fields.level, 2)
        XCTAssertEqual(reader.attributes.tiling.jpegQuality, nil)
        XCTAssertEqual(reader.tileCount, 3)
        XCTAssertEqual(reader.slides.map(\.tilesKept), [3])
        let decoder = try JPEGDecoder()
        // Raw pixels come back exactly.
        XCTAssertEqual(try reader.images([2, 0, 1], decoder: decoder), [images[2], images[0], images[1]])
        // Reduced scale: 2×2 box average, rounded.
        let small = try reader.image(1, decoder: decoder, scale: 2)
        XCTAssertEqual([small.width, small.height], [4, 4])
        let p = images[1].pixels
        let expectedRed = (Int(p[0]) + Int(p[3]) + Int(p[8 * 3]) + Int(p[8 * 3 + 3]) + 2) / 4
        XCTAssertEqual(Int(small.pixels[0]), expectedRed)
        XCTAssertThrowsError(try reader.encodedTile(0)) { error in
            XCTAssertEqual(error as? TileStoreError, .wrongEncoding(path: url.path, expected: .jpeg, found: .raw))
        }
        XCTAssertThrowsError(try reader.image(3, decoder: decoder)) { error in
            XCTAssertEqual(error as? TileStoreError, .tileIndexOutOfRange(path: url.path, index: 3, count: 3))
        }
        try reader.close()
        let file = try HDF5File.open(path: url.path)
        XCTAssertEqual(try file.openDataset("tiles/raw", of: UInt8.self).shape, [3, 8, 8, 3])
        XCTAssertFalse(file.exists("tiles/jpeg"))
        try file.close()
    }

    /// More tiles than one batch: the writer streams, the reader sees every tile where it belongs.
    func testStreamingManyBatches() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "store")
        let url = dir.appendingPathComponent("big.h5")
        let writer = try TileStoreWriter(url: url, attributes: StoreFixtures.attributes())
        let count = 589
        XCTAssertGreaterThan(count - 300, 2 * TileStoreWriter.batchTiles, "each slide spans several write batches")
        let distinct = try (0..<7).map { try StoreFixtures.jpeg(seed: $0) }
        writer.beginSlide(StoreFixtures.slide("A", patient: "P1"))
        for n in 0..<300 { try writer.addTile(encoded: distinct[n % 7], record: StoreFixtures.record(n)) }
        writer.beginSlide(StoreFixtures.slide("B", patient: "P1"))
        for n in 300..<count { try writer.addTile(encoded: distinct[n % 7], record: StoreFixtures.record(n - 300)) }
        try writer.finish()

        let reader = try TileStoreReader(url: url)
        XCTAssertEqual(reader.tileCount, 589)
        XCTAssertEqual(reader.slides.map(\.tilesKept), [300, 289])
        let columns = try reader.tileColumns()
        XCTAssertEqual(columns.slides.filter { $0 == 0 }.count, 300)
        XCTAssertEqual(columns.slides[299...300], [0, 1])
        XCTAssertEqual(columns.record(300), StoreFixtures.record(0))
        XCTAssertEqual(columns.record(588), StoreFixtures.record(288))
        let all = try reader.encodedTiles(Array(0..<count))
        for n in 0..<count where all[n] != distinct[n % 7] { XCTFail("tile \(n) differs"); break }
        XCTAssertEqual(try reader.encodedTiles([588, 256, 255, 3]), [distinct[0], distinct[4], distinct[3], distinct[3]])
        // The byte dataset is chunked in 256 KiB and extendible.
        let file = try HDF5File.open(path: url.path)
        XCTAssertEqual(try file.openDataset("tiles/jpeg", of: UInt8.self).shape, [reader.jpegByteCount])
        try file.close()
    }

    /// A store with no slides (a task that got none of a split) and one with a slide but no tiles.
    func testEmptyStores() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "store")
        let none = dir.appendingPathComponent("none.h5")
        try TileStoreWriter(url: none, attributes: StoreFixtures.attributes()).finish()
        let reader = try TileStoreReader(url: none)
        XCTAssertEqual(reader.tileCount, 0)
        XCTAssertEqual(reader.slides, [])
        XCTAssertEqual(try reader.tileColumns(), TileColumns())
        try reader.close()

        let empty = dir.appendingPathComponent("empty-slide.h5")
        try StoreFixtures.writeJPEGFile(empty, slides: [(StoreFixtures.slide("E", patient: "P"), 0)])
        let again = try TileStoreReader(url: empty)
        XCTAssertEqual(again.tileCount, 0)
        XCTAssertEqual(again.slides.map(\.slideID), ["E"])
        XCTAssertEqual(again.slides.map(\.tilesKept), [0])
        try again.close()
    }

    /// Merging per-slide files gives the concatenation: slides in order, slide indices shifted,
    /// offsets shifted, bytes identical.
    func testAppendContentsOfMergesFiles() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "store")
        let a = dir.appendingPathComponent("a.h5"), b = dir.appendingPathComponent("b.h5")
        let bytesA = try StoreFixtures.writeJPEGFile(a, slides: [(StoreFixtures.slide("A1", patient: "P1"), 3),
                                                                 (StoreFixtures.slide("A2", patient: "P1", label: nil), 2)])
        let bytesB = try StoreFixtures.writeJPEGFile(b, slides: [(StoreFixtures.slide("B1", patient: "P2", label: "LUSC"), 4)],
                                                     seedBase: 100)
        let merged = dir.appendingPathComponent("merged.h5")
        let writer = try TileStoreWriter(url: merged, attributes: StoreFixtures.attributes())
        // A slide added directly before the merged ones.
        writer.beginSlide(StoreFixtures.slide("D", patient: "P3"))
        let direct = try StoreFixtures.jpeg(seed: 999)
        try writer.addTile(encoded: direct, record: StoreFixtures.record(0))
        for url in [a, b] {
            let reader = try TileStoreReader(url: url)
            try writer.append(contentsOf: reader)
            try reader.close()
        }
        XCTAssertEqual(writer.tileCount, 10)
        XCTAssertEqual(writer.slideCount, 4)
        try writer.finish()

        let reader = try TileStoreReader(url: merged)
        XCTAssertEqual(reader.slides.map(\.slideID), ["D", "A1", "A2", "B1"])
        XCTAssertEqual(reader.slides.map(\.tilesKept), [1, 3, 2, 4])
        XCTAssertEqual(reader.slides.map(\.tilesConsidered), [100, 6, 4, 8])
        XCTAssertEqual(reader.slides.map(\.label), ["LUAD", "LUAD", nil, "LUSC"])
        let columns = try reader.tileColumns()
        XCTAssertEqual(columns.slides, [0, 1, 1, 1, 2, 2, 3, 3, 3, 3])
        XCTAssertEqual(columns.labels, [0, 0, 0, 0, -1, -1, 1, 1, 1, 1])
        XCTAssertEqual(try reader.encodedTiles(Array(0..<10)), [direct] + bytesA + bytesB)
        let sourceA = try TileStoreReader(url: a)
        let sourceColumns = try sourceA.tileColumns()
        XCTAssertEqual(Array(columns.x[1...5]), sourceColumns.x)
        XCTAssertEqual(Array(columns.background[1...5]), sourceColumns.background)
        try sourceA.close()
        try reader.close()
    }

    func testAppendRawStores() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "store")
        let source = dir.appendingPathComponent("source.h5")
        let attributes = StoreFixtures.attributes(encoding: .raw, tileSize: 8)
        let writer = try TileStoreWriter(url: source, attributes: attributes)
        writer.beginSlide(StoreFixtures.slide("R1", patient: "P1"))
        let images = (0..<4).map { StoreFixtures.image(seed: $0, size: 8) }
        for (n, image) in images.enumerated() { try writer.addTile(raw: image, record: StoreFixtures.record(n)) }
        try writer.finish()

        let merged = dir.appendingPathComponent("merged.h5")
        let target = try TileStoreWriter(url: merged, attributes: attributes)
        let reader = try TileStoreReader(url: source)
        try target.append(contentsOf: reader)
        try target.finish()
        let result = try TileStoreReader(url: merged)
        XCTAssertEqual(try result.images([0, 1, 2, 3], decoder: JPEGDecoder()), images)
        XCTAssertEqual(result.slides.map(\.tilesKept), [4])
    }

    func testAppendRefusesDifferentParametersAndDuplicateSlides() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "store")
        let source = dir.appendingPathComponent("source.h5")
        try StoreFixtures.writeJPEGFile(source, slides: [(StoreFixtures.slide("S1", patient: "P1"), 1)])
        let reader = try TileStoreReader(url: source)

        var other = StoreFixtures.attributes()
        other.tiling.tileSize = 32
        other.classes = ["LUAD", "LUSC", "normal"]
        let writer = try TileStoreWriter(url: dir.appendingPathComponent("other.h5"), attributes: other)
        XCTAssertThrowsError(try writer.append(contentsOf: reader)) { error in
            XCTAssertEqual(error as? TileStoreError, .incompatibleStores(
                path: dir.appendingPathComponent("other.h5").path, source: source.path,
                differences: ["classes: LUAD,LUSC vs LUAD,LUSC,normal", "tile_size: 16 vs 32"]))
        }
        writer.discard()
        XCTAssertFalse(FileManager.default.fileExists(atPath: writer.temporaryURL.path))

        let validation = try TileStoreWriter(url: dir.appendingPathComponent("validation.h5"),
                                             attributes: StoreFixtures.attributes(split: "validation"))
        XCTAssertThrowsError(try validation.append(contentsOf: reader)) { error in
            XCTAssertTrue("\(error)".contains("split: train vs validation"), "\(error)")
        }
        validation.discard()

        let twice = try TileStoreWriter(url: dir.appendingPathComponent("twice.h5"), attributes: StoreFixtures.attributes())
        try twice.append(contentsOf: reader)
        XCTAssertThrowsError(try twice.append(contentsOf: reader)) { error in
            XCTAssertTrue("\(error)".contains("slide S1 of \(source.path) is already in the file"), "\(error)")
        }
        twice.discard()
        try reader.close()
    }

    func testDiscardAndReleaseLeaveNoFile() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "store")
        let url = dir.appendingPathComponent("gone.h5")
        let writer = try TileStoreWriter(url: url, attributes: StoreFixtures.attributes())
        writer.beginSlide(StoreFixtures.slide("S", patient: "P"))
        try writer.addTile(encoded: StoreFixtures.jpeg(seed: 1), record: StoreFixtures.record(0))
        writer.discard()
        writer.discard()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])

        do {
            let dropped = try TileStoreWriter(url: url, attributes: StoreFixtures.attributes())
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).count, 1)
            withExtendedLifetime(dropped) {}
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    func testLayoutNames() {
        XCTAssertEqual(TileStoreLayout.partFileName(task: 3, taskCount: 8), "part-0003-of-0008.h5")
        XCTAssertEqual(TileStoreLayout.partFileName(task: 12, taskCount: 12_000), "part-00012-of-12000.h5")
        XCTAssertEqual(TileStoreLayout.failuresFileName(task: 0, taskCount: 2), "task-0000-of-0002.csv")
        XCTAssertEqual(TileStoreLayout.testFileName(slideID: "TCGA-CR-7395"), "TCGA-CR-7395.h5")
    }

    /// The names on disk that are derived rather than written out: spec-field attributes (from the
    /// coding keys' case names) and dataset paths (from their group).
    func testDerivedSchemaNames() {
        XCTAssertEqual(TilingSpec.Key.allCases.map { TileStoreSchema.Attribute.name(ofSpecField: $0.rawValue) },
                       ["tile_size", "target_mpp", "target_magnification", "level", "background_threshold", "max_background",
                        "jpeg_quality", "tissue_rule", "qc", "pen_max", "blur_min", "fold_max", "bubble_max", "blur_block_min"])
        XCTAssertEqual(TileStoreSchema.Tiles.jpeg.path, "tiles/jpeg")
        XCTAssertEqual(TileStoreSchema.Slides.contentDigest.path, "slides/content_digest")
        XCTAssertEqual(TileStoreSchema.Slides.tilesDropped(.pen), "slides/tiles_dropped_pen")
    }
}
