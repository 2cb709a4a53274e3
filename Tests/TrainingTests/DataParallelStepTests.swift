import Foundation
import MPI
import Model
import NeuralNet
import TesseraCore
import Tiling
import XCTest
@testable import Training

/// The step the trainer and tessera-bench share, and the state a checkpoint holds, without MPI
/// (`SingleProcess`): the multi-rank behaviour is TrainerEndToEndTests' (2 ranks vs 1 rank).
final class DataParallelStepTests: XCTestCase {
    static let batch = 4, classes = 3, size = 16

    /// batch × 3 × 16 × 16 images in [-1, 1) and labels, from a seed.
    static func batch(seed: UInt64) -> ([Float], [Int32]) {
        var rng = SeededGenerator(seed: seed)
        let images = (0..<(batch * 3 * size * size)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let labels = (0..<batch).map { _ in Int32(rng.next() % UInt64(classes)) }
        return (images, labels)
    }

    static var config: TrainingConfig {
        var c = TrainingConfig()
        c.inputSize = size
        c.batch = batch
        c.dropout = 0.1
        c.optimizer = "adam"
        return c
    }

    static func step(_ state: TrainingState, _ images: [Float], _ labels: [Int32], rate: Float = 0.01, number: Int = 1) throws -> DataParallelStep.Sums {
        let step = DataParallelStep(network: state.network, optimizer: state.optimizer, collectives: SingleProcess(), batch: batch)
        return try images.withUnsafeBufferPointer { try step.run(images: $0.baseAddress!, labels: labels, learningRate: rate, stepNumber: number) }
    }

    /// On one process the step is forward, softmax cross-entropy, backward and the optimiser's
    /// update, to the bit; its sums are the batch's loss sum, correct count and size.
    func testOneProcessStepIsTheUnscaledStepToTheBit() throws {
        let (images, _) = Self.batch(seed: 3)
        let norm = Normalization(mean: [0, 0, 0], std: [1, 1, 1])
        let shared = try TrainingState.fresh(Self.config, classes: Self.classes, normalization: norm)
        let byHand = try TrainingState.fresh(Self.config, classes: Self.classes, normalization: norm)
        XCTAssertTrue(shared.network.exportParameters() == byHand.network.exportParameters())

        // The step counts hits in training mode (batch statistics, dropout): a third copy shows
        // what it predicts; label the first two images with it and the other two otherwise.
        let probe = try TrainingState.fresh(Self.config, classes: Self.classes, normalization: norm)
        let logits = probe.network.forward(images, batch: Self.batch, training: true)
        let predicted = (0..<Self.batch).map { i in
            let row = Array(logits[(i * Self.classes)..<((i + 1) * Self.classes)])
            return row.firstIndex(of: row.max()!)!
        }
        let labels = predicted.enumerated().map { i, p in Int32(i < 2 ? p : (p + 1) % Self.classes) }
        let sums = try Self.step(shared, images, labels, rate: 0.01)

        byHand.network.zeroGradients()
        let loss = byHand.network.accumulateGradients(images: images, labels: labels.map { Int($0) })
        byHand.optimizer.step(byHand.network, learningRate: 0.01)

        XCTAssertEqual(sums.loss, loss * Double(Self.batch))
        XCTAssertEqual(sums.images, Double(Self.batch))
        XCTAssertEqual(sums.correct, 2)
        XCTAssertTrue(shared.network.exportParameters() == byHand.network.exportParameters(), "the shared step updated differently")
        XCTAssertEqual(shared.optimizer.stepCount, 1)
    }

    /// A loss that is not finite stops the run with the error naming the step and the rate,
    /// before the weights or the optimiser move.
    func testNonFiniteLossThrowsDivergedNamingStepAndRateAndUpdatesNothing() throws {
        let (images, labels) = Self.batch(seed: 4)
        let state = try TrainingState.fresh(Self.config, classes: Self.classes, normalization: Normalization(mean: [0, 0, 0], std: [1, 1, 1]))
        // The last parameter is the classifier's last bias: every logit row, so every loss, is NaN.
        state.network.parameters[state.network.parameters.count - 1] = .nan
        let before = state.network.exportParameters().map(\.bitPattern)
        XCTAssertThrowsError(try Self.step(state, images, labels, rate: 0.25, number: 17)) { error in
            guard case let TrainingError.diverged(step, rate, loss)? = error as? TrainingError else { return XCTFail("\(error)") }
            XCTAssertEqual(step, 17)
            XCTAssertEqual(rate, 0.25)
            XCTAssertFalse(loss.isFinite)
            XCTAssertTrue("\(error)".contains("at step 17 (learning rate 0.25)"), "\(error)")
        }
        XCTAssertEqual(state.network.exportParameters().map(\.bitPattern), before, "weights moved on a diverged step")
        XCTAssertEqual(state.optimizer.stepCount, 0)
    }

    /// A state written as a checkpoint and restored into fresh objects holds every field, and the
    /// next step from it is bit-identical to the next step of the original.
    func testCheckpointRestoresTheWholeStateAndTheNextStepMatches() throws {
        let norm = Normalization(mean: [100, 90, 80], std: [30, 20, 10])
        var state = try TrainingState.fresh(Self.config, classes: Self.classes, normalization: norm)
        for k in 0..<3 {
            let (images, labels) = Self.batch(seed: UInt64(10 + k))
            state.epochTotals.add(try Self.step(state, images, labels, number: k + 1), seconds: 0.5)
        }
        (state.epoch, state.step, state.globalStep) = (1, 3, 7)
        state.history = [EpochMetrics(epoch: 1, step: 4, trainLoss: 1.1, trainAccuracy: 0.4, validationLoss: 1.2, validationAccuracy: 0.3,
                                      validationClassAccuracy: [0.5, nil, 0.25], learningRate: 0.01, imagesPerSecond: 12, seconds: 2)]
        let spec = TilingSpec(tileSize: 64, target: .level(0), jpegQuality: 90)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("step-test-\(getpid()).tsc")
        defer { try? FileManager.default.removeItem(at: url) }
        try state.checkpoint(config: Self.config, classes: ["a", "b", "c"], storeTiling: spec, trainingTiles: 40).write(to: url)

        let checkpoint = try Checkpoint.read(url)
        XCTAssertEqual(checkpoint.header.config, Self.config)
        XCTAssertEqual(checkpoint.header.classes, ["a", "b", "c"])
        XCTAssertEqual(checkpoint.header.storeTiling, spec)
        XCTAssertEqual(checkpoint.header.trainingTiles, 40)
        var restored = try TrainingState.fresh(Self.config, classes: Self.classes, normalization: Normalization(mean: [0, 0, 0], std: [1, 1, 1]))
        try restored.restore(from: checkpoint)
        XCTAssertEqual(restored.normalization, norm)
        XCTAssertEqual([restored.epoch, restored.step, restored.globalStep], [1, 3, 7])
        XCTAssertEqual(restored.epochTotals, state.epochTotals)
        XCTAssertEqual(restored.epochTotals.images, 12)
        XCTAssertEqual(restored.epochTotals.seconds, 1.5)
        XCTAssertEqual(restored.history, state.history)
        XCTAssertEqual(restored.network.randomState, state.network.randomState)
        XCTAssertEqual(restored.optimizer.exportState(), state.optimizer.exportState())
        XCTAssertTrue(restored.network.exportParameters() == state.network.exportParameters())
        XCTAssertTrue(restored.network.exportState() == state.network.exportState())

        let (images, labels) = Self.batch(seed: 20)
        XCTAssertEqual(try Self.step(restored, images, labels, number: 8), try Self.step(state, images, labels, number: 8))
        XCTAssertTrue(restored.network.exportParameters() == state.network.exportParameters(), "the step after a restore differs")
    }
}
