import Foundation
import JPEG
import TesseraCore
import TileStore
import Tiling

/// A small labelled store built with the writer: three classes of 32² tiles told apart by texture
/// (axis-aligned stripes, diagonal stripes, dots — distinct under the flips and rotations of
/// augmentation) under random colours and phases, so a CNN must learn shape, not colour.
enum TrainingStoreFixture {
    static let classes = ["LUAD", "LUSC", "normal"]

    static func tile(label: Int, seed: Int, size: Int = 32) -> RGBImage {
        var rng = SeededGenerator(seed: UInt64(seed))
        let base = (0..<3).map { _ in 60 + Double(rng.next() % 140) }
        let phase = Int(rng.next() % 8), period = 8
        var p = [UInt8](repeating: 0, count: size * size * 3)
        for y in 0..<size {
            for x in 0..<size {
                let on: Bool
                switch label {
                case 0: on = (y + phase) % period < period / 2
                case 1: on = (x + y + phase) % period < period / 2
                default: on = ((x + phase) % period < 4) && ((y + phase) % period < 4)
                }
                for c in 0..<3 { p[(y * size + x) * 3 + c] = UInt8(min(255, base[c] + (on ? 60 : 0))) }
            }
        }
        return RGBImage(width: size, height: size, pixels: p)
    }

    static func attributes(split: String, tileSize: Int, task: Int, taskCount: Int, encoding: TileEncoding = .jpeg) -> TileStoreAttributes {
        TileStoreAttributes(split: split, classes: classes,
                            tiling: TilingSpec(tileSize: tileSize, target: .mpp(0.5), backgroundThreshold: 220, maxBackground: 0.5,
                                               jpegQuality: encoding == .jpeg ? 95 : nil),
                            splitSeed: 1, splitFractions: [0.7, 0.15, 0.15], tesseraVersion: "test",
                            created: "2026-11-29T00:00:00Z", task: task, taskCount: taskCount)
    }

    /// train/ in two part files (`perClass` tiles of each class in all), validation/ with a quarter as
    /// many. `labelOverride` writes every training tile with that label index instead (bad input).
    static func write(_ store: URL, perClass: Int = 48, tileSize: Int = 32, labelOverride: Int32? = nil,
                      encoding: TileEncoding = .jpeg) throws {
        let encoder = try JPEGEncoder(quality: 95)
        func part(_ split: String, task: Int, count: Int, seedBase: Int) throws {
            let folder = store.appendingPathComponent(split)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let writer = try TileStoreWriter(url: folder.appendingPathComponent(TileStoreLayout.partFileName(task: task, taskCount: 2)),
                                             attributes: attributes(split: split, tileSize: tileSize, task: task, taskCount: 2, encoding: encoding))
            for label in 0..<classes.count {
                let slide = writer.beginSlide(SlideRecord(slideID: "\(split)-\(task)-\(classes[label])", patientID: "P\(split)\(task)\(label)",
                                                          label: classes[label], mpp: 0.5, level: 0, downsample: 1,
                                                          width: 10_000, height: 10_000, tilesConsidered: count))
                for n in 0..<count {
                    let image = tile(label: label, seed: seedBase + label * 10_000 + n, size: tileSize)
                    let record = TileRecord(label: labelOverride ?? Int32(label), x: Int64(n * tileSize), y: 0, background: 0)
                    if encoding == .jpeg { try writer.addTile(encoded: try encoder.encode(image), record: record) } else {
                        try writer.addTile(raw: image, record: record)
                    }
                }
                _ = slide
            }
            try writer.finish()
        }
        try part("train", task: 0, count: perClass / 2, seedBase: 0)
        try part("train", task: 1, count: perClass - perClass / 2, seedBase: 1000)
        try part("validation", task: 0, count: max(1, perClass / 4), seedBase: 5000)
    }
}
