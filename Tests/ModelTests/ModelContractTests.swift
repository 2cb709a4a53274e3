import Foundation
import Model
import NeuralNet
import TesseraCore
import TesseraTestSupport
import TileStore
import Tiling
import XCTest

/// The `Model` module, the contract between training and prediction: a model file round-trips,
/// records the training store's `TilingSpec`, and is checked against a store by that spec.
final class ModelContractTests: XCTestCase {
    let tiling = TilingSpec(tileSize: 32, target: .mpp(0.5), backgroundThreshold: 220, maxBackground: 0.5, jpegQuality: 95)

    func model() throws -> ModelFile {
        let net = try Network(model: "refnet-s", classes: 2, inputSize: 16, seed: 3)
        let header = ModelFile.Header(network: net, classes: ["LUAD", "LUSC"], normalization: Normalization(mean: [200, 150, 180], std: [30, 40, 35]),
                                      tiling: tiling, epochs: 2, validationAccuracy: 0.75)
        return ModelFile(header: header, parameters: net.exportParameters(), state: net.exportState())
    }

    func store(_ tiling: TilingSpec, classes: [String] = ["LUAD", "LUSC"]) -> TileStoreAttributes {
        TileStoreAttributes(split: "test", classes: classes, tiling: tiling, splitSeed: 1, splitFractions: [0.7, 0.15, 0.15],
                            tesseraVersion: "test", created: "2026-12-01T00:00:00Z", task: 0, taskCount: 1)
    }

    func testModelWrittenAndReadRoundTripsWithItsTilingSpec() throws {
        let url = try TestEnvironment.temporaryDirectory(self, "model").appendingPathComponent("model.tsm")
        let written = try model()
        try written.write(to: url)
        let read = try ModelFile.read(url)
        XCTAssertEqual(read.header, written.header)
        XCTAssertEqual(read.header.tiling, tiling)
        XCTAssertEqual(read.parameters, written.parameters)
        XCTAssertEqual(read.state, written.state)
        XCTAssertTrue(read.sameModel(as: written))
        // The network rebuilt from the file computes with the same weights.
        XCTAssertEqual(try read.makeNetwork().exportParameters(), written.parameters)
        // The metadata records the spec in its flat JSON form (a string, as safetensors metadata is).
        let bytes = try Data(contentsOf: url)
        XCTAssertNotNil(bytes.range(of: Data(#""tiling":"{\"background_threshold\":220,\"jpeg_quality\":95,\"max_background\":0.5,\"target_mpp\":0.5,\"tile_size\":32}""#.utf8)),
                        String(decoding: bytes.prefix(2000), as: UTF8.self))
    }

    func testCompatibilityComparesTheSpecButNotTheJPEGQuality() throws {
        let header = try model().header
        var sameButRaw = tiling
        sameButRaw.jpegQuality = nil
        XCTAssertEqual(ModelCompatibility.differences(model: header, store: store(sameButRaw)), [],
                       "a model predicts on tiles of any quality")
        var other = tiling
        other.tileSize = 8
        other.target = .magnification(20)
        other.maxBackground = 0.25
        XCTAssertEqual(ModelCompatibility.differences(model: header, store: store(other, classes: ["A", "B"])), [
            "classes: model LUAD,LUSC, store A,B",
            "tile size: model 32, store 8",
            "target MPP: model 0.5, store none",
            "magnification: model none, store 20.0×",
            "max background: model 0.5, store 0.25",
            "input size: the model's input is 16², larger than the store's 8² tiles",
        ])
    }
}

/// The module graph: stages (Tiler, Training, Prediction, SlideMIL) are siblings over shared modules.
final class StageGraphTests: XCTestCase {
    func testNoStageDependsOnAnotherStage() throws {
        let manifest = try String(contentsOf: TestEnvironment.packageRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
        let stages = ["Tiler", "Training", "Prediction", "SlideMIL"]
        for stage in stages {
            let start = try XCTUnwrap(manifest.range(of: ".target(name: \"\(stage)\""), "no target \(stage)")
            let end = try XCTUnwrap(manifest.range(of: "]", range: start.upperBound..<manifest.endIndex))
            let dependencies = manifest[start.upperBound..<end.lowerBound]
            for other in stages where other != stage {
                XCTAssertFalse(dependencies.contains("\"\(other)\""), "\(stage) depends on the stage \(other): \(dependencies)")
            }
        }
        for shared in ["Model", "SlideTiles", "Tiling", "TileStore", "FeatureStore"] {
            let start = try XCTUnwrap(manifest.range(of: ".target(name: \"\(shared)\""), "no target \(shared)")
            let end = try XCTUnwrap(manifest.range(of: ")", range: start.upperBound..<manifest.endIndex))
            for stage in stages {
                XCTAssertFalse(manifest[start.upperBound..<end.lowerBound].contains("\"\(stage)\""), "\(shared) depends on the stage \(stage)")
            }
        }
    }
}
