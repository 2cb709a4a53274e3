import XCTest

@testable import NeuralNet

/// Optimisers against updates worked out by hand, on a toy layout: a 2-value weight tensor
/// (decayed) followed by a 1-value bias (not decayed by default).
final class OptimizerTests: XCTestCase {
    let info = [
        ParameterInfo(name: "fc.weight", shape: [2], kind: .weight, offset: 0, count: 2),
        ParameterInfo(name: "fc.bias", shape: [1], kind: .bias, offset: 2, count: 1),
    ]

    func run(_ optimizer: Optimizer, _ w: inout [Float], gradients: [[Float]], rates: [Float]) {
        for (g, lr) in zip(gradients, rates) {
            w.withUnsafeMutableBufferPointer { wp in
                g.withUnsafeBufferPointer { optimizer.step(parameters: wp, gradients: $0, learningRate: lr) }
            }
        }
    }

    func testSGDMomentum() {
        // μ = 0.9, η = 0.1. Step 1: v = g, w −= η·g. Step 2: v = 0.9·v + g.
        var w: [Float] = [1, -2, 0.5]
        run(SGD(parameterInfo: info, momentum: 0.9), &w, gradients: [[1, 2, -1], [0.5, -1, 2]], rates: [0.1, 0.1])
        // v1 = (1, 2, −1), w1 = (0.9, −2.2, 0.6); v2 = (1.4, 0.8, 1.1), w2 = (0.76, −2.28, 0.49)
        XCTAssertEqual(w[0], 0.76, accuracy: 1e-6)
        XCTAssertEqual(w[1], -2.28, accuracy: 1e-6)
        XCTAssertEqual(w[2], 0.49, accuracy: 1e-6)
    }

    func testSGDNesterov() {
        // d = g + μ·v with v = μ·v + g. Step 1: v = g, d = 1.9·g. Step 2: v = (1.4, 0.8, 1.1), d = g + 0.9·v.
        var w: [Float] = [1, -2, 0.5]
        run(SGD(parameterInfo: info, momentum: 0.9, nesterov: true), &w, gradients: [[1, 2, -1], [0.5, -1, 2]], rates: [0.1, 0.1])
        // w1 = (0.81, −2.38, 0.69); d2 = (1.76, −0.28, 2.99); w2 = (0.634, −2.352, 0.391)
        XCTAssertEqual(w[0], 0.634, accuracy: 1e-6)
        XCTAssertEqual(w[1], -2.352, accuracy: 1e-6)
        XCTAssertEqual(w[2], 0.391, accuracy: 1e-6)
    }

    func testSGDWeightDecaySkipsBiasByDefault() {
        // λ = 0.01 on the weights only: g = (1 + 0.01·1, 2 + 0.01·(−2)); the bias gets its plain gradient.
        var w: [Float] = [1, -2, 0.5]
        run(SGD(parameterInfo: info, momentum: 0, weightDecay: 0.01), &w, gradients: [[1, 2, -1]], rates: [0.1])
        XCTAssertEqual(w[0], 1 - 0.1 * 1.01, accuracy: 1e-7)
        XCTAssertEqual(w[1], -2 - 0.1 * 1.98, accuracy: 1e-7)
        XCTAssertEqual(w[2], 0.5 + 0.1, accuracy: 1e-7)
        var all: [Float] = [1, -2, 0.5]
        run(SGD(parameterInfo: info, momentum: 0, weightDecay: 0.01, decayNormAndBias: true), &all, gradients: [[1, 2, -1]], rates: [0.1])
        XCTAssertEqual(all[2], 0.5 - 0.1 * (-1 + 0.005), accuracy: 1e-7)
    }

    func testAdamOneStepAndTwoStepsAgainstTheFormula() {
        let (b1, b2, eps, lr, wd) = (0.9, 0.999, 1e-8, 0.01, 0.1)
        var w: [Float] = [1, -2, 0.5]
        let grads: [[Float]] = [[1, 2, -1], [0.5, -3, 0.25]]
        let adam = Adam(parameterInfo: info, beta1: Float(b1), beta2: Float(b2), epsilon: Float(eps), weightDecay: Float(wd))
        var expected = w.map(Double.init)
        var m = [0.0, 0, 0], v = [0.0, 0, 0]
        for (t, g) in grads.enumerated() {
            run(adam, &w, gradients: [g], rates: [Float(lr)])
            for i in 0..<3 {
                if i < 2 { expected[i] *= 1 - lr * wd }
                m[i] = b1 * m[i] + (1 - b1) * Double(g[i])
                v[i] = b2 * v[i] + (1 - b2) * Double(g[i]) * Double(g[i])
                let mHat = m[i] / (1 - pow(b1, Double(t + 1))), vHat = v[i] / (1 - pow(b2, Double(t + 1)))
                expected[i] -= lr * mHat / (vHat.squareRoot() + eps)
            }
            for i in 0..<3 { XCTAssertEqual(Double(w[i]), expected[i], accuracy: 1e-6, "step \(t + 1), parameter \(i)") }
            if t == 0 {
                // The first Adam step moves every parameter by η·sign(g) (plus decay).
                XCTAssertEqual(Double(w[2]), 0.5 + lr, accuracy: 1e-6)
            }
        }
        XCTAssertEqual(adam.stepCount, 2)
    }

    func testStateRoundTripResumesBitIdentically() throws {
        for make in [{ SGD(parameterInfo: self.info, momentum: 0.9, nesterov: true, weightDecay: 0.01) as Optimizer },
                     { Adam(parameterInfo: self.info, weightDecay: 0.01) as Optimizer }] {
            let grads: [[Float]] = [[1, 2, -1], [0.5, -1, 2], [0.3, 0.1, -0.7], [-2, 1, 1]]
            var straight: [Float] = [1, -2, 0.5]
            let a = make()
            run(a, &straight, gradients: grads, rates: [0.1, 0.1, 0.05, 0.05])

            var resumed: [Float] = [1, -2, 0.5]
            let b = make()
            run(b, &resumed, gradients: Array(grads[0..<2]), rates: [0.1, 0.1])
            let saved = try JSONDecoder().decode(OptimizerState.self, from: JSONEncoder().encode(b.exportState()))
            let c = make()
            try c.loadState(saved)
            XCTAssertEqual(c.stepCount, 2)
            run(c, &resumed, gradients: Array(grads[2...]), rates: [0.05, 0.05])
            XCTAssertEqual(resumed, straight, "\(type(of: a)) resume")
        }
    }

    func testLoadingAnotherOptimizersStateFails() {
        let adamState = Adam(parameterInfo: info).exportState()
        XCTAssertThrowsError(try SGD(parameterInfo: info).loadState(adamState)) { XCTAssertTrue("\($0)".contains("adam"), "\($0)") }
        var short = SGD(parameterInfo: info).exportState()
        short.buffers[0].values.removeLast()
        XCTAssertThrowsError(try SGD(parameterInfo: info).loadState(short))
    }

    func testScheduleWarmupThenCosine() {
        let s = LearningRateSchedule(baseRate: 0.4, warmupSteps: 4, totalSteps: 104, decay: .cosine(finalFactor: 0))
        XCTAssertEqual(s.rate(atStep: 0), 0.1, accuracy: 1e-7)
        XCTAssertEqual(s.rate(atStep: 1), 0.2, accuracy: 1e-7)
        XCTAssertEqual(s.rate(atStep: 3), 0.4, accuracy: 1e-7)
        XCTAssertEqual(s.rate(atStep: 4), 0.4, accuracy: 1e-7)
        XCTAssertEqual(s.rate(atStep: 54), 0.2, accuracy: 1e-7)  // half-way: ½(1 + cos π/2)
        XCTAssertEqual(s.rate(atStep: 29), Float(0.4 * 0.5 * (1 + cos(Double.pi / 4))), accuracy: 1e-7)
        XCTAssertEqual(s.rate(atStep: 104), 0, accuracy: 1e-7)
        XCTAssertEqual(s.rate(atStep: 500), 0, accuracy: 1e-7)
        let floorAt = LearningRateSchedule(baseRate: 1, totalSteps: 10, decay: .cosine(finalFactor: 0.1))
        XCTAssertEqual(floorAt.rate(atStep: 0), 1, accuracy: 1e-7)
        XCTAssertEqual(floorAt.rate(atStep: 10), 0.1, accuracy: 1e-7)
    }

    func testScheduleStepDecayAndLinearScaling() {
        let s = LearningRateSchedule(baseRate: 1, warmupSteps: 2, totalSteps: 100, decay: .step(milestones: [30, 60], factor: 0.1))
        XCTAssertEqual(s.rate(atStep: 0), 0.5, accuracy: 1e-7)
        XCTAssertEqual(s.rate(atStep: 29), 1, accuracy: 1e-7)
        XCTAssertEqual(s.rate(atStep: 30), 0.1, accuracy: 1e-7)
        XCTAssertEqual(s.rate(atStep: 60), 0.01, accuracy: 1e-8)
        XCTAssertEqual(LearningRateSchedule(baseRate: 0.3, totalSteps: 5, decay: .constant).rate(atStep: 4), 0.3, accuracy: 1e-7)
        XCTAssertEqual(LearningRateSchedule.linearlyScaled(baseRate: 0.1, globalBatch: 64), 0.025, accuracy: 1e-12)
        XCTAssertEqual(LearningRateSchedule.linearlyScaled(baseRate: 0.1, globalBatch: 1024), 0.4, accuracy: 1e-12)
    }
}
