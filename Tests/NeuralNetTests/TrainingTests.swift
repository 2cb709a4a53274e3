import Foundation
import NeuralNet
import TesseraCore
import XCTest

final class TrainingTests: XCTestCase {
    /// A fixed little data set: `count` random 3×size×size images, labels cycling over `classes`.
    func dataset(count: Int, size: Int, classes: Int, seed: UInt64) -> (images: [Float], labels: [Int]) {
        var rng = SeededGenerator(seed: seed)
        let images = (0..<(count * 3 * size * size)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        return (images, (0..<count).map { $0 % classes })
    }

    func train(_ net: Network, _ optimizer: Optimizer, images: [Float], labels: [Int], steps: Int, rate: Float) -> [Double] {
        (0..<steps).map { _ in
            net.zeroGradients()
            let loss = net.accumulateGradients(images: images, labels: labels)
            optimizer.step(net, learningRate: rate)
            return loss
        }
    }

    /// SGD steps on one batch until the loss is below `target` or `limit` steps are done; the losses.
    func overfit(_ net: Network, images: [Float], labels: [Int], target: Double, limit: Int) -> [Double] {
        let sgd = SGD(parameterInfo: net.parameterInfo, momentum: 0.9)
        var losses: [Double] = []
        while losses.count < limit && (losses.last ?? .infinity) >= target {
            losses += train(net, sgd, images: images, labels: labels, steps: 1, rate: 0.02)
        }
        return losses
    }

    /// `model` memorises 8 images of 3 classes (from `dataSeed`): the training loss falls below 0.05
    /// within 300 steps. Returns the losses.
    func assertOverfitsASmallBatch(_ model: String, dataSeed: UInt64, file: StaticString = #filePath, line: UInt = #line) throws -> [Double] {
        let (images, labels) = dataset(count: 8, size: 16, classes: 3, seed: dataSeed)
        let net = try Network(model: model, classes: 3, inputSize: 16, seed: 1)
        let losses = overfit(net, images: images, labels: labels, target: 0.05, limit: 300)
        print("\(model) overfit: loss \(losses[0]) → \(losses.last!) after \(losses.count) steps")
        XCTAssertLessThan(losses.last!, 0.05, file: file, line: line)
        return losses
    }

    func testRefnetSOverfitsASmallBatch() throws {
        let losses = try assertOverfitsASmallBatch("refnet-s", dataSeed: 21)
        XCTAssertGreaterThan(losses[0], 0.5)
    }

    func testResnetSOverfitsASmallBatch() throws {
        _ = try assertOverfitsASmallBatch("resnet-s", dataSeed: 22)
    }

    /// Same seed, same data → bit-identical parameters and BatchNorm state after several steps; a
    /// different seed gives different weights.
    func testSameSeedGivesBitIdenticalTraining() throws {
        let (images, labels) = dataset(count: 4, size: 16, classes: 3, seed: 5)
        func run(seed: UInt64) throws -> ([Float], [Float]) {
            let net = try Network(model: "refnet-s", classes: 3, inputSize: 16, seed: seed, dropout: 0.2)
            _ = train(net, SGD(parameterInfo: net.parameterInfo, momentum: 0.9, nesterov: true, weightDecay: 1e-4),
                      images: images, labels: labels, steps: 5, rate: 0.05)
            return (net.exportParameters(), net.exportState())
        }
        let a = try run(seed: 7), b = try run(seed: 7), c = try run(seed: 8)
        let reseeded = try Network(model: "refnet-s", classes: 3, inputSize: 16, seed: 7, dropout: 0.2)
        let before = reseeded.randomState
        reseeded.setDropoutSeed(1)
        XCTAssertNotEqual(reseeded.randomState, before)
        XCTAssertEqual(reseeded.randomState[1], 0, "a new stream starts at call 0")
        XCTAssertTrue(a.0 == b.0, "parameters differ between two runs with one seed")
        XCTAssertTrue(a.1 == b.1, "BatchNorm state differs between two runs with one seed")
        XCTAssertFalse(a.0 == c.0, "two seeds gave the same parameters")
    }

    /// A checkpoint of parameters, BatchNorm state, dropout counters and optimiser state, taken
    /// mid-run and loaded into fresh objects, continues bit-identically.
    func testCheckpointResumeIsBitIdentical() throws {
        let (images, labels) = dataset(count: 4, size: 16, classes: 3, seed: 6)
        // Residual blocks with projections, BatchNorm and dropout: every kind of state.
        let make = { (seed: UInt64) in
            Network(layers: Models.resnet(widths: [4, 8], blocksPerStage: 1, classes: 3, dropout: 0.1, dropoutSeed: seed),
                    inputShape: ImageShape(channels: 3, height: 16, width: 16), seed: seed)
        }
        let straight = make(3)
        let sgdStraight = SGD(parameterInfo: straight.parameterInfo, momentum: 0.9, weightDecay: 1e-4)
        _ = train(straight, sgdStraight, images: images, labels: labels, steps: 5, rate: 0.05)

        let first = make(3)
        let sgdFirst = SGD(parameterInfo: first.parameterInfo, momentum: 0.9, weightDecay: 1e-4)
        _ = train(first, sgdFirst, images: images, labels: labels, steps: 3, rate: 0.05)
        let parameters = try FloatCoding.floats(FloatCoding.data(first.exportParameters()))
        let state = try FloatCoding.floats(FloatCoding.data(first.exportState()))
        let optimizerState = sgdFirst.exportState()

        let resumed = make(99)
        try resumed.loadParameters(parameters, info: first.parameterInfo)
        try resumed.loadState(state, info: first.stateInfo)
        resumed.randomState = first.randomState
        let sgdResumed = SGD(parameterInfo: resumed.parameterInfo, momentum: 0.9, weightDecay: 1e-4)
        try sgdResumed.loadState(optimizerState)
        _ = train(resumed, sgdResumed, images: images, labels: labels, steps: 2, rate: 0.05)

        XCTAssertTrue(resumed.exportParameters() == straight.exportParameters(), "parameters differ after resume")
        XCTAssertTrue(resumed.exportState() == straight.exportState(), "BatchNorm state differs after resume")
    }

    func testLoadingAnotherModelsWeightsFails() throws {
        let small = try Network(model: "refnet-s", classes: 3, inputSize: 16, seed: 1)
        let other = try Network(model: "refnet-s", classes: 4, inputSize: 16, seed: 1)
        XCTAssertThrowsError(try other.loadParameters(small.exportParameters())) { XCTAssertTrue("\($0)".contains("expected"), "\($0)") }
        XCTAssertThrowsError(try other.loadParameters(other.exportParameters(), info: small.parameterInfo)) {
            XCTAssertTrue("\($0)".contains("classifier"), "\($0)")
        }
        XCTAssertThrowsError(try FloatCoding.floats(Data([1, 2, 3])))
        XCTAssertEqual(try FloatCoding.floats(FloatCoding.data([1.5, -0.0, .infinity])).map(\.bitPattern), [Float(1.5), -0.0, .infinity].map(\.bitPattern))
    }

    /// He initialisation: conv weights have variance 2/fan-in, biases and β start at 0, γ at 1.
    func testHeInitialisation() throws {
        let net = try Network(model: "refnet-s", classes: 2, inputSize: 16, seed: 12)
        for p in net.parameterInfo {
            let values = Array(net.parameters[p.offset..<(p.offset + p.count)]).map(Double.init)
            switch p.kind {
            case .weight:
                let fanIn = p.shape.dropFirst().reduce(1, *)
                let variance = values.map { $0 * $0 }.reduce(0, +) / Double(values.count)
                XCTAssertEqual(variance * Double(fanIn) / 2, 1, accuracy: p.count > 10000 ? 0.05 : 0.25, p.name)
            case .bias, .normShift: XCTAssertTrue(values.allSatisfy { $0 == 0 }, p.name)
            case .normScale: XCTAssertTrue(values.allSatisfy { $0 == 1 }, p.name)
            }
        }
    }

    /// Two half-batches accumulated into one gradient buffer equal the whole batch, for refnet-s
    /// without BatchNorm (what data parallelism relies on: the allreduce sums per-rank gradients).
    func testHalfBatchesSumToTheWholeBatchWithoutBatchNorm() throws {
        let (images, labels) = dataset(count: 8, size: 16, classes: 3, seed: 9)
        let net = try Network(model: "refnet-s", classes: 3, inputSize: 16, seed: 2, batchNorm: false)
        net.zeroGradients()
        net.accumulateGradients(images: images, labels: labels)
        let whole = Array(net.gradients)
        net.zeroGradients()
        let half = images.count / 2
        for part in 0..<2 {
            net.accumulateGradients(images: Array(images[(part * half)..<((part + 1) * half)]), labels: Array(labels[(part * 4)..<((part + 1) * 4)]))
        }
        // Each half's mean loss is over 4 images: halve the sum.
        let summed = net.gradients.map { $0 / 2 }
        let scale = whole.map(abs).max()!
        let worst = zip(whole, summed).map { abs($0 - $1) }.max()!
        print("half batches vs whole batch: largest gradient difference \(worst) (largest gradient \(scale))")
        XCTAssertLessThan(worst, 1e-5 * scale)
    }
}
