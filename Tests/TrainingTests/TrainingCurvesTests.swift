import XCTest
@testable import Training

/// The training curves' axes and the choice of the best epoch, against hand-worked cases.
final class TrainingCurvesTests: XCTestCase {
    func testEpochTicksAreWholeAndRound() {
        XCTAssertEqual(TrainingCurves.epochTicks(6), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(TrainingCurves.epochTicks(10), Array(1...10))
        XCTAssertEqual(TrainingCurves.epochTicks(30), [1, 5, 10, 15, 20, 25, 30])
        XCTAssertEqual(TrainingCurves.epochTicks(100), [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
    }

    func testLossAxisIsLogarithmicOverWholeDecades() {
        let a = TrainingCurves.logAxis(min: 0.034, max: 1.2)
        XCTAssertEqual(a.low, -2)
        XCTAssertEqual(a.high, 1)
        XCTAssertEqual(a.ticks, [0.01, 0.1, 1, 10], "three decades: the decades only")
        let b = TrainingCurves.logAxis(min: 0.3, max: 0.9)
        XCTAssertEqual(b.ticks, [0.1, 0.2, 0.5, 1], "one decade: 1, 2, 5")
    }

    func testBestEpochIsTheFirstWithTheHighestValidationAccuracy() {
        func row(_ e: Int, _ v: Double?) -> EpochMetrics {
            EpochMetrics(epoch: e, step: e, trainLoss: 1, trainAccuracy: 0.5, validationLoss: v.map { _ in 1 }, validationAccuracy: v,
                         validationClassAccuracy: nil, learningRate: 0.1, imagesPerSecond: 1, seconds: 1)
        }
        let history = [row(1, 0.5), row(2, 0.8), row(3, 0.8), row(4, 0.9)]
        XCTAssertEqual((1...4).map { DataParallelTrainer.isBestEpoch(Array(history.prefix($0))) }, [true, true, false, true])
        XCTAssertFalse(DataParallelTrainer.isBestEpoch([row(1, nil)]), "no validation split: no best model")
        XCTAssertEqual(DataParallelTrainer.plain(0.0000123456789), "0.0000123457")
        XCTAssertEqual(DataParallelTrainer.plain(1234567.89), "1234570.0")
        XCTAssertEqual(DataParallelTrainer.plain(nil), "")
    }
}
