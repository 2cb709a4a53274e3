import Foundation
import Model
import Prediction
import TesseraCore
import TesseraTestSupport
import TileStore
import XCTest

/// `--stain-reference slide:PATH@X,Y,W,H` end to end: tessera-train fits the reference on a region
/// of a cohort slide and records it in model.tsm; tessera-predict applies it and writes report.json's
/// stain counts, which equal a normaliser's counts over the same tiles — on a store that keeps
/// glass tiles (`--max-background 1`), so that some tiles fall back to the identity.
final class StainReferenceEndToEndTests: XCTestCase {
    override class func tearDown() {
        PredictionFixture.tearDown()
        super.tearDown()
    }

    /// The cohort slide with the most tissue of those that record 0.5 µm/px (a reference slide must
    /// record its resolution: it is cut as the store was; at 0.5 µm/px a 128² tile spans 128
    /// level-0 px).
    private func referenceSlide(_ f: PredictionFixture.Pipeline) throws -> (path: String, name: String) {
        struct Cohort: Decodable {
            struct Slide: Decodable { var slidePath: String; var recordedMpp: Double?; var tissueFraction: Double }
            var slides: [Slide]
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let cohort = try decoder.decode(Cohort.self, from: Data(contentsOf: f.cohort.appendingPathComponent("cohort.json")))
        let slide = try XCTUnwrap(cohort.slides.filter { abs(($0.recordedMpp ?? 0) - 0.5) < 0.01 }.max { $0.tissueFraction < $1.tissueFraction })
        let path = f.cohort.appendingPathComponent(slide.slidePath).path
        return (path, URL(fileURLWithPath: path).lastPathComponent)
    }

    func testATrainingRunFitsItsReferenceOnASlideRegionAndPredictionCountsItsFallbacks() throws {
        let f = try PredictionFixture.shared()
        let dir = try TestEnvironment.temporaryDirectory(self, "stain-reference-e2e")
        let store = dir.appendingPathComponent("store-with-glass"), run = dir.appendingPathComponent("run")
        _ = try PredictionFixture.run("tessera-tile", ["--manifest", f.cohort.appendingPathComponent("manifest.csv").path, "--store", store.path,
                                                       "--tile-size", "128", "--assume-mpp", "0.5", "--split", "0.5,0,0.5", "--max-background", "1",
                                                       "--threads", "2"])
        let (slide, name) = try referenceSlide(f)
        let reference = "slide:\(slide)@256,256,512,512"
        let train = try runCommand(TestEnvironment.executable("tessera-train"), [
            "--store", store.path, "--out", run.path, "--input-size", "32", "--epochs", "1", "--batch", "8", "--threads", "1",
            "--progress-interval", "0", "--stain-norm", "macenko", "--stain-reference", reference,
        ], timeout: 900)
        XCTAssertEqual(train.status, 0, train.output)
        XCTAssertTrue(train.stderr.contains("stain reference slide \(name) region 256,256,512,512: "), train.stderr)
        let model = try ModelFile.read(run.appendingPathComponent("model.tsm"))
        let stain = try XCTUnwrap(model.header.normalization.stain)
        XCTAssertEqual(stain.method, .macenko)
        XCTAssertNotNil(stain.referenceSource.range(of: #"^slide \S+ region 256,256,512,512 \([1-9][0-9]* tiles\)$"#, options: .regularExpression),
                        stain.referenceSource)
        XCTAssertTrue(stain.referenceSource.hasPrefix("slide \(name) "))

        let out = dir.appendingPathComponent("predictions")
        let predict = try runCommand(TestEnvironment.executable("tessera-predict"), [
            "--model", run.appendingPathComponent("model.tsm").path, "--store", store.path, "--out", out.path, "--threads", "1", "--bootstrap", "0",
        ], timeout: 900)
        XCTAssertEqual(predict.status, 0, predict.output)
        let report = try PredictionReport.decode(Data(contentsOf: out.appendingPathComponent("report.json")))

        // The normaliser's own counts over the same tiles: the model's pipeline, tile by tile.
        var expected: [String: (tiles: Int, fallbacks: Int)] = [:]
        let pipeline = try InputPipeline(tileSize: model.header.tiling.tileSize, inputSize: model.header.network.inputSize,
                                         normalization: model.header.normalization, augmentation: .none, seed: 1)
        for file in TileStoreLayout.storeFiles(in: store, split: TileStoreLayout.testSplit) {
            let reader = try TileStoreReader(url: file)
            let columns = try reader.tileColumns()
            for i in 0..<reader.tileCount {
                _ = try pipeline.image(.jpeg(try reader.encodedTile(i)), source: "\(file.path) tile \(i)")
                let counts = pipeline.takeStainCounts(), id = reader.slides[Int(columns.slides[i])].slideID
                expected[id, default: (0, 0)].tiles += counts.tiles
                expected[id, default: (0, 0)].fallbacks += counts.fallbacks
            }
            try reader.close()
        }
        let bySlide = try XCTUnwrap(report.stainTilesBySlide)
        XCTAssertEqual(bySlide.map(\.slideID), expected.keys.sorted())
        for s in bySlide {
            XCTAssertEqual(s, SlideStainCounts(slideID: s.slideID, tiles: expected[s.slideID]!.tiles, fallbacks: expected[s.slideID]!.fallbacks))
        }
        let fallbacks = expected.values.reduce(0) { $0 + $1.fallbacks }, tiles = expected.values.reduce(0) { $0 + $1.tiles }
        XCTAssertGreaterThan(fallbacks, 0, "the glass tiles the store kept fall back to the identity")
        XCTAssertEqual(report.summary.stainUnnormalizedTiles, fallbacks)
        XCTAssertEqual(report.summary.stainNormalizedTiles, tiles - fallbacks)
        XCTAssertTrue(predict.stderr.contains("\(fallbacks) of \(tiles) tiles left unnormalised (too little tissue)"), predict.stderr)
        print("stain counts: \(fallbacks) of \(tiles) test tiles left as they were, over \(bySlide.count) slides")

        // Two tasks and a merge: each task's counts travel in its part, the merge writes the same.
        let sharded = dir.appendingPathComponent("sharded")
        for shard in ["0", "1"] {
            let r = try runCommand(TestEnvironment.executable("tessera-predict"), [
                "--model", run.appendingPathComponent("model.tsm").path, "--store", store.path, "--out", sharded.path, "--threads", "1",
                "--bootstrap", "0", "--shard", shard, "--shards", "2",
            ], timeout: 900)
            XCTAssertEqual(r.status, 0, r.output)
        }
        let merged = try runCommand(TestEnvironment.executable("tessera-predict"), ["merge", "--out", sharded.path, "--bootstrap", "0"], timeout: 300)
        XCTAssertEqual(merged.status, 0, merged.output)
        XCTAssertTrue(merged.stderr.contains("\(fallbacks) of \(tiles) tiles left unnormalised (too little tissue)"), merged.stderr)
        let mergedReport = try PredictionReport.decode(Data(contentsOf: sharded.appendingPathComponent("report.json")))
        XCTAssertEqual(mergedReport.stainTilesBySlide, report.stainTilesBySlide)
        XCTAssertEqual(mergedReport.summary, report.summary)
    }

    /// A reference slide that gives no reference: exit 64 before any training, naming the file and the fix.
    func testReferenceSlidesThatGiveNoReferenceAreUsageErrors() throws {
        let f = try PredictionFixture.shared()
        let dir = try TestEnvironment.temporaryDirectory(self, "stain-reference-errors")
        let (slide, _) = try referenceSlide(f)
        let cases: [(String, String)] = [
            ("slide:\(dir.path)/absent.svs", "--stain-reference slide:\(dir.path)/absent.svs: no such file \(dir.path)/absent.svs"),
            ("slide:\(slide)@0,0,99999,512", "\(slide): region 0,0,99999,512 lies outside the slide"),
            // The synthetic slides' leftmost 128 px are glass (tissue lies inside a margin).
            ("slide:\(slide)@0,0,128,1024", "region 0,0,128,1024: none of its 8 tile positions passes the tissue rule"),
        ]
        for (reference, message) in cases {
            let r = try runCommand(TestEnvironment.executable("tessera-train"), [
                "--store", f.store.path, "--out", dir.appendingPathComponent("run").path, "--input-size", "32", "--epochs", "1", "--batch", "8",
                "--threads", "1", "--stain-norm", "reinhard", "--stain-reference", reference,
            ], timeout: 300)
            XCTAssertEqual(r.status, 64, r.output)
            XCTAssertTrue(r.stderr.contains(message), "\(message) in: \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("epoch 1/1"), "no training")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("run/checkpoint.tsc").path))
        }
        // The job-file key, as Jobs/run-local and the Slurm scripts pass it (--job).
        let job = dir.appendingPathComponent("reference.env")
        try Data("""
            STORE=\(f.store.path)
            RUN=\(dir.appendingPathComponent("run").path)
            STAIN_NORM=macenko
            STAIN_REFERENCE=slide:\(slide)@0,0,128,1024

            """.utf8).write(to: job)
        let r = try runCommand(TestEnvironment.executable("tessera-train"), ["--job", job.path, "--threads", "1"], timeout: 300)
        XCTAssertEqual(r.status, 64, r.output)
        XCTAssertTrue(r.stderr.contains("region 0,0,128,1024: none of its 8 tile positions passes the tissue rule"), r.stderr)
    }
}
