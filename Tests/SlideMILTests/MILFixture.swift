import FeatureStore
import Foundation
import TesseraCore

/// A small feature store with a multiple-instance answer: "tumour" slides hold a few tiles whose
/// first feature is raised, "normal" slides none; every tile is otherwise noise.
enum MILFixture {
    static let width = 12

    static func write(to store: URL, train: Int = 24, validation: Int = 8, test: Int = 8, seed: UInt64 = 9) throws {
        var rng = SeededGenerator(seed: seed)
        for (split, count) in [("train", train), ("validation", validation), ("test", test)] {
            for i in 0..<count {
                let tumour = i % 2 == 0
                let n = 10 + Int(rng.next() % 30)
                var features = (0..<(n * width)).map { _ in Float(rng.nextUnit() * 2 - 1) * 0.5 }
                if tumour {
                    for _ in 0..<(1 + Int(rng.next() % 3)) { features[Int(rng.next() % UInt64(n)) * width] += 2.5 }
                }
                let id = "\(split)-\(i)"
                let slide = SlideFeatures(slideID: id, patientID: "P-\(id)", label: tumour ? "tumour" : "normal", width: width,
                                          features: features, x: (0..<n).map { Int64($0 * 256) }, y: (0..<n).map { _ in 0 },
                                          provenance: .init(model: "fixture", modelDigest: "f1x", layer: "none", tileSize: 128))
                try FeatureFile.write(slide, split: split, to: FeatureStoreLayout.fileURL(store, split: split, slideID: id))
            }
        }
    }
}
