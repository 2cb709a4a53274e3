import Foundation
import JPEG
import Model
import Prediction
import TesseraCore
import TesseraTestSupport
import TileStore
import XCTest

@testable import tessera_bench

/// tessera-predict as users run it, on the output of the real pipeline (synth → tile → train).
final class PredictorEndToEndTests: XCTestCase {
    override class func tearDown() {
        PredictionFixture.tearDown()
        super.tearDown()
    }

    func predict(_ args: [String], environment: [String: String?] = [:]) throws -> CommandResult {
        try runCommand(TestEnvironment.executable("tessera-predict"), args + ["--threads", "1", "--bootstrap", "200"],
                       environment: environment, timeout: 900)
    }

    func merge(_ args: [String]) throws -> CommandResult {
        try runCommand(TestEnvironment.executable("tessera-predict"), ["merge", "--bootstrap", "200"] + args, timeout: 300)
    }

    func text(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

    /// Predicting the test slides from their store files and directly from the slide files gives
    /// the same slide predictions; every output is written and self-consistent.
    func testStoreAndSlidesGiveTheSameSlidePredictions() throws {
        let f = try PredictionFixture.shared()
        let dir = try TestEnvironment.temporaryDirectory(self, "predict")
        let fromStore = dir.appendingPathComponent("from-store"), fromSlides = dir.appendingPathComponent("from-slides")
        let a = try predict(["--model", f.model.path, "--store", f.store.path, "--out", fromStore.path, "--tile-scores", "--heatmaps",
                             "--slides-dir", f.cohort.appendingPathComponent("slides").path, "--heatmap-size", "256"])
        XCTAssertEqual(a.status, 0, a.output)
        XCTAssertTrue(a.stderr.contains("OpenBLAS core"), a.stderr)
        let b = try predict(["--model", f.model.path, "--manifest", f.testManifest.path, "--assume-mpp", "0.5", "--out", fromSlides.path,
                             "--heatmaps", "--heatmap-size", "256", "--class-maps"])
        XCTAssertEqual(b.status, 0, b.output)

        let sa = try CSVTable(fromStore.appendingPathComponent("slides.csv")), sb = try CSVTable(fromSlides.appendingPathComponent("slides.csv"))
        let classes = try ModelFile.read(f.model).header.classes
        XCTAssertEqual(sa.header, ["slide_id", "patient_id", "label", "mpp", "mpp_source", "slide_path", "n_tiles"] + classes.map { "p_\($0)" } + ["predicted_by_mean"]
            + classes.map { "vote_share_\($0)" } + ["predicted_by_vote"] + classes.map { "above_threshold_share_\($0)" }
            + ["predicted_by_above_threshold", "status", "message"])
        XCTAssertEqual(sb.header, sa.header)
        XCTAssertEqual(sa.rows.map { $0[0] }, f.testSlides, "one row per test slide, sorted by slide id")
        XCTAssertEqual(sb.rows.map { $0[0] }, f.testSlides)
        XCTAssertGreaterThanOrEqual(f.testSlides.count, 2)
        var worst = 0.0
        for (ra, rb) in zip(sa.rows, sb.rows) {
            for name in ["patient_id", "label", "n_tiles", "predicted_by_mean", "predicted_by_vote", "status"] {
                XCTAssertEqual(sa.value(ra, name), sb.value(rb, name), "\(ra[0]) \(name)")
            }
            XCTAssertEqual(sa.value(ra, "status"), "ok")
            XCTAssertGreaterThan(Int(sa.value(ra, "n_tiles"))!, 0)
            for name in classes.flatMap({ ["p_\($0)", "vote_share_\($0)"] }) {
                let x = try XCTUnwrap(Double(sa.value(ra, name))), y = try XCTUnwrap(Double(sb.value(rb, name)))
                worst = max(worst, abs(x - y))
            }
        }
        print("store vs slides: largest slide-level difference \(worst)")
        XCTAssertLessThan(worst, 1e-5)

        // tiles.csv: every tile of every predicted slide; probabilities sum to 1.
        let tiles = try CSVTable(fromStore.appendingPathComponent("tiles.csv"))
        XCTAssertEqual(tiles.header, ["slide_id", "x", "y", "width", "height"] + classes.map { "p_\($0)" })
        XCTAssertEqual(tiles.rows.count, sa.rows.reduce(0) { $0 + Int(sa.value($1, "n_tiles"))! })
        for row in tiles.rows {
            XCTAssertEqual(row[5...].compactMap(Double.init).reduce(0, +), 1, accuracy: 1e-5)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: fromSlides.appendingPathComponent("tiles.csv").path), "tiles.csv only with --tile-scores")
        // Slide means are the means of the slide's tiles.
        let first = sa.rows[0]
        let own = tiles.rows.filter { $0[0] == first[0] }
        XCTAssertEqual(own.count, Int(sa.value(first, "n_tiles")))
        for (k, c) in classes.enumerated() {
            let mean = own.map { Double(Float($0[5 + k])!) }.reduce(0, +) / Double(own.count)
            XCTAssertEqual(Double(sa.value(first, "p_\(c)"))!, mean, accuracy: 1e-9)
        }

        // patients.csv, failures.csv (empty), report.
        let patients = try CSVTable(fromStore.appendingPathComponent("patients.csv"))
        XCTAssertEqual(Array(patients.header.prefix(3)), ["patient_id", "label", "n_slides"])
        XCTAssertEqual(Set(patients.rows.map { $0[0] }), Set(sa.rows.map { sa.value($0, "patient_id") }))
        XCTAssertEqual(patients.rows.reduce(0) { $0 + Int($1[2])! }, sa.rows.count)
        XCTAssertEqual(try CSVTable(fromStore.appendingPathComponent("failures.csv")).rows.count, 0)
        let report = try PredictionReport.decode(Data(contentsOf: fromStore.appendingPathComponent("report.json")))
        XCTAssertEqual(report.counts.slides, f.testSlides.count)
        XCTAssertEqual(report.counts.slidesPredicted, f.testSlides.count)
        XCTAssertEqual(report.counts.tiles, tiles.rows.count)
        XCTAssertEqual(report.classes, classes)
        // Slide accuracy, recomputed from slides.csv.
        let slideMetrics = try XCTUnwrap(report.slide.meanProbability)
        let correct = sa.rows.filter { sa.value($0, "label") == sa.value($0, "predicted_by_mean") }.count
        XCTAssertEqual(slideMetrics.count, sa.rows.count)
        XCTAssertEqual(slideMetrics.accuracy, Double(correct) / Double(sa.rows.count), accuracy: 1e-12)
        XCTAssertEqual(slideMetrics.confusion.joined().reduce(0, +), sa.rows.count)
        let tileMetrics = try XCTUnwrap(report.tile)
        XCTAssertEqual(tileMetrics.count, tiles.rows.count)
        XCTAssertEqual(report.bootstrap.resamples, 200)
        let md = try text(fromStore.appendingPathComponent("report.md"))
        XCTAssertTrue(md.contains("## Slides, by mean probability") && md.contains("## Tiles") && md.contains("Confusion matrix"), md)

        // Heatmaps: one JPEG per slide, the (square) slide at 256 px with its legend strip below.
        for id in f.testSlides {
            for out in [fromStore, fromSlides] {
                let bytes = try [UInt8](Data(contentsOf: out.appendingPathComponent("heatmaps/\(id).jpg")))
                let image = try JPEGDecoder().decode(bytes)
                XCTAssertEqual(image.width, 256)
                XCTAssertGreaterThan(image.height, 256 + 20, "the legend strip")
            }
            // --class-maps (from slides only): one continuous map per class, as large, with its colour bar.
            let classes = try CSVTable(fromSlides.appendingPathComponent("slides.csv")).header.filter { $0.hasPrefix("p_") }
            XCTAssertFalse(classes.isEmpty)
            for p in classes {
                let image = try JPEGDecoder().decode([UInt8](Data(contentsOf: fromSlides.appendingPathComponent("heatmaps/\(id)-\(p).jpg"))))
                XCTAssertEqual(image.width, 256)
                XCTAssertGreaterThan(image.height, 256 + 20, "the legend strip")
                XCTAssertFalse(FileManager.default.fileExists(atPath: fromStore.appendingPathComponent("heatmaps/\(id)-\(p).jpg").path))
            }
        }
        // Nothing temporary is left behind; the parts stay for inspection.
        let leftovers = FileManager.default.enumerator(atPath: fromStore.path)!.compactMap { $0 as? String }
            .filter { $0.contains(".tmp-") || $0.contains("/work") }
        XCTAssertEqual(leftovers, [])

        // Two tasks (from the Slurm array variables) and a merge give the same files.
        let sharded = dir.appendingPathComponent("sharded")
        let args = ["--model", f.model.path, "--store", f.store.path, "--out", sharded.path, "--tile-scores",
                    "--slides-dir", f.cohort.appendingPathComponent("slides").path]
        let first0 = try predict(args, environment: ["SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_MIN": "7", "SLURM_ARRAY_TASK_COUNT": "2"])
        XCTAssertEqual(first0.status, 0, first0.output)
        XCTAssertTrue(first0.stderr.contains("tessera-predict[0/2]"), first0.stderr)
        let early = try merge(["--out", sharded.path])
        XCTAssertEqual(early.status, 1, early.output)
        XCTAssertTrue(early.stderr.contains("1 of 2 prediction tasks have not finished (task 1)"), early.stderr)
        let second = try predict(args + ["--shard", "1", "--shards", "2"])
        XCTAssertEqual(second.status, 0, second.output)
        let merged = try merge(["--out", sharded.path])
        XCTAssertEqual(merged.status, 0, merged.output)
        for name in ["slides.csv", "patients.csv", "tiles.csv", "failures.csv"] {
            XCTAssertEqual(try text(sharded.appendingPathComponent(name)), try text(fromStore.appendingPathComponent(name)), name)
        }
        var reportA = try PredictionReport.decode(Data(contentsOf: fromStore.appendingPathComponent("report.json")))
        let reportB = try PredictionReport.decode(Data(contentsOf: sharded.appendingPathComponent("report.json")))
        reportA.created = reportB.created
        XCTAssertEqual(reportA, reportB, "the same metrics and intervals (seeded bootstrap)")

        // The merge refuses a duplicated slide and a missing one.
        let part0 = sharded.appendingPathComponent("parts/task-0000-of-0002/slides.csv")
        let part1 = sharded.appendingPathComponent("parts/task-0001-of-0002/slides.csv")
        let original0 = try text(part0), original1 = try text(part1)
        let moved = try XCTUnwrap(original0.split(separator: "\n").dropFirst().first)
        try Data((original1 + moved + "\n").utf8).write(to: part1)
        let duplicated = try merge(["--out", sharded.path])
        XCTAssertEqual(duplicated.status, 1, duplicated.output)
        let movedID = String(moved.prefix { $0 != "," })
        XCTAssertTrue(duplicated.stderr.contains("slide \(movedID) is duplicated: in the parts of tasks 0, 1"), duplicated.stderr)
        try Data(original1.utf8).write(to: part1)
        try Data(original0.replacingOccurrences(of: moved + "\n", with: "").utf8).write(to: part0)
        let missing = try merge(["--out", sharded.path])
        XCTAssertEqual(missing.status, 1, missing.output)
        XCTAssertTrue(missing.stderr.contains("slide \(movedID) is missing: task 0 should have predicted it"), missing.stderr)
        try Data(original0.utf8).write(to: part0)
        XCTAssertEqual(try merge(["--out", sharded.path]).status, 0)
    }

    /// A task stopped midway and run again skips the finished slides and ends with the same files.
    func testStoppedTaskResumesToTheSameFiles() throws {
        let f = try PredictionFixture.shared()
        let dir = try TestEnvironment.temporaryDirectory(self, "predict")
        let args = ["--model", f.model.path, "--store", f.store.path, "--tile-scores"]
        let reference = dir.appendingPathComponent("reference"), resumed = dir.appendingPathComponent("resumed")
        XCTAssertEqual(try predict(args + ["--out", reference.path]).status, 0)
        let stopped = try predict(args + ["--out", resumed.path, "--stop-after-slides", "1"])
        XCTAssertEqual(stopped.status, 0, stopped.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: resumed.appendingPathComponent("slides.csv").path))
        let again = try predict(args + ["--out", resumed.path])
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertTrue(again.stderr.contains("resuming: 1 slides already done"), again.stderr)
        for name in ["slides.csv", "patients.csv", "tiles.csv"] {
            XCTAssertEqual(try text(resumed.appendingPathComponent(name)), try text(reference.appendingPathComponent(name)), name)
        }
        let complete = try predict(args + ["--out", resumed.path])
        XCTAssertTrue(complete.stderr.contains("already complete"), complete.stderr)
        // Other parameters into the same folder are refused, naming the difference.
        let other = try predict(["--model", f.model.path, "--store", f.store.path, "--out", resumed.path])
        XCTAssertEqual(other.status, 1, other.output)
        XCTAssertTrue(other.stderr.contains("tileScores: true → false"), other.stderr)
    }

    /// A model trained on other classes or other tiles is refused, saying what differs.
    func testMismatchedModelAndStoreAreRefused() throws {
        let f = try PredictionFixture.shared()
        let dir = try TestEnvironment.temporaryDirectory(self, "predict")
        var model = try ModelFile.read(f.model)
        model.header.classes = ["A", "B", "C"]
        let otherClasses = dir.appendingPathComponent("classes.tsm")
        try model.write(to: otherClasses)
        let r1 = try predict(["--model", otherClasses.path, "--store", f.store.path, "--out", dir.appendingPathComponent("p1").path])
        XCTAssertEqual(r1.status, 1, r1.output)
        XCTAssertTrue(r1.stderr.contains("refusing to predict") && r1.stderr.contains("classes: model A,B,C, store LUAD,LUSC,normal"), r1.stderr)

        model = try ModelFile.read(f.model)
        model.header.tiling.tileSize = 256
        model.header.tiling.target = .magnification(10)
        let otherTiles = dir.appendingPathComponent("tiles.tsm")
        try model.write(to: otherTiles)
        let r2 = try predict(["--model", otherTiles.path, "--store", f.store.path, "--out", dir.appendingPathComponent("p2").path])
        XCTAssertEqual(r2.status, 1, r2.output)
        XCTAssertTrue(r2.stderr.contains("tile size: model 256, store 128") && r2.stderr.contains("magnification: model 10.0×, store 20.0×"), r2.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("p2/slides.csv").path))

        // A manifest label the model does not know is refused too.
        let manifest = dir.appendingPathComponent("m.csv")
        try Data("slide_path,slide_id,patient_id,label\n\(try XCTUnwrap(firstSlide(f))),X,P1,melanoma\n".utf8).write(to: manifest)
        let r3 = try predict(["--model", f.model.path, "--manifest", manifest.path, "--out", dir.appendingPathComponent("p3").path])
        XCTAssertEqual(r3.status, 1, r3.output)
        XCTAssertTrue(r3.stderr.contains("label 'melanoma' is not one of the classes"), r3.stderr)
    }

    func firstSlide(_ f: PredictionFixture.Pipeline) throws -> String {
        let rows = try CSVTable(f.testManifest).rows
        return rows[0][0]
    }

    /// Corrupt and unreadable slides are recorded and skipped; the rest are predicted; an
    /// unlabelled cohort gets predictions without metrics.
    func testCorruptSlidesAreReportedAndSkipped() throws {
        let f = try PredictionFixture.shared()
        let dir = try TestEnvironment.temporaryDirectory(self, "predict")
        let good = try firstSlide(f)
        let original = try Data(contentsOf: URL(fileURLWithPath: good))
        try original.prefix(original.count / 2).write(to: dir.appendingPathComponent("truncated.svs"))
        try Data("not a slide\n".utf8).write(to: dir.appendingPathComponent("notes.svs"))
        let manifest = dir.appendingPathComponent("m.csv")
        try Data("""
            slide_path,slide_id,patient_id,label
            \(good),GOOD,P1,
            truncated.svs,TRUNCATED,P2,
            notes.svs,NOTES,P2,
            missing.svs,MISSING,P3,

            """.utf8).write(to: manifest)
        let out = dir.appendingPathComponent("out")
        let refused = try predict(["--model", f.model.path, "--manifest", manifest.path, "--out", out.path, "--assume-mpp", "0.5"])
        XCTAssertEqual(refused.status, 1, "a missing file is a manifest error by default:\n\(refused.output)")
        XCTAssertTrue(refused.stderr.contains("missing.svs does not exist"), refused.stderr)

        let r = try predict(["--model", f.model.path, "--manifest", manifest.path, "--out", out.path, "--assume-mpp", "0.5", "--skip-missing"])
        XCTAssertEqual(r.status, 3, r.output)
        let failures = try CSVTable(out.appendingPathComponent("failures.csv"))
        XCTAssertEqual(failures.header, ["slide_id", "source", "stage", "message"])
        XCTAssertEqual(failures.rows.map { $0[0] }, ["MISSING", "NOTES", "TRUNCATED"])
        XCTAssertTrue(failures.rows.allSatisfy { $0[2] == "open" }, "\(failures.rows)")
        let slides = try CSVTable(out.appendingPathComponent("slides.csv")).byKey
        XCTAssertEqual(slides["GOOD"]?.suffix(2).first, "ok")
        for id in ["MISSING", "NOTES", "TRUNCATED"] {
            let row = try XCTUnwrap(slides[id])
            XCTAssertEqual(row[row.count - 2], "failed")
            XCTAssertTrue(row[row.count - 1].hasPrefix("open: "), row.last!)
            XCTAssertEqual(row[6], "0")
        }
        let patients = try CSVTable(out.appendingPathComponent("patients.csv")).byKey
        XCTAssertEqual(patients["P2"]?.suffix(2).first, "failed")
        let report = try PredictionReport.decode(Data(contentsOf: out.appendingPathComponent("report.json")))
        XCTAssertEqual(report.counts.slidesFailed, 3)
        XCTAssertEqual(report.counts.slidesPredicted, 1)
        XCTAssertNil(report.tile, "no labels, no metrics")
        XCTAssertNil(report.slide.meanProbability)
        XCTAssertTrue(try text(out.appendingPathComponent("report.md")).contains("No labelled slide was predicted: no metrics."))
        // --strict makes it fatal; merge says the same.
        XCTAssertEqual(try merge(["--out", out.path]).status, 3)
        let strict = try predict(["--model", f.model.path, "--manifest", manifest.path, "--out", out.path, "--assume-mpp", "0.5",
                                  "--skip-missing", "--strict"])
        XCTAssertEqual(strict.status, 1, strict.output)
    }

    /// A slide whose store file has no tiles gets a "no tissue tiles" row, not a crash or a gap.
    func testSlideWithoutTissueTilesGetsARow() throws {
        let f = try PredictionFixture.shared()
        let dir = try TestEnvironment.temporaryDirectory(self, "predict")
        // A copy of the store's test folder plus an empty slide, written like the tiler would.
        let store = dir.appendingPathComponent("store")
        try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: f.store.appendingPathComponent("test"), to: store.appendingPathComponent("test"))
        let sample = try TileStoreReader(url: f.store.appendingPathComponent("test/\(f.testSlides[0]).h5"))
        let writer = try TileStoreWriter(url: store.appendingPathComponent("test/EMPTY-SLIDE.h5"), attributes: sample.attributes)
        _ = writer.beginSlide(SlideRecord(slideID: "EMPTY-SLIDE", patientID: "P-EMPTY", label: "normal", mpp: 0.5, level: 0, downsample: 1,
                                          width: 2048, height: 1024, tilesConsidered: 128))
        try writer.finish()
        try sample.close()
        let out = dir.appendingPathComponent("out")
        let r = try predict(["--model", f.model.path, "--store", store.path, "--out", out.path, "--heatmaps"])
        XCTAssertEqual(r.status, 0, r.output)
        let slides = try CSVTable(out.appendingPathComponent("slides.csv"))
        let row = try XCTUnwrap(slides.byKey["EMPTY-SLIDE"])
        XCTAssertEqual(slides.value(row, "status"), "no tissue tiles")
        XCTAssertEqual(slides.value(row, "n_tiles"), "0")
        XCTAssertEqual(slides.value(row, "p_LUAD"), "")
        XCTAssertEqual(slides.value(row, "patient_id"), "P-EMPTY")
        XCTAssertEqual(slides.rows.count, f.testSlides.count + 1)
        let report = try PredictionReport.decode(Data(contentsOf: out.appendingPathComponent("report.json")))
        XCTAssertEqual(report.counts.slidesWithoutTissue, 1)
        XCTAssertEqual(report.slide.meanProbability?.count, f.testSlides.count, "a slide without a prediction is in no metric")
        // Its heatmap is the white canvas at the slide's shape (2:1).
        let image = try JPEGDecoder().decode([UInt8](Data(contentsOf: out.appendingPathComponent("heatmaps/EMPTY-SLIDE.jpg"))))
        XCTAssertEqual(image.width, 1024)
        XCTAssertGreaterThan(image.height, 512, "the map and its legend strip")
    }

    /// A job file (as Slurm/submit and Jobs/run-local pass it) drives both subcommands; keys of
    /// other stages are ignored, and the command line overrides the file.
    func testJobFileDrivesPredictAndMerge() throws {
        let f = try PredictionFixture.shared()
        let dir = try TestEnvironment.temporaryDirectory(self, "predict")
        let job = dir.appendingPathComponent("job.env")
        try Data("""
            # keys of the other stages are ignored by tessera-predict
            MANIFEST=\(f.cohort.appendingPathComponent("manifest.csv").path)
            ASSUME_MPP=0.5
            STORE=\(f.store.path)
            RUN=\(f.model.deletingLastPathComponent().path)
            PREDICT_SHARDS=1
            PREDICTIONS=\(dir.appendingPathComponent("predictions").path)
            TILE_SCORES=1
            HEATMAPS=0
            BOOTSTRAP=50

            """.utf8).write(to: job)
        let r = try runCommand(TestEnvironment.executable("tessera-predict"), ["--job", job.path, "--threads", "1"])
        XCTAssertEqual(r.status, 0, r.output)
        let out = dir.appendingPathComponent("predictions")
        XCTAssertEqual(try CSVTable(out.appendingPathComponent("slides.csv")).rows.map { $0[0] }, f.testSlides)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("tiles.csv").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("heatmaps").path))
        // The flat summary scripts read, every key present (null where there are no labels).
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json"))) as? [String: Any])
        let summary = try XCTUnwrap(json["summary"] as? [String: Any])
        XCTAssertEqual(Set(summary.keys), ["tile_accuracy", "slide_accuracy_mean_probability", "slide_accuracy_majority_vote",
                                           "slide_balanced_accuracy_mean_probability", "slide_balanced_accuracy_majority_vote",
                                           "patient_accuracy_mean_probability", "patient_accuracy_majority_vote",
                                           "slide_accuracy_abmil", "slide_balanced_accuracy_abmil", "patient_accuracy_abmil",
                                           "stain_normalized_tiles", "stain_unnormalized_tiles"])
        // Without a MIL run the ABMIL figures are there, as null; without stain normalisation its counts.
        XCTAssertTrue(summary["slide_accuracy_abmil"] is NSNull, "\(summary)")
        XCTAssertTrue(summary["stain_unnormalized_tiles"] is NSNull, "\(summary)")
        XCTAssertTrue(json["stain_tiles_by_slide"] is NSNull)
        XCTAssertNotNil(summary["slide_accuracy_mean_probability"] as? Double)
        XCTAssertEqual((json["bootstrap"] as? [String: Any])?["resamples"] as? Int, 50)
        let merged = try runCommand(TestEnvironment.executable("tessera-predict"), ["merge", "--job", job.path, "--bootstrap", "20"])
        XCTAssertEqual(merged.status, 0, merged.output)
        XCTAssertEqual(try PredictionReport.decode(Data(contentsOf: out.appendingPathComponent("report.json"))).bootstrap.resamples, 20,
                       "the command line overrides the job file")
        // Predicting slide files with a job: --manifest on the command line sets STORE aside.
        let slides = try runCommand(TestEnvironment.executable("tessera-predict"),
                                    ["--job", job.path, "--manifest", f.testManifest.path, "--assume-mpp", "0.5", "--threads", "1",
                                     "--out", dir.appendingPathComponent("from-slides").path])
        XCTAssertEqual(slides.status, 0, slides.output)
    }

    func testOptionValidation() throws {
        let f = try PredictionFixture.shared()
        let cases: [([String], String)] = [
            (["--model", f.model.path, "--out", "/tmp/unused"], "give one of --store STORE"),
            (["--model", f.model.path, "--store", f.store.path, "--manifest", f.testManifest.path, "--out", "/tmp/unused"], "give one of --store STORE"),
            (["--model", "/nonexistent.tsm", "--store", f.store.path, "--out", "/tmp/unused"], "--model /nonexistent.tsm does not exist"),
            (["--model", f.model.path, "--store", f.store.path, "--out", "/tmp/unused", "--shard", "2", "--shards", "2"], "--shard 2 is outside 0…1"),
            (["--model", f.model.path, "--store", f.store.path, "--out", "/tmp/unused", "--assume-mpp", "0.5"], "--assume-mpp and --skip-missing go with --manifest"),
            (["--model", f.model.path, "--store", f.store.path, "--out", "/tmp/unused", "--batch", "0"], "--batch must be 1…4096"),
        ]
        try assertUsageErrors(cases) { try predict($0) }
        let noRun = try merge(["--out", f.root.path])
        XCTAssertEqual(noRun.status, 1)
        XCTAssertTrue(noRun.stderr.contains("no prediction tasks have run here"), noRun.stderr)
        let help = try runCommand(TestEnvironment.executable("tessera-predict"), ["predict", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("Examples:"), help.stdout)
    }

    /// The figure tessera-bench prints, computed through the predictor's own path (no timing asserted).
    func testStoreInferenceScoresEveryTileOfTheFile() throws {
        let f = try PredictionFixture.shared()
        let model = try ModelFile.read(f.model)
        let file = f.store.appendingPathComponent("test/\(f.testSlides[0]).h5")
        let reader = try TileStoreReader(url: file)
        let tiles = reader.tileCount
        try reader.close()
        let figures = try PredictionBenchmark.storeInference(network: try model.makeNetwork(), normalization: model.header.normalization,
                                                             storeFile: file, batchSize: 8, repeats: 2)
        XCTAssertEqual(figures.count, 2)
        for figure in figures {
            // Every tile of the file went through the predictor's path; how long it took is the
            // benchmark's to print, not a test's to judge (a positive duration checks nothing).
            XCTAssertEqual(figure.tiles, tiles)
        }
    }
}
