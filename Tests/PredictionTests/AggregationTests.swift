import TesseraCore
import Tiling
import XCTest
@testable import Prediction

final class AggregationTests: XCTestCase {
    let classes = ["LUAD", "LUSC", "normal"]

    func testSlideAggregateMeanVotesAndShares() throws {
        let p: [Float] = [0.7, 0.2, 0.1,
                          0.1, 0.6, 0.3,
                          0.2, 0.5, 0.3,
                          0.6, 0.3, 0.1]
        let a = SlideAggregator.aggregate(probabilities: p, classes: 3)
        XCTAssertEqual(a.tiles, 4)
        XCTAssertEqual(a.votes, [2, 2, 0])
        XCTAssertEqual(a.voteShares, [0.5, 0.5, 0])
        let expected = [1.6, 1.6, 0.8].map { $0 / 4 }
        for c in 0..<3 { XCTAssertEqual(a.meanProbabilities[c], expected[c], accuracy: 1e-6) }
        // Votes tie 2–2: the first class in the model's order wins. Means: 0.4 vs 0.4 (in Float
        // sums they differ in the last bits), so check the rule on exact ties directly.
        XCTAssertEqual(a.predictedByVote, 0)
        XCTAssertEqual(SlideAggregator.argmax([0.4, 0.4, 0.2]), 0)
        XCTAssertEqual(SlideAggregator.argmax([0.2, 0.4, 0.4]), 1)
        XCTAssertEqual(SlideAggregator.tileClass([0.5, 0.5]), 0)
    }

    func testNoTilesGiveANoTissueRow() throws {
        let a = SlideAggregator.aggregate(probabilities: [], classes: 3)
        XCTAssertEqual(a.tiles, 0)
        XCTAssertNil(a.predictedByMean)
        XCTAssertNil(a.predictedByVote)
        let row = SlidePrediction.predicted(slideID: "S", patientID: "P", label: "LUAD", aggregate: a)
        XCTAssertEqual(row.outcome, .noTissueTiles)
        XCTAssertNil(row.aggregate)
        let fields = row.fields(classes: classes)
        XCTAssertEqual(fields.count, SlidePrediction.header(classes: classes).count)
        XCTAssertEqual(fields[6], "0")
        XCTAssertEqual(fields[fields.count - 2], "no tissue tiles")
        XCTAssertEqual(try SlidePrediction(fields: fields, classes: classes), row)
    }

    func testSlideRowsReadBackExactly() throws {
        var rng = SeededGenerator(seed: 2)
        var p: [Float] = []
        for _ in 0..<37 {
            let row = (0..<3).map { _ in Float(rng.nextUnit()) + 1e-7 }
            let s = row.reduce(0, +)
            p += row.map { $0 / s }
        }
        var row = SlidePrediction.predicted(slideID: "TCGA-SY-0001-01A-01-TS1, \"odd\"", patientID: "TCGA-SY-0001", label: nil,
                                            aggregate: SlideAggregator.aggregate(probabilities: p, classes: 3))
        row.resolution = ScanResolution(mpp: 0.2527, source: .recorded)
        row.slidePath = "/data/slides/a, b.svs"
        let text = CSV.document(header: SlidePrediction.header(classes: classes), rows: [row.fields(classes: classes)])
        let parsed = try CSV.parse(text)
        XCTAssertEqual(parsed[0].fields, ["slide_id", "patient_id", "label", "mpp", "mpp_source", "slide_path", "n_tiles", "p_LUAD", "p_LUSC", "p_normal", "predicted_by_mean",
                                          "vote_share_LUAD", "vote_share_LUSC", "vote_share_normal", "predicted_by_vote",
                                          "above_threshold_share_LUAD", "above_threshold_share_LUSC", "above_threshold_share_normal",
                                          "predicted_by_above_threshold", "status", "message"])
        XCTAssertEqual(try SlidePrediction(fields: parsed[1].fields, classes: classes), row, "every number reads back bit for bit")
        XCTAssertEqual(Array(parsed[1].fields[3...5]), ["0.2527", "recorded", "/data/slides/a, b.svs"])
        XCTAssertThrowsError(try SlidePrediction(fields: Array(parsed[1].fields.dropLast()), classes: classes))
        var badSource = parsed[1].fields
        badSource[4] = "guessed"
        XCTAssertThrowsError(try SlidePrediction(fields: badSource, classes: classes)) { XCTAssertTrue("\($0)".contains("mpp_source"), "\($0)") }
    }

    /// DeepPATH's percentage of tiles above threshold, against counts by hand: a class counts a
    /// tile when its probability is above 0.5 (a tile may count for no class).
    func testPercentAboveThreshold() {
        // Five tiles of three classes.
        let p: [Float] = [0.6, 0.3, 0.1, 0.4, 0.35, 0.25, 0.2, 0.7, 0.1, 0.2, 0.75, 0.05, 0.5, 0.5, 0]
        let a = SlideAggregator.aggregate(probabilities: p, classes: 3)
        XCTAssertEqual(a.aboveThreshold, [1, 2, 0], "0.5 itself is not above")
        XCTAssertEqual(a.aboveThresholdShares, [0.2, 0.4, 0])
        XCTAssertEqual(a.predicted(by: .percentAboveThreshold), 1)
        XCTAssertEqual(a.votes, [3, 2, 0], "the vote takes the first class on the 0.5/0.5 tie")
        XCTAssertEqual(a.predicted(by: .majorityVote), 0, "vote and threshold disagree here")
        let b = SlideAggregator.aggregate(probabilities: [0.9, 0.05, 0.05], classes: 3)
        XCTAssertEqual(SlideAggregator.combine([a, b], classes: 3).aboveThreshold, [2, 2, 0], "patients add the counts")
    }

    func testPatientsPoolTheirSlidesTiles() throws {
        let a = SlideAggregate(tiles: 2, meanProbabilities: [0.9, 0.1, 0], votes: [2, 0, 0])
        let b = SlideAggregate(tiles: 6, meanProbabilities: [0.2, 0.7, 0.1], votes: [1, 5, 0])
        let slides = [
            SlidePrediction(slideID: "A", patientID: "P1", label: "LUAD", outcome: .ok, aggregate: a),
            SlidePrediction(slideID: "B", patientID: "P1", label: "LUAD", outcome: .ok, aggregate: b),
            SlidePrediction(slideID: "C", patientID: "P2", label: "LUSC", outcome: .ok, aggregate: b),
            SlidePrediction(slideID: "D", patientID: "P2", label: "normal", outcome: .noTissueTiles),
            SlidePrediction(slideID: "E", patientID: "P3", label: nil, outcome: .failed, message: "open: broken"),
            SlidePrediction(slideID: "F", patientID: "", label: nil, outcome: .failed, message: "open: unreadable store file"),
        ]
        let patients = PatientAggregator.aggregate(slides, classes: 3)
        XCTAssertEqual(patients.map(\.patientID), ["P1", "P2", "P3"])
        let p1 = patients[0]
        XCTAssertEqual(p1.label, "LUAD")
        XCTAssertEqual(p1.slides, 2)
        XCTAssertEqual(p1.outcome, .ok)
        let pooled = try XCTUnwrap(p1.aggregate)
        XCTAssertEqual(pooled.tiles, 8)
        XCTAssertEqual(pooled.votes, [3, 5, 0])
        // (2·0.9 + 6·0.2) / 8 = 0.375; (2·0.1 + 6·0.7) / 8 = 0.55; 0.6 / 8 = 0.075.
        XCTAssertEqual(pooled.meanProbabilities[0], 0.375, accuracy: 1e-12)
        XCTAssertEqual(pooled.meanProbabilities[1], 0.55, accuracy: 1e-12)
        XCTAssertEqual(pooled.meanProbabilities[2], 0.075, accuracy: 1e-12)
        XCTAssertEqual(pooled.predictedByMean, 1)
        XCTAssertEqual(pooled.predictedByVote, 1)
        // Tumour and normal slides: predicted, but no patient label.
        XCTAssertNil(patients[1].label)
        XCTAssertTrue(patients[1].message.contains("slide labels differ (LUSC, normal)"), patients[1].message)
        XCTAssertEqual(patients[1].aggregate?.tiles, 6)
        XCTAssertEqual(patients[2].outcome, .failed)
        XCTAssertNil(patients[2].aggregate)
        XCTAssertEqual(patients[2].fields(classes: classes)[3], "0")
    }

    func testDecimalTextIsPlainAndExact() {
        XCTAssertEqual(DecimalText.format(Float(1) / 3), "0.33333334")
        XCTAssertEqual(DecimalText.format(1.25e-05), "0.0000125")
        XCTAssertEqual(DecimalText.format(Float(1e-05)), "0.00001")
        XCTAssertEqual(DecimalText.format(0.0), "0.0")
        XCTAssertEqual(DecimalText.format(-0.0), "0.0")
        XCTAssertEqual(DecimalText.format(1.0), "1.0")
        XCTAssertEqual(DecimalText.format(1e16), "10000000000000000.0")
        XCTAssertEqual(DecimalText.format(2.5e-300).count, 2 + 299 + 2)
        var rng = SeededGenerator(seed: 9)
        for _ in 0..<2000 {
            let f = Float(rng.nextUnit()) * Float(pow(10, -Double(rng.next() % 12)))
            let text = DecimalText.format(f)
            XCTAssertFalse(text.contains("e"), text)
            XCTAssertEqual(DecimalText.parseFloat(text), f, text)
            let d = rng.nextUnit() * pow(10, -Double(rng.next() % 20))
            XCTAssertEqual(DecimalText.parseDouble(DecimalText.format(d)), d)
        }
    }

    func testSlideIDsBecomeSafeFileNames() {
        XCTAssertEqual(PredictionLayout.safeFileName("TCGA-05-4244-01A-01-TS1"), "TCGA-05-4244-01A-01-TS1")
        let odd = PredictionLayout.safeFileName("../a/b c:d")
        XCTAssertTrue(odd.hasPrefix("_._a_b_c_d-"), odd)
        XCTAssertFalse(odd.contains("/"))
        XCTAssertNotEqual(PredictionLayout.safeFileName("a/b"), PredictionLayout.safeFileName("a_b"), "different ids, different files")
        XCTAssertTrue(PredictionLayout.safeFileName(".hidden").hasPrefix("_hidden-"))
        XCTAssertLessThanOrEqual(PredictionLayout.safeFileName(String(repeating: "x", count: 500)).count, 159)
        XCTAssertFalse(PredictionLayout.safeFileName("").isEmpty)
        XCTAssertEqual(PredictionLayout.taskName(task: 3, taskCount: 8), "task-0003-of-0008")
    }
}
