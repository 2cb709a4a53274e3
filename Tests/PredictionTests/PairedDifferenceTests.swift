import Prediction
import TesseraCore
import XCTest

/// The paired bootstrap difference of macro AUCs against a brute-force recomputation of each resample.
final class PairedDifferenceTests: XCTestCase {
    /// Macro AUC by definition over explicitly listed items (pairs counted one by one).
    func bruteForceMacroAUC(truth: [Int], scores: [Double], classes: Int) -> Double? {
        let aucs = (0..<classes).compactMap { c -> Double? in
            var sum = 0.0, pairs = 0.0
            for i in truth.indices where truth[i] == c {
                for j in truth.indices where truth[j] != c {
                    let si = scores[i * classes + c], sj = scores[j * classes + c]
                    sum += si > sj ? 1 : (si == sj ? 0.5 : 0)
                    pairs += 1
                }
            }
            return pairs > 0 ? sum / pairs : nil
        }
        return aucs.isEmpty ? nil : aucs.reduce(0, +) / Double(aucs.count)
    }

    func testHandWorkedDifference() throws {
        // Two classes, four items. A separates perfectly (macro 1). B swaps the scores of items 1 and 2:
        // class 0 positives score 0.9, 0.4 against negatives 0.6, 0.2 → 3 of 4; class 1 the mirror, 3 of 4.
        let truth = [0, 0, 1, 1]
        let a = [0.9, 0.1, 0.6, 0.4, 0.4, 0.6, 0.2, 0.8]
        let b = [0.9, 0.1, 0.4, 0.6, 0.6, 0.4, 0.2, 0.8]
        let d = try XCTUnwrap(ClassificationMetrics.pairedMacroAUCDifference(truth: truth, scoresA: a, scoresB: b, classes: 2,
                                                                             bootstrap: 0, seed: 1, stream: 1))
        XCTAssertEqual(d.difference, 0.75 - 1, accuracy: 1e-12)
        XCTAssertNil(d.ciLow)
        XCTAssertEqual(d.count, 4)
    }

    func testResamplesMatchABruteForceDrawOfTheSameItems() throws {
        var rng = SeededGenerator(seed: 9)
        let n = 30, classes = 3, resamples = 300
        let truth = (0..<n).map { _ in Int(rng.next() % 3) }
        func noisyScores(signal: Double) -> [Double] {
            truth.flatMap { t -> [Double] in
                var row = (0..<classes).map { _ in rng.nextUnit() }
                row[t] += signal
                let s = row.reduce(0, +)
                return row.map { $0 / s }
            }
        }
        let a = noisyScores(signal: 0.3), b = noisyScores(signal: 0.8)
        let d = try XCTUnwrap(ClassificationMetrics.pairedMacroAUCDifference(truth: truth, scoresA: a, scoresB: b, classes: classes,
                                                                             bootstrap: resamples, seed: 4, stream: 7))
        let fullA = try XCTUnwrap(bruteForceMacroAUC(truth: truth, scores: a, classes: classes))
        let fullB = try XCTUnwrap(bruteForceMacroAUC(truth: truth, scores: b, classes: classes))
        XCTAssertEqual(d.difference, fullB - fullA, accuracy: 1e-12)

        // The same draws, item by item, from the same generator: each resample's items listed with
        // repeats and scored by definition.
        var draw = SeededGenerator(seed: 4, stream: 7)
        var expected: [Double] = []
        for _ in 0..<resamples {
            let items = (0..<n).map { _ in Int(draw.next() % UInt64(n)) }
            let t = items.map { truth[$0] }
            let sa = items.flatMap { a[($0 * classes)..<($0 * classes + classes)] }
            let sb = items.flatMap { b[($0 * classes)..<($0 * classes + classes)] }
            if let ma = bruteForceMacroAUC(truth: t, scores: sa, classes: classes),
               let mb = bruteForceMacroAUC(truth: t, scores: sb, classes: classes) { expected.append(mb - ma) }
        }
        expected.sort()
        XCTAssertEqual(d.resamples, expected.count)
        XCTAssertEqual(try XCTUnwrap(d.ciLow), ClassificationMetrics.quantile(sorted: expected, 0.025), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(d.ciHigh), ClassificationMetrics.quantile(sorted: expected, 0.975), accuracy: 1e-12)
        XCTAssertLessThanOrEqual(try XCTUnwrap(d.ciLow), d.difference)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(d.ciHigh), d.difference)
    }

    func testAMethodAgainstItselfDiffersByExactlyZero() throws {
        let truth = [0, 1, 2, 0, 1, 2, 1]
        let s = [0.5, 0.3, 0.2, 0.2, 0.5, 0.3, 0.1, 0.2, 0.7, 0.4, 0.4, 0.2, 0.3, 0.3, 0.4, 0.2, 0.2, 0.6, 0.1, 0.8, 0.1]
        let d = try XCTUnwrap(ClassificationMetrics.pairedMacroAUCDifference(truth: truth, scoresA: s, scoresB: s, classes: 3,
                                                                             bootstrap: 50, seed: 2, stream: 2))
        XCTAssertEqual(d.difference, 0)
        XCTAssertEqual(d.ciLow, 0)
        XCTAssertEqual(d.ciHigh, 0)
        XCTAssertNil(ClassificationMetrics.pairedMacroAUCDifference(truth: [1, 1], scoresA: [0.2, 0.8, 0.3, 0.7], scoresB: [0.2, 0.8, 0.3, 0.7],
                                                                    classes: 2, bootstrap: 10, seed: 1, stream: 1),
                     "one class only: no AUC, no difference")
    }
}
