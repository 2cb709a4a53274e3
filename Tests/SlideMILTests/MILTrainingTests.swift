import FeatureStore
import Foundation
import MPI
import SlideMIL
import TesseraCore
import TesseraTestSupport
import XCTest

/// The MIL stage in one process on a small feature store: it learns the slide labels, a resumed run
/// is bit-identical to an uninterrupted one, and prediction writes slide probabilities and
/// attention that sums to 1.
final class MILTrainingTests: XCTestCase {
    func configuration(epochs: Int) -> MILConfiguration {
        var c = MILConfiguration()
        (c.hidden, c.attentionWidth, c.epochs, c.bagsPerStep, c.bagCap, c.learningRate, c.dropout) = (16, 8, epochs, 4, 16, 3e-3, 0.25)
        return c
    }

    func train(_ features: URL, _ out: URL, epochs: Int, resume: Bool = false, stopAfter: Int? = nil) throws -> MILTrainer.Summary {
        var options = MILTrainer.Options(features: features, output: out, configuration: configuration(epochs: epochs))
        options.resume = resume
        options.stopAfterEpochs = stopAfter
        return try MILTrainer(collectives: SingleProcess(), rank: 0, options: options).run()
    }

    func testResumeIsBitIdentical() throws {
        let dir = try TestEnvironment.temporaryDirectory(self)
        let features = dir.appendingPathComponent("features")
        try MILFixture.write(to: features)
        let straight = try train(features, dir.appendingPathComponent("straight"), epochs: 4)
        let resumedOut = dir.appendingPathComponent("resumed")
        let first = try train(features, resumedOut, epochs: 4, stopAfter: 2)
        XCTAssertTrue(first.stopped)
        let resumed = try train(features, resumedOut, epochs: 4, resume: true)
        XCTAssertFalse(resumed.stopped)
        XCTAssertEqual(resumed.history.count, 4)
        XCTAssertEqual(resumed.model.parameters.values.map(\.bitPattern), straight.model.parameters.values.map(\.bitPattern),
                       "resumed and uninterrupted runs give the same bits")
        XCTAssertEqual(resumed.history.map(\.trainLoss), straight.history.map(\.trainLoss))
        let onDisk = try MILModel.read(resumedOut.appendingPathComponent(MILTrainer.modelFile))
        XCTAssertEqual(onDisk, resumed.model)
    }

    func testLearnsSlideLabelsAndPredictsWithAttention() throws {
        let dir = try TestEnvironment.temporaryDirectory(self)
        let features = dir.appendingPathComponent("features")
        try MILFixture.write(to: features)
        let out = dir.appendingPathComponent("mil")
        let summary = try train(features, out, epochs: 25)
        let results = try MILPredictor.predict(model: summary.model, features: features, splits: ["test"])
        XCTAssertEqual(results.count, 8)
        let correct = results.filter { r in
            let predicted = r.probabilities[1] > r.probabilities[0] ? "tumour" : "normal"
            return predicted == r.label
        }.count
        print("MIL fixture: \(correct)/8 test slides right; validation loss by epoch \(summary.history.map { $0.validationLoss ?? -1 })")
        XCTAssertGreaterThanOrEqual(correct, 7, "test slides classified from slide labels only")
        for r in results {
            XCTAssertEqual(r.attention.count, r.x.count)
            XCTAssertEqual(Double(r.attention.reduce(0, +)), 1, accuracy: 1e-5)
        }
        try MILPredictor.write(results, classes: summary.model.configuration.classes, to: out)
        let csv = try String(contentsOf: out.appendingPathComponent(MILPredictor.slidesFile), encoding: .utf8)
        XCTAssertTrue(csv.hasPrefix("slide_id,patient_id,label,split,tiles,abmil_p_normal,abmil_p_tumour,abmil_predicted\n"), csv)
        XCTAssertEqual(csv.split(separator: "\n").count, 9)
        let attention = try String(contentsOf: out.appendingPathComponent("attention/test-0.csv"), encoding: .utf8)
        XCTAssertEqual(attention.split(separator: "\n").count, results.first { $0.slideID == "test-0" }!.x.count + 1)
    }
}
