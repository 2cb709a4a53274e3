import Prediction
import TesseraCore
import XCTest

/// The metrics against hand-worked cases and an independent brute-force count.
final class MetricsTests: XCTestCase {
    /// AUC by definition: every (positive, negative) pair, 1 when the positive scores higher, ½ on a tie.
    func bruteForceAUC(_ scores: [Double], _ positive: [Bool]) -> Double? {
        var sum = 0.0, pairs = 0.0
        for i in scores.indices where positive[i] {
            for j in scores.indices where !positive[j] {
                sum += scores[i] > scores[j] ? 1 : (scores[i] == scores[j] ? 0.5 : 0)
                pairs += 1
            }
        }
        return pairs > 0 ? sum / pairs : nil
    }

    func testAUCHandWorkedWithTies() throws {
        // Positives 0.9, 0.5, 0.5; negatives 0.5, 0.1. Pairs: 0.9 beats both (2); each 0.5 ties the
        // negative 0.5 (½) and beats 0.1 (1): 2 + 1.5 + 1.5 = 5 of 6.
        let auc = try XCTUnwrap(ClassificationMetrics.auc(scores: [0.9, 0.5, 0.5, 0.5, 0.1], positive: [true, true, true, false, false]))
        XCTAssertEqual(auc, 5.0 / 6.0, accuracy: 1e-12)
        // Everything tied: ½.
        XCTAssertEqual(try XCTUnwrap(ClassificationMetrics.auc(scores: [0.3, 0.3, 0.3], positive: [true, false, false])), 0.5, accuracy: 1e-12)
        // Perfect and reversed.
        XCTAssertEqual(try XCTUnwrap(ClassificationMetrics.auc(scores: [0.8, 0.7, 0.2], positive: [true, true, false])), 1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(ClassificationMetrics.auc(scores: [0.1, 0.7, 0.9], positive: [true, false, false])), 0, accuracy: 1e-12)
        // Positives 0.4 and 0.6 against negatives 0.4 and 0.5: 0.4 ties 0.4 (½), loses to 0.5;
        // 0.6 beats both: 2.5 of 4.
        XCTAssertEqual(try XCTUnwrap(ClassificationMetrics.auc(scores: [0.4, 0.6, 0.4, 0.5], positive: [true, true, false, false])), 0.625, accuracy: 1e-12)
        // Undefined without one of the two groups.
        XCTAssertNil(ClassificationMetrics.auc(scores: [0.1, 0.2], positive: [true, true]))
        XCTAssertNil(ClassificationMetrics.auc(scores: [0.1, 0.2], positive: [false, false]))
    }

    func testAUCMatchesBruteForceOnRandomScoresWithManyTies() throws {
        var rng = SeededGenerator(seed: 11)
        var worst = 0.0
        for trial in 0..<50 {
            let n = 2 + Int(rng.next() % 60)
            // Scores on a coarse grid, so ties are common.
            let scores = (0..<n).map { _ in Double(rng.next() % 7) / 6 }
            let positive = (0..<n).map { _ in rng.next() % 3 == 0 }
            let expected = bruteForceAUC(scores, positive)
            let got = ClassificationMetrics.auc(scores: scores, positive: positive)
            XCTAssertEqual(got == nil, expected == nil, "trial \(trial)")
            if let got, let expected { worst = max(worst, abs(got - expected)) }
        }
        print("AUC vs brute force: largest difference \(worst)")
        XCTAssertLessThan(worst, 1e-12)
    }

    func testConfusionAccuracyAndBalancedAccuracy() throws {
        // 6 of class 0, all right; 2 of class 1, one right.
        let truth = [0, 0, 0, 0, 0, 0, 1, 1], predicted = [0, 0, 0, 0, 0, 0, 0, 1]
        let m = ClassificationMetrics.confusion(truth: truth, predicted: predicted, classes: 3)
        XCTAssertEqual(m, [[6, 0, 0], [1, 1, 0], [0, 0, 0]])
        XCTAssertEqual(try XCTUnwrap(ClassificationMetrics.accuracy(m)), 7.0 / 8.0, accuracy: 1e-12)
        // Recall 1 and ½; class 2 never occurs and is left out: (1 + 0.5) / 2.
        XCTAssertEqual(try XCTUnwrap(ClassificationMetrics.balancedAccuracy(m)), 0.75, accuracy: 1e-12)
        // Three classes: recalls 2/3, 1/2, 0/1 → 7/18.
        let m3 = ClassificationMetrics.confusion(truth: [0, 0, 0, 1, 1, 2], predicted: [0, 0, 1, 1, 2, 0], classes: 3)
        XCTAssertEqual(m3, [[2, 1, 0], [0, 1, 1], [1, 0, 0]])
        XCTAssertEqual(try XCTUnwrap(ClassificationMetrics.balancedAccuracy(m3)), 7.0 / 18.0, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(ClassificationMetrics.accuracy(m3)), 0.5, accuracy: 1e-12)
        XCTAssertNil(ClassificationMetrics.accuracy(ClassificationMetrics.confusion(truth: [], predicted: [], classes: 2)))
    }

    func testQuantileInterpolatesLikeNumPy() {
        let v = [1.0, 2, 3, 4]
        XCTAssertEqual(ClassificationMetrics.quantile(sorted: v, 0.5), 2.5, accuracy: 1e-12)
        XCTAssertEqual(ClassificationMetrics.quantile(sorted: v, 0.025), 1.075, accuracy: 1e-12)
        XCTAssertEqual(ClassificationMetrics.quantile(sorted: v, 0.975), 3.925, accuracy: 1e-12)
        XCTAssertEqual(ClassificationMetrics.quantile(sorted: [5], 0.975), 5)
    }

    func testEvaluateMatchesTheParts() throws {
        var rng = SeededGenerator(seed: 5)
        let n = 40, classes = 3
        let truth = (0..<n).map { _ in Int(rng.next() % 3) }
        var scores: [Double] = []
        for t in truth {
            var row = (0..<classes).map { _ in rng.nextUnit() }
            row[t] += 0.5
            let s = row.reduce(0, +)
            scores += row.map { $0 / s }
        }
        let predicted = (0..<n).map { i in SlideAggregator.argmax(Array(scores[(i * 3)..<(i * 3 + 3)])) }
        let m = try XCTUnwrap(ClassificationMetrics.evaluate(truth: truth, predicted: predicted, scores: scores, classes: classes,
                                                             bootstrap: 200, seed: 3, stream: 2))
        XCTAssertEqual(m.count, n)
        XCTAssertEqual(m.confusion, ClassificationMetrics.confusion(truth: truth, predicted: predicted, classes: classes))
        XCTAssertEqual(m.accuracy, Double(zip(truth, predicted).filter { $0 == $1 }.count) / Double(n), accuracy: 1e-12)
        for c in 0..<classes {
            let a = try XCTUnwrap(m.auc[c])
            let expected = try XCTUnwrap(bruteForceAUC((0..<n).map { scores[$0 * 3 + c] }, truth.map { $0 == c }))
            XCTAssertEqual(a.auc, expected, accuracy: 1e-12)
            XCTAssertEqual(a.positives, truth.filter { $0 == c }.count)
            XCTAssertEqual(a.positives + a.negatives, n)
            let low = try XCTUnwrap(a.ciLow), high = try XCTUnwrap(a.ciHigh)
            XCTAssertLessThanOrEqual(low, a.auc)
            XCTAssertGreaterThanOrEqual(high, a.auc)
            XCTAssertLessThan(high - low, 0.5, "a 95% interval over 40 items should not span everything")
            XCTAssertGreaterThan(a.resamples, 190)
        }
        XCTAssertEqual(try XCTUnwrap(m.macroAUC), m.auc.compactMap { $0?.auc }.reduce(0, +) / 3, accuracy: 1e-12)
        // Seeded: the same intervals again; another seed, others.
        let again = ClassificationMetrics.evaluate(truth: truth, predicted: predicted, scores: scores, classes: classes, bootstrap: 200, seed: 3, stream: 2)
        XCTAssertEqual(again, m)
        let other = ClassificationMetrics.evaluate(truth: truth, predicted: predicted, scores: scores, classes: classes, bootstrap: 200, seed: 4, stream: 2)
        XCTAssertNotEqual(other?.auc[0]?.ciLow, m.auc[0]?.ciLow)
    }

    func testBootstrapOfAPerfectSeparationIsOne() throws {
        let m = try XCTUnwrap(ClassificationMetrics.evaluate(truth: [0, 0, 1, 1], predicted: [0, 0, 1, 1],
                                                             scores: [0.9, 0.1, 0.8, 0.2, 0.3, 0.7, 0.4, 0.6], classes: 2,
                                                             bootstrap: 100, seed: 1, stream: 1))
        let a = try XCTUnwrap(m.auc[0])
        XCTAssertEqual(a.auc, 1)
        XCTAssertEqual(a.ciLow, 1)
        XCTAssertEqual(a.ciHigh, 1)
        // Resamples that drew only one class are skipped, not counted as AUC 0 or 1.
        XCTAssertLessThan(a.resamples, 100)
        XCTAssertEqual(m.balancedAccuracy, 1)
    }

    func testAClassThatNeverOccursHasNoAUC() throws {
        let m = try XCTUnwrap(ClassificationMetrics.evaluate(truth: [0, 1], predicted: [0, 0], scores: [0.6, 0.3, 0.1, 0.5, 0.4, 0.1],
                                                             classes: 3, bootstrap: 0, seed: 1, stream: 1))
        XCTAssertNil(m.auc[2])
        XCTAssertEqual(m.auc[0]?.auc, 1)
        XCTAssertNil(m.auc[0]?.ciLow, "no bootstrap asked for")
        XCTAssertNil(ClassificationMetrics.evaluate(truth: [], predicted: [], scores: [], classes: 3, bootstrap: 10, seed: 1, stream: 1))
    }

    /// report.json keys each level's AUCs by class name (null where a class has none) and reads
    /// back the same; a list in class order (reports of earlier versions) still reads.
    func testAUCsAreKeyedByClassNameInJSON() throws {
        let m = try XCTUnwrap(ClassificationMetrics.evaluate(truth: [0, 0, 1, 1], predicted: [0, 1, 1, 1], scores: [0.9, 0.1, 0, 0.4, 0.6, 0, 0.2, 0.8, 0, 0.3, 0.7, 0],
                                                         classes: 3, bootstrap: 0, seed: 1, stream: 1))
        let names = ["LUAD", "LUSC", "normal"]
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.userInfo[LevelMetrics.classNamesKey] = names
        let data = try encoder.encode(m)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let auc = try XCTUnwrap(json["auc"] as? [String: Any], String(decoding: data, as: UTF8.self))
        XCTAssertEqual(Set(auc.keys), Set(names))
        XCTAssertEqual((auc["LUAD"] as? [String: Any])?["auc"] as? Double, 1)
        XCTAssertTrue(auc["normal"] is NSNull, "a class that never occurs: null")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.userInfo[LevelMetrics.classNamesKey] = names
        XCTAssertEqual(try decoder.decode(LevelMetrics.self, from: data), m)
        let legacy = try JSONEncoder().encode(m)
        XCTAssertEqual(try decoder.decode(LevelMetrics.self, from: legacy), m)
    }
}
