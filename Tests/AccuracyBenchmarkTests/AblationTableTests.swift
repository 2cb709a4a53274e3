import Foundation
import XCTest

@testable import AccuracyBenchmark
@testable import Prediction

/// The ablation table on hand-made prediction folders: per-row macro AUCs, the paired difference
/// against the baseline, the best combination, and the rows in benchmark.json and benchmark.md.
final class AblationTableTests: XCTestCase {
    private let classes = ["LUAD", "LUSC", "normal"]
    private let labels = ["S1": "LUAD", "S2": "LUSC", "S3": "normal"]

    /// One tile per slide, so a slide's mean probability is its tile's. Baseline: one-vs-rest AUC
    /// LUAD 0.5 (S1 0.4 above S3 0.3, below S2 0.5), LUSC 0.25 (S2 0.3 ties S1, below S3 0.4),
    /// normal 0.75 (S3 0.3 ties S1, above S2 0.2): macro 0.5. The variant ranks every slide right: 1.
    private let baseline: [(slide: String, x: Int, p: [Float])] = [
        ("S1", 0, [0.4, 0.3, 0.3]), ("S2", 0, [0.5, 0.3, 0.2]), ("S3", 0, [0.3, 0.4, 0.3]),
    ]
    private let variant: [(slide: String, x: Int, p: [Float])] = [
        ("S1", 0, [0.6, 0.2, 0.2]), ("S2", 0, [0.2, 0.6, 0.2]), ("S3", 0, [0.2, 0.2, 0.6]),
    ]

    private func runs(_ tiles: [(slide: String, x: Int, p: [Float])], name: String, overrides: String, heldOut: Bool) throws -> AblationRow.Runs {
        let dir = try PredictionFolderFixture.make(tiles: tiles, labels: labels, classes: classes)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let truth = "slide_id,x,y,size,tissue_fraction,tumour_fraction,artefact_fraction,true_label\n"
            + tiles.map { "\($0.slide),\($0.x),0,512,1,0,0,\(labels[$0.slide]!)\n" }.joined()
        let split = try SplitBenchmark(name: name, predictions: dir, tileTruthCSV: truth, slideLabels: labels, bootstrap: 200, seed: 1)
        let scores = try SlideScores.read(dir, classes: classes)
        return AblationRow.Runs(name: name, overrides: overrides, siteMixed: split, siteHeldOut: heldOut ? split : nil,
                                siteMixedScores: scores, siteHeldOutScores: heldOut ? scores : nil)
    }

    func testRowsCarryTheirAUCsAndThePairedDifferenceAgainstTheBaseline() throws {
        let rows = AblationRow.table([
            try runs(baseline, name: "baseline", overrides: "QC=none STAIN_NORM=none HED_JITTER=0", heldOut: true),
            try runs(variant, name: "macenko", overrides: "STAIN_NORM=macenko", heldOut: true),
            try runs(baseline, name: "hed", overrides: "HED_JITTER=0.05", heldOut: false),
        ], classes: classes, slideLabels: labels, bootstrap: 200, seed: 1)
        XCTAssertEqual(rows.map(\.name), ["baseline", "macenko", "hed"])
        XCTAssertEqual(rows[0].slideMacroAuc?.value ?? -1, 0.5, accuracy: 1e-12)
        XCTAssertEqual(rows[0].tileMacroAuc?.value ?? -1, 0.5, accuracy: 1e-12)
        XCTAssertEqual(rows[1].slideMacroAuc?.value ?? -1, 1, accuracy: 1e-12)
        XCTAssertEqual(rows[1].heldOutMacroAuc?.value ?? -1, 1, accuracy: 1e-12)
        XCTAssertNil(rows[0].versusBaseline, "the baseline is not compared with itself")
        let d = try XCTUnwrap(rows[1].versusBaseline)
        XCTAssertEqual(d.difference, 0.5, accuracy: 1e-12)
        XCTAssertEqual(d.count, 3)
        XCTAssertLessThanOrEqual(d.ciLow ?? 9, d.difference)
        XCTAssertEqual(rows[1].heldOutVersusBaseline?.difference ?? -1, 0.5, accuracy: 1e-12)
        // Same predictions as the baseline: no difference on any resample.
        XCTAssertEqual(rows[2].versusBaseline?.difference, 0)
        XCTAssertEqual(rows[2].versusBaseline?.ciHigh, 0)
        XCTAssertNil(rows[2].heldOutVersusBaseline, "no held-out run in that row")
        XCTAssertNil(rows[2].heldOutMacroAuc)

        XCTAssertEqual(AblationRow.bestCombination(rows), "QC=none STAIN_NORM=macenko HED_JITTER=0")

        let report = BenchmarkReport(commit: "abc", cohort: .init(patients: 3, slides: 3, seed: 1, width: 1, height: 1, realism: nil,
                                                                  sites: [], heldOutSites: [], medianPurity: 0.5),
                                     splits: [], ablation: rows)
        let json = try XCTUnwrap(String(data: try report.json(), encoding: .utf8))
        XCTAssertTrue(json.contains("\"ablation\""))
        XCTAssertTrue(json.contains("\"versus_baseline\""))
        XCTAssertTrue(json.contains("\"slide_macro_auc\""))
        XCTAssertTrue(json.contains("\"difference\" : 0.5"), json)
        let md = report.markdown(classes: classes, timings: [])
        XCTAssertTrue(md.contains("| macenko | `STAIN_NORM=macenko` | 1.000"), md)
        XCTAssertTrue(md.contains("+0.500 ["), md)
    }

    func testBestCombinationTakesEachKeyFromItsBestImprovingRow() {
        func row(_ name: String, _ overrides: String, _ d: Double?) -> AblationRow {
            AblationRow(name: name, overrides: overrides, slideMacroAuc: nil, heldOutMacroAuc: nil, tileMacroAuc: nil,
                        versusBaseline: d.map { PairedDifference(difference: $0, ciLow: nil, ciHigh: nil, resamples: 0, count: 10) },
                        heldOutVersusBaseline: nil)
        }
        let base = row("baseline", "QC=none STAIN_NORM=none HED_JITTER=0", nil)
        XCTAssertEqual(AblationRow.bestCombination([base, row("reinhard", "STAIN_NORM=reinhard", 0.01), row("macenko", "STAIN_NORM=macenko", 0.03),
                                                    row("hed", "QC=none STAIN_NORM=none HED_JITTER=0.05", 0.02), row("qc", "QC=pen,blur", -0.01)]),
                       "QC=none STAIN_NORM=macenko HED_JITTER=0.05", "a row repeating the baseline's keys does not undo another row's")
        XCTAssertNil(AblationRow.bestCombination([base, row("qc", "QC=pen,blur", -0.01), row("hed", "HED_JITTER=0.05", 0)]))
    }
}
