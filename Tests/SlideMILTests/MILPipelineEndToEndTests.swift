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
/// predicts the test slides with attention; `tessera-predict merge --mil` then attaches the ABMIL
/// predictions to the predictor's slides.csv, patients.csv and report.json and draws an attention
/// heatmap beside every class heatmap (idempotently: merging again gives the same files).
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
        let pred = root.appendingPathComponent("pred")
        _ = try run("tessera-predict", ["--model", model, "--store", store.path, "--out", pred.path, "--heatmaps", "--heatmap-size", "256",
                                        "--geojson", "--threads", "1", "--bootstrap", "20"])
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
        let audit = try run("tessera-audit", [store.path, "--no-pixels", "--features", features.path])
        XCTAssertTrue(audit.output.contains("feature store: every check passed"), audit.output)
        XCTAssertTrue(audit.output.contains("embedding width 256"), audit.output)

        _ = try run("tessera-mil", ["train", "--features", features.path, "--out", mil.path, "--epochs", "2", "--bags-per-step", "2",
                                    "--hidden", "32", "--attention-width", "16"])
        _ = try run("tessera-mil", ["predict", "--model", mil.appendingPathComponent("mil-model.json").path, "--features", features.path,
                                    "--out", mil.path])
        let csv = try CSV.parse(String(contentsOf: mil.appendingPathComponent(MILPredictor.slidesFile), encoding: .utf8))
        let tests = FeatureStoreLayout.files(in: features, split: "test").count
        XCTAssertEqual(csv.count - 1, tests)
        XCTAssertEqual(Set(try String(contentsOf: mil.appendingPathComponent(MILTrainer.metricsFile), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",")[0] }), ["1", "2"])

        try checkAttached(mil: mil, pred: pred)
    }

    /// The merge with --mil: ABMIL columns with mil-slides.csv's values, the report's abmil metrics,
    /// an attention heatmap per slide, the attention in the GeoJSON; the same files when run again.
    func checkAttached(mil: URL, pred: URL) throws {
        let milRows = try CSV.parse(String(contentsOf: mil.appendingPathComponent(MILPredictor.slidesFile), encoding: .utf8))
        let milHeader = milRows[0].fields
        _ = try run("tessera-predict", ["merge", "--out", pred.path, "--mil", mil.path, "--bootstrap", "20"])
        let slidesText = try String(contentsOf: pred.appendingPathComponent("slides.csv"), encoding: .utf8)
        let slides = try CSV.parse(slidesText)
        let header = slides[0].fields
        let classes = milHeader.filter { $0.hasPrefix("abmil_p_") }.map { String($0.dropFirst("abmil_p_".count)) }
        XCTAssertEqual(Array(header[header.firstIndex(of: "predicted_by_above_threshold")! + 1..<header.count - 2]),
                       classes.map { "abmil_p_\($0)" } + ["predicted_by_abmil"])
        XCTAssertEqual(slides.count, milRows.count, "the predictor's test slides are the MIL model's")
        for m in milRows.dropFirst() {
            let row = try XCTUnwrap(slides.first { $0.fields[0] == m.fields[0] }, m.fields[0]).fields
            for c in classes {
                let a = try XCTUnwrap(Double(row[header.firstIndex(of: "abmil_p_\(c)")!]))
                XCTAssertEqual(a, Double(m.fields[milHeader.firstIndex(of: "abmil_p_\(c)")!])!, accuracy: 1e-6, "\(m.fields[0]) \(c)")
            }
            XCTAssertEqual(row[header.firstIndex(of: "predicted_by_abmil")!], m.fields[milHeader.firstIndex(of: "abmil_predicted")!])
            let id = m.fields[0]
            let heatmap = pred.appendingPathComponent("heatmaps/\(id)-attention.jpg")
            XCTAssertTrue(FileManager.default.fileExists(atPath: heatmap.path), "\(id): attention heatmap")
            XCTAssertTrue(FileManager.default.fileExists(atPath: pred.appendingPathComponent("heatmaps/\(id).jpg").path), "\(id): class heatmap")
            let geojson = try String(contentsOf: pred.appendingPathComponent("geojson/\(id).geojson"), encoding: .utf8)
            XCTAssertEqual(geojson.components(separatedBy: "\"abmil_attention\":").count - 1, Int(m.fields[milHeader.firstIndex(of: "tiles")!])!,
                           "\(id): one attention measurement per tile")
        }
        let patients = try CSV.parse(String(contentsOf: pred.appendingPathComponent("patients.csv"), encoding: .utf8))
        XCTAssertTrue(patients[0].fields.contains("predicted_by_abmil"))
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: pred.appendingPathComponent("report.json"))) as? [String: Any])
        let slide = try XCTUnwrap(report["slide"] as? [String: Any])
        for key in ["mean_probability", "majority_vote", "percent_above_threshold", "abmil"] { XCTAssertNotNil(slide[key], key) }
        XCTAssertEqual((report["counts"] as? [String: Any])?["slides_predicted_by_abmil"] as? Int, milRows.count - 1)
        XCTAssertNotNil((report["summary"] as? [String: Any])?["slide_accuracy_abmil"] as? Double)

        _ = try run("tessera-predict", ["merge", "--out", pred.path, "--mil", mil.path, "--bootstrap", "20"])
        XCTAssertEqual(try String(contentsOf: pred.appendingPathComponent("slides.csv"), encoding: .utf8), slidesText, "merging again: the same")
    }
}
