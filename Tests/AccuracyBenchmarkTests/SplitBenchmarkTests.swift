import AccuracyBenchmark
import Foundation
import Prediction
import XCTest

/// The benchmark's figures for one split against a hand-worked prediction run and tile truth.
final class SplitBenchmarkTests: XCTestCase {
    private let classes = ["LUAD", "LUSC", "normal"]

    /// Three slides: S1 LUAD and S2 LUSC, each with one tumour tile among normal, glass or
    /// artefact tiles that the model calls normal; S3 normal, one tile called LUAD.
    private let tiles: [(slide: String, x: Int, p: [Float], truth: String)] = [
        ("S1", 0, [0.9, 0.05, 0.05], "LUAD"), ("S1", 512, [0.1, 0.1, 0.8], "normal"), ("S1", 1024, [0.2, 0.2, 0.6], "glass"),
        ("S2", 0, [0.2, 0.7, 0.1], "LUSC"), ("S2", 512, [0.1, 0.2, 0.7], "normal"), ("S2", 1024, [0.1, 0.1, 0.8], "artefact"),
        ("S3", 0, [0.1, 0.1, 0.8], "normal"), ("S3", 512, [0.6, 0.2, 0.2], "normal"),
    ]
    private let labels = ["S1": "LUAD", "S2": "LUSC", "S3": "normal"]

    private func predictionFolder() throws -> URL {
        try PredictionFolderFixture.make(tiles: tiles.map { ($0.slide, $0.x, $0.p) }, labels: labels, classes: classes)
    }

    func testTruthTileFiguresKeptTilesAndTheOracle() throws {
        let dir = try predictionFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let truth = "slide_id,x,y,size,tissue_fraction,tumour_fraction,artefact_fraction,true_label\n"
            + tiles.map { "\($0.slide),\($0.x),0,512,1,0,0,\($0.truth)\n" }.joined()
        let split = try SplitBenchmark(name: "mixed", predictions: dir, tileTruthCSV: truth, slideLabels: labels, bootstrap: 0, seed: 1)

        // Slides by mean probability: S1 and S2 are called normal (their normal tiles outweigh
        // their one tumour tile), S3 normal: 1 of 3.
        XCTAssertEqual(split.slide.meanProbability?.accuracy ?? -1, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(split.keptTiles, ["LUAD": 1, "LUSC": 1, "normal": 4, "glass": 1, "artefact": 1])
        // Against the truth: six tiles with a class; only S3's second tile is wrong.
        XCTAssertEqual(split.tileVersusTruth?.count, 6)
        XCTAssertEqual(split.tileVersusTruth?.accuracy ?? -1, 5.0 / 6, accuracy: 1e-12)
        // Against the slide label (what the predictor reports): all 8 tiles, right on S1 t1, S2 t1, S3 t1.
        XCTAssertEqual(split.tileVersusSlideLabel?.count, 8)
        XCTAssertEqual(split.tileVersusSlideLabel?.accuracy ?? -1, 3.0 / 8, accuracy: 1e-12)
        // The oracle keeps S1's and S2's tumour tile and S3's two normal tiles: every slide right.
        XCTAssertEqual(split.oracleSlide.meanProbability?.count, 3)
        XCTAssertEqual(split.oracleSlide.meanProbability?.accuracy, 1)
        XCTAssertEqual(split.oracleSlide.majorityVote?.accuracy ?? -1, 2.0 / 3, accuracy: 1e-12, "S3's vote is a tie, won by LUAD (first)")
        XCTAssertEqual(split.oracleSlidesWithoutTiles, 0)
    }

    /// The aggregators on the same slides: mean and vote as the report has them, above threshold
    /// by hand, and an ABMIL run's probabilities with their paired difference from the mean.
    func testAggregatorRows() throws {
        let dir = try predictionFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let truth = "slide_id,x,y,size,tissue_fraction,tumour_fraction,artefact_fraction,true_label\n"
            + tiles.map { "\($0.slide),\($0.x),0,512,1,0,0,\($0.truth)\n" }.joined()
        let mil = dir.appendingPathComponent("mil-slides.csv")
        try ("slide_id,patient_id,label,split,tiles,abmil_p_LUAD,abmil_p_LUSC,abmil_p_normal,abmil_predicted\n"
            + "S1,PS1,LUAD,test,3,0.8,0.1,0.1,LUAD\nS2,PS2,LUSC,test,3,0.1,0.8,0.1,LUSC\nS3,PS3,normal,test,2,0.1,0.1,0.8,normal\n")
            .write(to: mil, atomically: true, encoding: .utf8)
        // Attention: S1 puts most on its LUAD tile (1 of 3 tumour), S2 most on a normal tile (1 of 3 tumour).
        let attention = dir.appendingPathComponent("attention")
        try FileManager.default.createDirectory(at: attention, withIntermediateDirectories: true)
        try "x,y,attention\n0,0,0.7\n512,0,0.2\n1024,0,0.1\n".write(to: attention.appendingPathComponent("S1.csv"), atomically: true, encoding: .utf8)
        try "x,y,attention\n0,0,0.2\n512,0,0.5\n1024,0,0.3\n".write(to: attention.appendingPathComponent("S2.csv"), atomically: true, encoding: .utf8)
        let split = try SplitBenchmark(name: "mixed", predictions: dir, tileTruthCSV: truth, slideLabels: labels, bootstrap: 0, seed: 1,
                                       milSlides: mil)
        let a = try XCTUnwrap(split.attentionOnTumour)
        XCTAssertEqual(a.slides, 2)
        XCTAssertEqual(a.topDecileTumourShare, 0.5, accuracy: 1e-12, "top tile: S1's is tumour, S2's is not")
        XCTAssertEqual(a.tumourShare, 1.0 / 3, accuracy: 1e-12)
        let rows = try XCTUnwrap(split.aggregators)
        XCTAssertEqual(rows.map(\.aggregator), ["mean", "vote", "above_threshold", "abmil"])
        XCTAssertEqual(rows[0].metrics?.accuracy, split.slide.meanProbability?.accuracy)
        XCTAssertEqual(rows[0].metrics?.macroAUC, split.slide.meanProbability?.macroAUC)
        XCTAssertEqual(rows[1].metrics?.accuracy, split.slide.majorityVote?.accuracy)
        XCTAssertNil(rows[0].differenceFromMean)
        // Above 0.5: S1 [1, 0, 2] → normal, S2 [0, 1, 2] → normal, S3 [1, 0, 1] → LUAD (tie, first): none right.
        XCTAssertEqual(rows[2].metrics?.accuracy, 0)
        XCTAssertEqual(rows[3].metrics?.accuracy, 1)
        XCTAssertEqual(rows[3].metrics?.macroAUC, 1)
        let d = try XCTUnwrap(rows[3].differenceFromMean)
        XCTAssertEqual(d.difference, 1 - (rows[0].metrics?.macroAUC ?? 0), accuracy: 1e-12)
        XCTAssertEqual(d.count, 3)
    }

    func testATileWithoutTruthIsAnErrorNamingIt() throws {
        let dir = try predictionFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let truth = "slide_id,x,y,size,tissue_fraction,tumour_fraction,artefact_fraction,true_label\nS1,0,0,512,1,0,0,LUAD\n"
        XCTAssertThrowsError(try SplitBenchmark(name: "m", predictions: dir, tileTruthCSV: truth, slideLabels: labels, bootstrap: 0, seed: 1)) {
            XCTAssertTrue("\($0)".contains("tile S1 (512, 0) has no row in the tile truth"), "\($0)")
        }
    }

    func testTimingsAndMarkdown() {
        let t = BenchmarkReport.timings("synth 120.5 230.1\ntile 60.0\nbad line here x\n")
        XCTAssertEqual(t.map(\.stage), ["synth", "tile"])
        XCTAssertEqual(t[0].cpu, 230.1)
        XCTAssertNil(t[1].cpu)
    }
}
