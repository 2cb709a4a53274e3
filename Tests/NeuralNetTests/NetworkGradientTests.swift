import NeuralNet
import TesseraCore
import XCTest

/// Whole networks: the fast forward/backward of every layer chained, against central differences of
/// the cross-entropy of the chained Double references.
final class NetworkGradientTests: XCTestCase {
    let forwardTolerance = 1e-5
    let gradientTolerance = 2e-3

    func assertNetwork(_ net: Network, batch: Int, training: Bool, samplesPerTensor: Int = 12, file: StaticString = #filePath, line: UInt = #line) {
        let r = GradientCheck.checkNetwork(net, batch: batch, training: training, seed: 11, samplesPerTensor: samplesPerTensor)
        print("network \(net.configuration.model) \(net.parameterCount) parameters training=\(training): logits error \(r.forward), parameter rel. error \(r.parameters) (\(r.worstParameter))")
        XCTAssertLessThan(r.forward, forwardTolerance, "logits vs reference", file: file, line: line)
        XCTAssertLessThan(r.parameters, gradientTolerance, "parameter gradients vs finite differences (\(r.worstParameter))", file: file, line: line)
    }

    /// refnet-s's structure (conv BN+ReLU pool ×, conv BN+ReLU, GAP, linear) with 3 narrow stages on 8×8.
    func testTinyRefnetWithBatchNorm() {
        let net = Network(layers: Models.refnet(widths: [4, 6, 8], classes: 3), inputShape: ImageShape(channels: 3, height: 8, width: 8), seed: 5)
        assertNetwork(net, batch: 3, training: true)
    }

    func testTinyRefnetWithoutBatchNorm() {
        let net = Network(layers: Models.refnet(widths: [4, 6, 8], classes: 3, batchNorm: false), inputShape: ImageShape(channels: 3, height: 8, width: 8), seed: 5)
        assertNetwork(net, batch: 2, training: true)
    }

    /// Stem, a stage of identity blocks, a stage with a projection block, GAP, linear.
    func testTinyResnet() {
        let net = Network(layers: Models.resnet(widths: [4, 6], blocksPerStage: 1, classes: 3), inputShape: ImageShape(channels: 3, height: 8, width: 8), seed: 5)
        assertNetwork(net, batch: 2, training: true, samplesPerTensor: 8)
    }

    func testTinyRefnetWithDropoutInEvaluationMode() {
        let layers = Models.refnet(widths: [4, 6], classes: 3, dropout: 0.5, dropoutSeed: 1)
        let net = Network(layers: layers, inputShape: ImageShape(channels: 3, height: 6, width: 6), seed: 5)
        net.inferenceSchedule = .layerByLayer  // backward after an evaluation forward needs the batch-wide schedule
        assertNetwork(net, batch: 2, training: false)
    }

    /// The image-by-image inference schedule gives the logits of the layer-by-layer one.
    func testInferenceSchedulesAgree() throws {
        let net = try Network(model: "refnet-s", classes: 4, inputSize: 16, seed: 3)
        var rng = SeededGenerator(seed: 8)
        GradientCheck.randomize(parameters: net.parameters, info: net.parameterInfo, state: net.state, stateInfo: net.stateInfo,
                                weightScale: 0.2, &rng)
        let x = GradientCheck.uniform(5 * net.inputShape.count, &rng)
        let imageByImage = net.forward(x, batch: 5, training: false)
        net.inferenceSchedule = .layerByLayer
        let layerByLayer = net.forward(x, batch: 5, training: false)
        let worst = zip(imageByImage, layerByLayer).map { abs($0 - $1) }.max()!
        print("inference schedules: largest logit difference \(worst)")
        XCTAssertLessThan(worst, 1e-4 * max(1, layerByLayer.map(abs).max()!))
    }

    /// refnet-s exactly as specified: layer sequence, shapes and parameter count.
    func testRefnetSArchitecture() throws {
        let net = try Network(model: "refnet-s", classes: 2, inputSize: 128, seed: 1)
        XCTAssertEqual(net.layers.map(\.name), ["conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "conv4", "bn4", "avgpool", "classifier"])
        var shape = net.inputShape
        var shapes: [ImageShape] = []
        for layer in net.layers {
            shape = layer.outputShape(for: shape)
            shapes.append(shape)
        }
        // BN + ReLU + 2×2 max pool are fused into one layer.
        XCTAssertEqual(shapes.map(\.description), ["32×128×128", "32×64×64", "64×64×64", "64×32×32", "128×32×32", "128×16×16",
                                                   "256×16×16", "256×16×16", "256×1×1", "2×1×1"])
        let convs = net.layers.compactMap { $0 as? Conv2D }
        XCTAssertEqual(convs.map { [$0.inChannels, $0.outChannels, $0.kernel, $0.stride, $0.padding] },
                       [[3, 32, 3, 1, 1], [32, 64, 3, 1, 1], [64, 128, 3, 1, 1], [128, 256, 3, 1, 1]])
        let norms = net.layers.compactMap { $0 as? BatchNorm2D }
        XCTAssertTrue(norms.allSatisfy(\.fusedReLU))
        XCTAssertEqual(norms.map(\.fusedMaxPool), [true, true, true, false])
        // conv weights + BN γβ per stage, linear 256×2 + 2.
        let expected = (864 + 64) + (18432 + 128) + (73728 + 256) + (294_912 + 512) + 514
        XCTAssertEqual(net.parameterCount, expected)
        XCTAssertEqual(net.state.count, 2 * (32 + 64 + 128 + 256))
        // 2·MACs of the four convolutions dominate: ≈ 0.48 GFLOP forward, ≈ 1.43 with backward.
        XCTAssertEqual(Double(net.flopsPerImage.forward), 4.86e8, accuracy: 0.02e8)
        XCTAssertEqual(Double(net.flopsPerImage.training), 1.43e9, accuracy: 0.02e9)

        let plain = try Network(model: "refnet-s", classes: 2, inputSize: 128, seed: 1, batchNorm: false)
        XCTAssertEqual(plain.layers.map(\.name), ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "conv3", "relu3", "pool3", "conv4", "relu4",
                                                  "avgpool", "classifier"])
        XCTAssertEqual(plain.parameterCount, 864 + 32 + 18432 + 64 + 73728 + 128 + 294_912 + 256 + 514)
        XCTAssertEqual(plain.state.count, 0)
    }

    func testResnetSArchitecture() throws {
        let net = try Network(model: "resnet-s", classes: 3, inputSize: 128, seed: 1)
        let blocks = net.layers.compactMap { $0 as? BasicBlock }
        XCTAssertEqual(blocks.count, 8)
        XCTAssertEqual(blocks.map(\.outChannels), [32, 32, 64, 64, 128, 128, 256, 256])
        XCTAssertEqual(blocks.map(\.stride), [1, 1, 2, 1, 2, 1, 2, 1])
        XCTAssertEqual(blocks.map { $0.shortcut.isEmpty }, [true, true, false, true, false, true, false, true])
        XCTAssertEqual(net.layers.reduce(net.inputShape) { $1.outputShape(for: $0) }, ImageShape(channels: 3, height: 1, width: 1))
        XCTAssertTrue(net.parameterInfo.contains { $0.name == "stage2.block1.projection.weight" && $0.shape == [64, 32, 1, 1] })
        print("resnet-s: \(net.parameterCount) parameters, \(net.flopsPerImage.forward) FLOP forward per 128² image")
    }

    func testModelErrorsSayWhatToDo() {
        XCTAssertThrowsError(try Network(model: "vgg", classes: 2, seed: 1)) { error in
            XCTAssertEqual(error as? NeuralNetError, .unknownModel(name: "vgg", known: ["refnet-s", "resnet-s"]))
            XCTAssertTrue("\(error)".contains("refnet-s"))
        }
        XCTAssertThrowsError(try Network(model: "refnet-s", classes: 2, inputSize: 4, seed: 1)) { error in
            XCTAssertTrue("\(error)".contains("at least 8"), "\(error)")
        }
        XCTAssertThrowsError(try Network(model: "refnet-s", classes: 1, seed: 1))
    }
}
