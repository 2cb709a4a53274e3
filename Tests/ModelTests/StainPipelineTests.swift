import Foundation
import Model
import NeuralNet
import Stain
import TesseraCore
import TesseraTestSupport
import Tiling
import XCTest

/// Stain normalisation and HED augmentation in the input pipeline: recorded in the model file,
/// applied to every tile exactly as the `Stain` module does it, counted when a tile falls back,
/// and HED a function of (seed, epoch, tile) only.
final class StainPipelineTests: XCTestCase {
    let stains = MacenkoReference(haematoxylin: [0.65, 0.70, 0.29], eosin: [0.30, 0.85, 0.43], maxConcentrations: [1.8, 1.4])

    func testModelFileRecordsTheStainNormalization() throws {
        let net = try Network(model: "refnet-s", classes: 2, inputSize: 16, seed: 3)
        let fitted = StainNormalization(method: .reinhard, referenceSource: "train (12 tiles)",
                                        reinhard: ReinhardReference(mean: [60, 25, -5], std: [18, 12, 7]))
        let header = ModelFile.Header(network: net, classes: ["LUAD", "LUSC"],
                                      normalization: Normalization(mean: [200, 150, 180], std: [30, 40, 35], stain: fitted),
                                      tiling: TilingSpec(tileSize: 32, target: .mpp(0.5), backgroundThreshold: 220, maxBackground: 0.5, jpegQuality: 95),
                                      epochs: 1, validationAccuracy: nil)
        let url = try TestEnvironment.temporaryDirectory(self, "stain-model").appendingPathComponent("model.tsm")
        try ModelFile(header: header, parameters: net.exportParameters(), state: net.exportState()).write(to: url)
        XCTAssertEqual(try ModelFile.read(url).header.normalization.stain, fitted)
        // Models and checkpoints written before stain normalisation and HED read as "none" and "off".
        let old = try JSONDecoder().decode(Normalization.self, from: Data(#"{"mean":[1,2,3],"std":[4,5,6]}"#.utf8))
        XCTAssertNil(old.stain)
        let augmentation = try JSONDecoder().decode(Augmentation.self, from: Data(#"{"dihedral":true,"brightness":0.1,"contrast":0,"hue":0}"#.utf8))
        XCTAssertEqual(augmentation.hed, 0)
        XCTAssertEqual(augmentation.brightness, 0.1)
    }

    func testPipelineAppliesTheRecordedNormalizationAndCountsFallbacks() throws {
        let tile = StainedTile.make(size: 64, stains: stains, seed: 2)
        for method in StainNormalization.Method.allCases {
            let pipeline = try InputPipeline(tileSize: 64, inputSize: 64,
                                             normalization: Normalization(mean: [0, 0, 0], std: [1, 1, 1], stain: .builtIn(method)),
                                             augmentation: .none, seed: 1)
            var expected = tile
            var normalizer = StainNormalizer(.builtIn(method))
            XCTAssertTrue(normalizer.normalize(&expected))
            XCTAssertTrue(try pipeline.image(.raw(tile), source: "t") == expected, "\(method): the pipeline's tile is the Stain module's")
            // prepare() lays the same pixels out as planar floats (mean 0, std 1: the byte values).
            let out = UnsafeMutablePointer<Float>.allocate(capacity: 3 * 64 * 64)
            defer { out.deallocate() }
            try pipeline.prepare(.raw(tile), globalIndex: 0, epoch: 0, augment: false, source: "t", into: out)
            XCTAssertEqual(out[5 * 64 + 7], Float(expected.pixels[(5 * 64 + 7) * 3]))
            XCTAssertEqual(out[2 * 64 * 64 + 9], Float(expected.pixels[9 * 3 + 2]))
            let glass = RGBImage(width: 64, height: 64)
            XCTAssertTrue(try pipeline.image(.raw(glass), source: "g") == glass)
            let counts = pipeline.takeStainCounts()
            XCTAssertEqual(counts.tiles, 3, "\(method)")
            XCTAssertEqual(counts.fallbacks, 1, "\(method)")
        }
        let plain = try InputPipeline(tileSize: 64, inputSize: 64, normalization: Normalization(mean: [0, 0, 0], std: [1, 1, 1]),
                                      augmentation: .none, seed: 1)
        XCTAssertTrue(try plain.image(.raw(tile), source: "t") == tile)
        XCTAssertEqual(plain.takeStainCounts().tiles, 0)
    }

    func testHEDAugmentationIsAFunctionOfSeedEpochAndTile() throws {
        let tile = StainedTile.make(size: 32, stains: .builtIn, seed: 3)
        var hed = Augmentation.none
        hed.hed = 0.1
        func prepared(_ augmentation: Augmentation, seed: UInt64 = 7, index: Int, epoch: Int = 2) throws -> [Float] {
            let pipeline = try InputPipeline(tileSize: 32, inputSize: 32, normalization: Normalization(mean: [0, 0, 0], std: [1, 1, 1]),
                                             augmentation: augmentation, seed: seed)
            let out = UnsafeMutablePointer<Float>.allocate(capacity: 3 * 32 * 32)
            defer { out.deallocate() }
            try pipeline.prepare(.raw(tile), globalIndex: index, epoch: epoch, augment: true, source: "t", into: out)
            return Array(UnsafeBufferPointer(start: out, count: 3 * 32 * 32))
        }
        let once = try prepared(hed, index: 5)
        XCTAssertEqual(try prepared(hed, index: 5), once, "a fresh pipeline (a resumed run, another rank) sees the same tile")
        XCTAssertNotEqual(try prepared(hed, index: 6), once)
        XCTAssertNotEqual(try prepared(hed, index: 5, epoch: 3), once)
        XCTAssertNotEqual(try prepared(hed, seed: 8, index: 5), once)
        // Off: the tile as it is (no other augmentation here).
        let plane = 32 * 32
        XCTAssertEqual(try prepared(.none, index: 5), (0..<3 * plane).map { i in Float(tile.pixels[(i % plane) * 3 + i / plane]) })
        // Expected: HEDAugmentation with the draws of the tile's stream (after the other augmentations' draws, none here).
        var rng = SeededGenerator(seed: 7, stream: (UInt64(2) << 40) ^ 5)
        let (alpha, beta) = HEDAugmentation.draw(sigma: 0.1, rng: &rng)
        var expected = tile
        HEDAugmentation.apply(&expected, alpha: alpha, beta: beta)
        XCTAssertEqual(once[3 * 32 + 4], Float(expected.pixels[(3 * 32 + 4) * 3]))
        XCTAssertEqual(once[32 * 32 + 100], Float(expected.pixels[100 * 3 + 1]))
    }
}
