import FeatureStore
import Foundation
import SlideMIL
import TesseraCore
import TesseraTestSupport
import TileStore
import XCTest

/// The fourth stage as users run it: a synthetic cohort tiled and a small model trained, then
/// `tessera-predict embed` (two shards, one killed and resumed) writes a feature file for every
/// slide of every split with the store's tiles and positions, and `tessera-mil` trains on it and
/// predicts the test slides with attention.
final class MILPipelineEndToEndTests: XCTestCase {
    func run(_ exe: String, _ args: [String]) throws -> CommandResult {
        let r = try runCommand(TestEnvironment.executable(exe), args, timeout: 900)
        XCTAssertEqual(r.status, 0, "\(exe) \(args.joined(separator: " ")):\n\(r.output)")
        return r
    }

    func testEmbedThenTrainAndPredict() throws {
        let root = try TestEnvironment.temporaryDirectory(self)
        let cohort = root.appendingPathComponent("cohort"), store = root.appendingPathComponent("store")
        let runDir = root.appendingPathComponent("run"), features = root.appendingPathComponent("features")
        let mil = root.appendingPathComponent("mil")
        _ = try run("tessera-synth", ["--out", cohort.path, "--patients", "8", "--width", "1024", "--height", "1024", "--seed", "4"])
        _ = try run("tessera-tile", ["--manifest", cohort.appendingPathComponent("manifest.csv").path, "--store", store.path,
                                     "--tile-size", "128", "--assume-mpp", "0.5", "--split", "0.5,0.25,0.25", "--threads", "2"])
        _ = try run("tessera-train", ["--store", store.path, "--out", runDir.path, "--input-size", "32", "--epochs", "1", "--batch", "8",
                                      "--threads", "1", "--progress-interval", "0"])
        let model = runDir.appendingPathComponent("model.tsm").path
        let embed = ["embed", "--model", model, "--store", store.path, "--out", features.path, "--threads", "1", "--shards", "2"]
        let stopped = try run("tessera-predict", embed + ["--shard", "0", "--stop-after-files", "1"])
        XCTAssertTrue(stopped.output.contains("stopping after 1 store files"), stopped.output)
        let resumed = try run("tessera-predict", embed + ["--shard", "0"])
        XCTAssertTrue(resumed.output.contains("(done before)"), resumed.output)
        _ = try run("tessera-predict", embed + ["--shard", "1"])
        let again = try run("tessera-predict", embed + ["--shard", "1"])
        XCTAssertTrue(again.output.contains("already complete"), again.output)

        // Every slide of every split, with the store's tiles in the store's order.
        var slides = 0
        for split in TileStoreLayout.splits {
            for url in TileStoreLayout.storeFiles(in: store, split: split) {
                let reader = try TileStoreReader(url: url)
                let columns = try reader.tileColumns()
                for (s, record) in reader.slides.enumerated() {
                    let f = try FeatureFile.read(FeatureStoreLayout.fileURL(features, split: split, slideID: record.slideID))
                    let rows = (0..<columns.count).filter { columns.slides[$0] == Int32(s) }
                    XCTAssertEqual(f.x, rows.map { columns.x[$0] }, "\(record.slideID): tile x")
                    XCTAssertEqual(f.y, rows.map { columns.y[$0] }, "\(record.slideID): tile y")
                    XCTAssertEqual(f.width, 256, "refnet-s embeds 256 channels")
                    XCTAssertEqual(f.label, record.label)
                    XCTAssertEqual(f.patientID, record.patientID)
                    XCTAssertEqual(f.provenance.tileSize, 128)
                    XCTAssertEqual(f.provenance.layer, "avgpool")
                    XCTAssertFalse(f.features.contains { !$0.isFinite })
                    slides += 1
                }
                try reader.close()
            }
        }
        XCTAssertEqual(slides, try FileManager.default.contentsOfDirectory(atPath: cohort.appendingPathComponent("slides").path).count)

        _ = try run("tessera-mil", ["train", "--features", features.path, "--out", mil.path, "--epochs", "2", "--bags-per-step", "2",
                                    "--hidden", "32", "--attention-width", "16"])
        _ = try run("tessera-mil", ["predict", "--model", mil.appendingPathComponent("mil-model.json").path, "--features", features.path,
                                    "--out", mil.path])
        let csv = try CSV.parse(String(contentsOf: mil.appendingPathComponent(MILPredictor.slidesFile), encoding: .utf8))
        let tests = FeatureStoreLayout.files(in: features, split: "test").count
        XCTAssertEqual(csv.count - 1, tests)
        XCTAssertEqual(Set(try String(contentsOf: mil.appendingPathComponent(MILTrainer.metricsFile), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",")[0] }), ["1", "2"])
    }
}
