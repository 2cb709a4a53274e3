import NeuralNet
import TesseraCore
import XCTest

/// Every layer: forward against its naive Double reference, backward (input and parameter gradients)
/// against central finite differences of that reference.
final class LayerGradientTests: XCTestCase {
    /// Float forward vs Double reference, relative to the output's magnitude: float32 rounding over
    /// sums of up to a few hundred terms.
    let forwardTolerance = 1e-5
    /// Float32 backward vs Double finite differences (relative, floored at 1e-3 of the largest).
    let gradientTolerance = 2e-3

    func assertCheck(_ layer: Layer, input: ImageShape, batch: Int = 2, training: Bool = true, seed: UInt64 = 1,
                     file: StaticString = #filePath, line: UInt = #line) {
        let r = GradientCheck.check(layer, input: input, batch: batch, training: training, seed: seed)
        print("\(type(of: layer)) \(layer.name) \(input) training=\(training): forward error \(r.forward), dInput rel. error \(r.input), parameter rel. error \(r.parameters) \(r.worstParameter)")
        XCTAssertLessThan(r.forward, forwardTolerance, "\(layer.name): forward vs reference", file: file, line: line)
        XCTAssertLessThan(r.input, gradientTolerance, "\(layer.name): dInput vs finite differences", file: file, line: line)
        XCTAssertLessThan(r.parameters, gradientTolerance, "\(layer.name): parameter gradients vs finite differences (\(r.worstParameter))", file: file, line: line)
    }

    /// A convolution checked on an input of its own channel count.
    func assertConvCheck(_ inChannels: Int, to outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool,
                         height: Int, width: Int, batch: Int = 2, file: StaticString = #filePath, line: UInt = #line) {
        assertCheck(Conv2D(name: "conv", inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride, padding: padding, bias: bias),
                    input: ImageShape(channels: inChannels, height: height, width: width), batch: batch, file: file, line: line)
    }

    func testConv2D3x3Padded() {
        assertConvCheck(3, to: 4, kernel: 3, padding: 1, bias: true, height: 6, width: 5)
    }

    /// Size-preserving convolutions take the block-copy im2col: shifts of ±1 and ±2, planes smaller
    /// than the kernel.
    func testConv2DSizePreservingShapes() {
        for (k, p, h, w) in [(3, 1, 1, 1), (3, 1, 1, 2), (3, 1, 2, 3), (5, 2, 6, 5), (5, 2, 2, 1)] {
            assertConvCheck(2, to: 3, kernel: k, padding: p, bias: true, height: h, width: w)
        }
    }

    /// Even-sized 3×3 pad-1 maps take Winograd F(2×2, 3×3) (forward and dInput), with and without bias.
    func testConv2DWinograd() {
        assertConvCheck(16, to: 16, kernel: 3, padding: 1, bias: true, height: 4, width: 4, batch: 1)
        assertConvCheck(17, to: 16, kernel: 3, padding: 1, bias: false, height: 2, width: 4)
    }

    /// A 3×3 pad-1 convolution on Winograd and its im2col + GEMM twin, with the same He-initialised
    /// parameters (each in its own store).
    static func winogradAndIm2col(_ inChannels: Int, _ outChannels: Int, bias: Bool, rng: inout SeededGenerator)
        -> (fast: Conv2D, plain: Conv2D, fastStore: ParameterStore, plainStore: ParameterStore) {
        let fast = Conv2D(name: "conv", inChannels: inChannels, outChannels: outChannels, kernel: 3, padding: 1, bias: bias)
        let plain = Conv2D(name: "conv", inChannels: inChannels, outChannels: outChannels, kernel: 3, padding: 1, bias: bias)
        plain.useWinograd = false
        let a = ParameterStore(layers: [fast]), b = ParameterStore(layers: [plain])
        fast.initializeParameters(using: &rng)
        _ = b.parameters.update(fromContentsOf: a.parameters)
        return (fast, plain, a, b)
    }

    /// Winograd and im2col + GEMM compute the same outputs and gradients, on a shape that takes three
    /// chunks of tile rows per image (9 + 9 + 1 of 19, ~2 MB each).
    func testConv2DWinogradMatchesIm2col() {
        let shape = TensorShape(batch: 2, channels: 64, height: 38, width: 64)
        var rng = SeededGenerator(seed: 23)
        let (fast, plain, a, b) = Self.winogradAndIm2col(64, 48, bias: true, rng: &rng)
        let xb = FloatBuffer(), dyb = FloatBuffer()
        let x = xb.tensor(shape)
        _ = x.buffer.update(fromContentsOf: GradientCheck.uniform(shape.count, &rng))
        let y1 = fast.forward(x, training: true).toArray(), y2 = plain.forward(x, training: true).toArray()
        let dy = dyb.tensor(TensorShape(batch: 2, channels: 48, height: 38, width: 64))
        _ = dy.buffer.update(fromContentsOf: GradientCheck.uniform(dy.count, &rng))
        let d1 = fast.backward(dy, needsInputGradient: true)!.toArray(), d2 = plain.backward(dy, needsInputGradient: true)!.toArray()
        let scaleY = y2.map(abs).max()!, scaleD = d2.map(abs).max()!
        let worstY = zip(y1, y2).map { abs($0 - $1) }.max()! / scaleY, worstD = zip(d1, d2).map { abs($0 - $1) }.max()! / scaleD
        print("Winograd vs im2col: largest relative output difference \(worstY), dInput \(worstD)")
        XCTAssertLessThan(worstY, 1e-5)
        XCTAssertLessThan(worstD, 1e-5)
        XCTAssertTrue(a.gradients.elementsEqual(b.gradients), "the weight gradient takes the same path in both")
    }

    /// The Winograd layer caches its transformed weights; changing the weights between two forwards
    /// (an optimiser step, a loaded checkpoint) must be seen by the second, with no call to say so.
    func testWinogradCacheFollowsChangedWeights() {
        let shape = TensorShape(batch: 1, channels: 16, height: 8, width: 8)
        var rng = SeededGenerator(seed: 5)
        let (fast, plain, a, b) = Self.winogradAndIm2col(16, 16, bias: false, rng: &rng)
        let xb = FloatBuffer()
        let x = xb.tensor(shape)
        _ = x.buffer.update(fromContentsOf: GradientCheck.uniform(shape.count, &rng))
        for round in 0..<3 {
            if round > 0 {
                // New weights written in place, as the optimiser does.
                _ = a.parameters.update(fromContentsOf: GradientCheck.uniform(a.parameters.count, &rng))
            }
            _ = b.parameters.update(fromContentsOf: a.parameters)
            let y1 = fast.forward(x, training: false).toArray(), y2 = plain.forward(x, training: false).toArray()
            let worst = zip(y1, y2).map { abs($0 - $1) }.max()! / y2.map(abs).max()!
            XCTAssertLessThan(worst, 1e-5, "round \(round): Winograd output with stale transformed weights")
        }
    }

    func testConv2D3x3Stride2WithoutBias() {
        assertConvCheck(2, to: 3, kernel: 3, stride: 2, padding: 1, bias: false, height: 7, width: 8)
    }

    func testConv2DPointwiseReadsInputDirectly() {
        assertConvCheck(5, to: 3, kernel: 1, bias: true, height: 4, width: 3)
    }

    func testConv2DPointwiseStride2Projection() {
        assertConvCheck(3, to: 4, kernel: 1, stride: 2, bias: false, height: 5, width: 6)
    }

    func testConv2DLargeKernelStrideAndPadding() {
        assertConvCheck(2, to: 2, kernel: 5, stride: 3, padding: 2, bias: true, height: 9, width: 7)
    }

    func testConv2DUnpaddedEvenKernel() {
        assertConvCheck(2, to: 3, kernel: 2, bias: true, height: 5, width: 4)
    }

    func testBatchNormTrainingMode() {
        assertCheck(BatchNorm2D(name: "bn", channels: 3), input: ImageShape(channels: 3, height: 4, width: 5), batch: 3)
    }

    func testBatchNormTrainingModeFusedReLU() {
        assertCheck(BatchNorm2D(name: "bn", channels: 3, fusedReLU: true), input: ImageShape(channels: 3, height: 5, width: 4), batch: 2)
    }

    func testBatchNormTrainingModeLongPlanes() {
        // Planes longer than one SIMD block, so the vector loops and their tails both run.
        assertCheck(BatchNorm2D(name: "bn", channels: 2, fusedReLU: true), input: ImageShape(channels: 2, height: 7, width: 9), batch: 2)
    }

    func testBatchNormReLUMaxPoolTrainingMode() {
        assertCheck(BatchNorm2D(name: "bn", channels: 3, fusedReLU: true, fusedMaxPool: true), input: ImageShape(channels: 3, height: 6, width: 8), batch: 2)
        // Odd sizes: the last row and column are normalised but in no window.
        assertCheck(BatchNorm2D(name: "bn", channels: 2, fusedReLU: true, fusedMaxPool: true), input: ImageShape(channels: 2, height: 7, width: 5), batch: 2)
    }

    func testBatchNormReLUMaxPoolEvaluationMode() {
        assertCheck(BatchNorm2D(name: "bn", channels: 3, fusedReLU: true, fusedMaxPool: true), input: ImageShape(channels: 3, height: 4, width: 6),
                    training: false)
    }

    /// The fused layer computes exactly what BatchNorm2D(ReLU) then MaxPool2D compute (forward
    /// outputs, dInput, parameter gradients), also where γ < 0 turns the window order around.
    func testFusedPoolMatchesSeparateLayers() {
        let shape = TensorShape(batch: 3, channels: 4, height: 9, width: 10)
        let fused = BatchNorm2D(name: "bn", channels: 4, fusedReLU: true, fusedMaxPool: true)
        let plain = BatchNorm2D(name: "bn", channels: 4, fusedReLU: true), pool = MaxPool2D(name: "pool", kernel: 2)
        let a = ParameterStore(layers: [fused]), b = ParameterStore(layers: [plain])
        var rng = SeededGenerator(seed: 17)
        GradientCheck.randomize(parameters: a.parameters, info: a.parameterInfo, state: a.state, stateInfo: a.stateInfo, &rng)
        a.parameters[0] = -0.7  // γ of channel 0 negative
        _ = b.parameters.update(fromContentsOf: a.parameters)
        _ = b.state.update(fromContentsOf: a.state)
        let xb = FloatBuffer(), dyb = FloatBuffer()
        let x = xb.tensor(shape)
        _ = x.buffer.update(fromContentsOf: GradientCheck.uniform(shape.count, &rng))
        for training in [true, false] {
            let y1 = fused.forward(x, training: training)
            let y2 = pool.forward(plain.forward(x, training: training), training: training)
            XCTAssertEqual(y1.toArray(), y2.toArray())
            let dy = dyb.tensor(y1.shape)
            _ = dy.buffer.update(fromContentsOf: GradientCheck.uniform(y1.count, &rng))
            a.zeroGradients()
            b.zeroGradients()
            let d1 = fused.backward(dy, needsInputGradient: true)!.toArray()
            let d2 = plain.backward(pool.backward(dy, needsInputGradient: true)!, needsInputGradient: true)!.toArray()
            let worst = zip(d1, d2).map { abs($0 - $1) }.max()!
            let worstParameter = zip(a.gradients, b.gradients).map { abs($0 - $1) }.max()!
            print("fused BN+ReLU+pool vs separate layers, training=\(training): largest dInput difference \(worst), parameter gradient \(worstParameter)")
            XCTAssertLessThan(worst, 1e-5)
            XCTAssertLessThan(worstParameter, 1e-4)
            XCTAssertTrue(a.state.elementsEqual(b.state))
        }
    }

    func testBatchNormEvaluationMode() {
        assertCheck(BatchNorm2D(name: "bn", channels: 3, fusedReLU: true), input: ImageShape(channels: 3, height: 4, width: 4), training: false)
    }

    func testReLU() {
        assertCheck(ReLU(name: "relu"), input: ImageShape(channels: 3, height: 5, width: 7))
    }

    func testMaxPool2x2EvenAndOdd() {
        assertCheck(MaxPool2D(name: "pool", kernel: 2), input: ImageShape(channels: 2, height: 6, width: 8))
        assertCheck(MaxPool2D(name: "pool", kernel: 2), input: ImageShape(channels: 2, height: 7, width: 5))
    }

    func testMaxPoolOverlappingWindows() {
        assertCheck(MaxPool2D(name: "pool", kernel: 3, stride: 2), input: ImageShape(channels: 2, height: 7, width: 8))
    }

    func testGlobalAveragePool() {
        assertCheck(GlobalAveragePool(name: "gap"), input: ImageShape(channels: 4, height: 5, width: 3))
    }

    func testLinear() {
        assertCheck(Linear(name: "fc", inFeatures: 12, outFeatures: 5), input: ImageShape(channels: 3, height: 2, width: 2), batch: 3)
    }

    func testDropoutTrainingAndEvaluation() {
        assertCheck(Dropout(name: "drop", probability: 0.3, seed: 9), input: ImageShape(channels: 4, height: 3, width: 3))
        assertCheck(Dropout(name: "drop", probability: 0.3, seed: 9), input: ImageShape(channels: 4, height: 3, width: 3), training: false)
    }

    func testBasicBlockIdentityShortcut() {
        assertCheck(BasicBlock(name: "block", inChannels: 3, outChannels: 3, stride: 1), input: ImageShape(channels: 3, height: 5, width: 5))
    }

    func testBasicBlockProjectionShortcut() {
        assertCheck(BasicBlock(name: "block", inChannels: 2, outChannels: 4, stride: 2), input: ImageShape(channels: 2, height: 6, width: 7))
    }

    func testBasicBlockWithoutBatchNorm() {
        assertCheck(BasicBlock(name: "block", inChannels: 2, outChannels: 3, stride: 2, batchNorm: false), input: ImageShape(channels: 2, height: 6, width: 6))
    }

    /// Dropout keeps about 1 − p of the values, scales them by 1/(1 − p), and its masks depend only
    /// on (seed, call): two layers with one seed agree, a second call differs.
    func testDropoutMaskStatisticsAndReproducibility() {
        let shape = TensorShape(batch: 4, channels: 8, height: 16, width: 16)
        var ones = [Float](repeating: 1, count: shape.count)
        let expected = ones
        let a = Dropout(name: "a", probability: 0.25, seed: 3), b = Dropout(name: "b", probability: 0.25, seed: 3)
        ones.withUnsafeMutableBufferPointer { p in
            let t = Tensor(data: p.baseAddress!, shape: shape)
            let first = a.forward(t, training: true).toArray()
            XCTAssertEqual(first, b.forward(t, training: true).toArray())
            XCTAssertNotEqual(first, a.forward(t, training: true).toArray())
            let kept = first.filter { $0 != 0 }
            XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
            XCTAssertEqual(Double(kept.count) / Double(shape.count), 0.75, accuracy: 0.02)
            XCTAssertEqual(a.forward(t, training: false).toArray(), expected)
        }
    }

    /// The running statistics follow PyTorch: momentum 0.1 toward the batch mean and the unbiased
    /// batch variance.
    func testBatchNormRunningStatistics() {
        let bn = BatchNorm2D(name: "bn", channels: 1, momentum: 0.1)
        let store = ParameterStore(layers: [bn])
        var rng = SeededGenerator(seed: 1)
        bn.initializeParameters(using: &rng)
        var x: [Float] = [1, 2, 3, 4, 5, 6, 7, 10]  // batch 2 × 1 × 2 × 2
        let mean = 38.0 / 8, variance = x.map { (Double($0) - mean) * (Double($0) - mean) }.reduce(0, +) / 7
        x.withUnsafeMutableBufferPointer { p in
            _ = bn.forward(Tensor(data: p.baseAddress!, shape: TensorShape(batch: 2, channels: 1, height: 2, width: 2)), training: true)
        }
        XCTAssertEqual(Double(store.state[0]), 0.1 * mean, accuracy: 1e-6)
        XCTAssertEqual(Double(store.state[1]), 0.9 + 0.1 * variance, accuracy: 1e-5)
        XCTAssertEqual(store.stateInfo.map(\.name), ["bn.runningMean", "bn.runningVariance"])
    }

    /// A layer whose input gradient is not needed (the first layer) returns none but still
    /// accumulates its parameter gradients, and accumulates rather than overwrites.
    func testBackwardAccumulatesAndSkipsInputGradient() {
        let conv = Conv2D(name: "conv", inChannels: 2, outChannels: 3, kernel: 3, padding: 1)
        let store = ParameterStore(layers: [conv])
        var rng = SeededGenerator(seed: 4)
        conv.initializeParameters(using: &rng)
        let shape = TensorShape(batch: 2, channels: 2, height: 4, width: 4)
        var x = GradientCheck.uniform(shape.count, &rng)
        var dy = GradientCheck.uniform(2 * 3 * 16, &rng)
        x.withUnsafeMutableBufferPointer { xp in
            dy.withUnsafeMutableBufferPointer { dp in
                let y = conv.forward(Tensor(data: xp.baseAddress!, shape: shape), training: true)
                let d = Tensor(data: dp.baseAddress!, shape: y.shape)
                store.zeroGradients()
                XCTAssertNotNil(conv.backward(d, needsInputGradient: true))
                let once = Array(store.gradients)
                XCTAssertNil(conv.backward(d, needsInputGradient: false))
                for (twice, o) in zip(store.gradients, once) { XCTAssertEqual(twice, 2 * o, accuracy: 1e-5 * max(1, abs(o))) }
            }
        }
    }
}
