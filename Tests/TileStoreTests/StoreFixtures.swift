import Foundation
import JPEG
import TesseraCore
import TileStore
import Tiling
import XCTest

/// Small stores built with the writer, so every test knows exactly what it holds.
enum StoreFixtures {
    static let classes = ["LUAD", "LUSC"]

    static func attributes(split: String = "train", encoding: TileEncoding = .jpeg, tileSize: Int = 16,
                           task: Int = 0, taskCount: Int = 1) -> TileStoreAttributes {
        TileStoreAttributes(split: split, classes: classes,
                            tiling: TilingSpec(tileSize: tileSize, target: .mpp(0.5), backgroundThreshold: 220, maxBackground: 0.5,
                                               jpegQuality: encoding == .jpeg ? 90 : nil),
                            splitSeed: 0xFEED_FACE_CAFE_BEEF,
                            splitFractions: [0.7, 0.15, 0.15], tesseraVersion: "0.1.0-test",
                            created: "2026-11-29T12:00:00Z", task: task, taskCount: taskCount)
    }

    static func slide(_ id: String, patient: String, label: String? = "LUAD", width: Int = 4096, height: Int = 2048) -> SlideRecord {
        SlideRecord(slideID: id, patientID: patient, label: label, mpp: 0.5, level: 0, downsample: 1,
                    width: width, height: height, tilesConsidered: 100)
    }

    /// A tile whose pixels depend on `seed` (so tiles differ), `size`² pixels.
    static func image(seed: Int, size: Int = 16) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: size * size * 3)
        for y in 0..<size {
            for x in 0..<size {
                let i = (y * size + x) * 3
                pixels[i] = UInt8(truncatingIfNeeded: seed &* 37 &+ x &* 8)
                pixels[i + 1] = UInt8(truncatingIfNeeded: seed &* 11 &+ y &* 8)
                pixels[i + 2] = UInt8(truncatingIfNeeded: 200 &- seed)
            }
        }
        return RGBImage(width: size, height: size, pixels: pixels)
    }

    static func jpeg(seed: Int, size: Int = 16) throws -> [UInt8] {
        try JPEGEncoder(quality: 90).encode(image(seed: seed, size: size))
    }

    /// The record of tile `n` of a slide labelled `label` (class index, −1 = none).
    static func record(_ n: Int, label: Int32 = 0) -> TileRecord {
        TileRecord(label: label, x: Int64(16 * (n % 200)), y: Int64(16 * (n / 200)), background: Float(n % 5) / 10)
    }

    /// Writes a jpeg store file holding `slides`, each with its number of tiles; tile n of the file
    /// has the JPEG of seed `seedBase + n`. Returns the JPEG bytes written, in order.
    @discardableResult
    static func writeJPEGFile(_ url: URL, split: String = "train", slides: [(SlideRecord, Int)], seedBase: Int = 0,
                              task: Int = 0, taskCount: Int = 1) throws -> [[UInt8]] {
        let writer = try TileStoreWriter(url: url, attributes: attributes(split: split, task: task, taskCount: taskCount))
        var written: [[UInt8]] = []
        for (slide, tiles) in slides {
            let index = writer.beginSlide(slide)
            let label = slide.label.flatMap { classes.firstIndex(of: $0) }.map { Int32($0) } ?? -1
            for n in 0..<tiles {
                let bytes = try jpeg(seed: seedBase + written.count)
                try writer.addTile(encoded: bytes, record: record(n, label: label))
                written.append(bytes)
            }
            var tiled = slide
            tiled.tilesConsidered = tiles * 2
            writer.updateSlide(index, tiled)
        }
        try writer.finish()
        return written
    }

    /// A clean store: train (2 parts), validation (1 part), test (one file per slide), splits.csv.
    ///
    ///   train/part-0000-of-0002.h5   T1 (P1, LUAD, 3 tiles), T2 (P1, LUAD, 2 tiles)
    ///   train/part-0001-of-0002.h5   T3 (P2, LUSC, 4 tiles), T4 (P3, unlabelled, 0 tiles)
    ///   validation/part-0000-of-0002.h5  V1 (P4, LUSC, 2 tiles)
    ///   test/X1.h5                   X1 (P5, LUAD, 1 tile)
    ///   test/X2.h5                   X2 (P6, LUSC, 3 tiles)
    static func writeCleanStore(_ store: URL) throws {
        for split in TileStoreLayout.splits {
            try FileManager.default.createDirectory(at: store.appendingPathComponent(split), withIntermediateDirectories: true)
        }
        let train = store.appendingPathComponent("train")
        try writeJPEGFile(train.appendingPathComponent(TileStoreLayout.partFileName(task: 0, taskCount: 2)),
                          slides: [(slide("T1", patient: "P1"), 3), (slide("T2", patient: "P1"), 2)], seedBase: 0, taskCount: 2)
        try writeJPEGFile(train.appendingPathComponent(TileStoreLayout.partFileName(task: 1, taskCount: 2)),
                          slides: [(slide("T3", patient: "P2", label: "LUSC"), 4), (slide("T4", patient: "P3", label: nil), 0)],
                          seedBase: 10, task: 1, taskCount: 2)
        try writeJPEGFile(store.appendingPathComponent("validation/part-0000-of-0002.h5"), split: "validation",
                          slides: [(slide("V1", patient: "P4", label: "LUSC"), 2)], seedBase: 20, taskCount: 2)
        try writeJPEGFile(store.appendingPathComponent("test/X1.h5"), split: "test",
                          slides: [(slide("X1", patient: "P5"), 1)], seedBase: 30)
        try writeJPEGFile(store.appendingPathComponent("test/X2.h5"), split: "test",
                          slides: [(slide("X2", patient: "P6", label: "LUSC"), 3)], seedBase: 40, task: 0)
        let splits = [["P1", "train"], ["P2", "train"], ["P3", "train"], ["P4", "validation"], ["P5", "test"], ["P6", "test"]]
        let csv = CSV.document(header: TileStoreLayout.splitsHeader, rows: splits)
        try Data(csv.utf8).write(to: store.appendingPathComponent(TileStoreLayout.splitsFile))
    }
}
