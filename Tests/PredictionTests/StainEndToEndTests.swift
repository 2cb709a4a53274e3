import Foundation
import Model
import TesseraCore
import TesseraTestSupport
import XCTest

/// A model trained with stain normalisation (and HED augmentation) records it, and tessera-predict
/// applies it, from the store and from slide files alike.
final class StainEndToEndTests: XCTestCase {
    override class func tearDown() {
        PredictionFixture.tearDown()
        super.tearDown()
    }

    func testAModelTrainedWithStainNormalizationPredictsWithIt() throws {
        let f = try PredictionFixture.shared()
        let dir = try TestEnvironment.temporaryDirectory(self, "stain-e2e")
        let run = dir.appendingPathComponent("run")
        let train = try runCommand(TestEnvironment.executable("tessera-train"), [
            "--store", f.store.path, "--out", run.path, "--input-size", "32", "--epochs", "1", "--batch", "8", "--threads", "1",
            "--progress-interval", "0", "--stain-norm", "macenko", "--stain-reference", "train", "--hed-jitter", "0.05",
        ], timeout: 900)
        XCTAssertEqual(train.status, 0, train.output)
        XCTAssertTrue(train.stderr.contains("stain normalisation: macenko (reference: train ("), train.stderr)
        XCTAssertTrue(train.stderr.contains("left unnormalised (too little tissue)"), train.stderr)
        let model = try ModelFile.read(run.appendingPathComponent("model.tsm"))
        let stain = try XCTUnwrap(model.header.normalization.stain, "the model records its stain normalisation")
        XCTAssertEqual(stain.method, .macenko)
        XCTAssertTrue(stain.referenceSource.hasPrefix("train ("), stain.referenceSource)

        func predict(_ modelURL: URL, _ source: [String], _ out: String) throws -> (CommandResult, [String]) {
            let r = try runCommand(TestEnvironment.executable("tessera-predict"),
                                   ["--model", modelURL.path, "--out", dir.appendingPathComponent(out).path, "--tile-scores",
                                    "--threads", "1", "--bootstrap", "0"] + source, timeout: 900)
            XCTAssertEqual(r.status, 0, r.output)
            let tiles = try String(contentsOf: dir.appendingPathComponent(out).appendingPathComponent("tiles.csv"), encoding: .utf8)
            return (r, tiles.split(separator: "\n").map(String.init))
        }
        let (fromStore, storeTiles) = try predict(run.appendingPathComponent("model.tsm"), ["--store", f.store.path], "from-store")
        XCTAssertTrue(fromStore.stderr.contains("stain normalisation as in training: macenko (reference: train ("), fromStore.stderr)
        let report = try String(contentsOf: dir.appendingPathComponent("from-store/report.json"), encoding: .utf8)
        XCTAssertTrue(report.contains("\"stain_normalization\""), "report.json names the normalisation")
        let (fromSlides, _) = try predict(run.appendingPathComponent("model.tsm"),
                                          ["--manifest", f.testManifest.path, "--assume-mpp", "0.5"], "from-slides")
        XCTAssertTrue(fromSlides.stderr.contains("stain normalisation as in training: macenko"), fromSlides.stderr)

        // The same weights without the recorded normalisation score the tiles differently: the
        // predictor applies what the model file says.
        var stripped = model
        stripped.header.normalization.stain = nil
        let strippedURL = dir.appendingPathComponent("stripped.tsm")
        try stripped.write(to: strippedURL)
        let (plain, plainTiles) = try predict(strippedURL, ["--store", f.store.path], "stripped")
        XCTAssertFalse(plain.stderr.contains("stain normalisation as in training"))
        XCTAssertEqual(plainTiles.count, storeTiles.count)
        XCTAssertNotEqual(plainTiles, storeTiles)

        let bad = try runCommand(TestEnvironment.executable("tessera-train"),
                                 ["--store", f.store.path, "--out", run.path, "--stain-norm", "vahadane"], timeout: 60)
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("--stain-norm must be none, reinhard or macenko"), bad.stderr)
    }
}
