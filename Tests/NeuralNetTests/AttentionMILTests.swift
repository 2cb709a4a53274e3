import NeuralNet
import TesseraCore
import XCTest

/// Gated attention pooling and the ABMIL network: forward against the Double reference, gradients
/// against finite differences (the softmax over bags of several sizes included), and a toy
/// multiple-instance problem it must learn.
final class AttentionMILTests: XCTestCase {
    let forwardTolerance = 1e-5
    let gradientTolerance = 2e-3

    /// The pooling layer alone, on bags of 1, 2 and 7 instances (one instance: the softmax is
    /// constant, so every attention gradient is 0 and only z = h passes through).
    func testGatedAttentionPoolGradients() {
        for (bag, seed) in [(1, 3), (2, 4), (7, 5)] {
            let layer = GatedAttentionPool(name: "attention", features: 6, attentionWidth: 4)
            let r = GradientCheck.check(layer, input: ImageShape(channels: 6, height: 1, width: 1), batch: bag, training: true,
                                        seed: UInt64(seed), weightScale: 1)
            print("GatedAttentionPool bag \(bag): forward \(r.forward), dInput \(r.input), parameters \(r.parameters) \(r.worstParameter)")
            XCTAssertLessThan(r.forward, forwardTolerance, "bag \(bag): forward vs reference")
            XCTAssertLessThan(r.input, gradientTolerance, "bag \(bag): dInput vs finite differences")
            XCTAssertLessThan(r.parameters, gradientTolerance, "bag \(bag): parameters vs finite differences (\(r.worstParameter))")
            XCTAssertEqual(layer.attention.count, bag)
            XCTAssertEqual(Double(layer.attention.reduce(0, +)), 1, accuracy: 1e-6, "attention sums to 1")
        }
    }

    /// The whole network (embed, ReLU, dropout, attention, classifier) with a weighted bag loss:
    /// `accumulateBagGradients` against central differences of the Double reference's cross-entropy.
    func testNetworkBagGradients() {
        let layers = Models.gatedAttentionMIL(features: 5, hidden: 8, attentionWidth: 4, classes: 3, dropout: 0.25, dropoutSeed: 9)
        let net = Network(layers: layers, inputShape: ImageShape(channels: 5, height: 1, width: 1), seed: 2)
        var rng = SeededGenerator(seed: 11)
        GradientCheck.randomize(parameters: net.parameters, info: net.parameterInfo, state: net.state, stateInfo: net.stateInfo, weightScale: 1, &rng)
        let tiles = 6, label = 2, weight: Float = 0.75
        let x = GradientCheck.uniform(tiles * 5, &rng)
        net.zeroGradients()
        x.withUnsafeBufferPointer { _ = net.accumulateBagGradients(bag: $0.baseAddress!, tiles: tiles, label: label, weight: weight) }
        let analytic = net.gradients.map(Double.init)
        let xRef = ReferenceTensor(shape: TensorShape(batch: tiles, channels: 5, height: 1, width: 1), floats: x)
        let params = net.parameters.map(Double.init)
        // The Dropout reference replays the mask of the training forward above.
        let loss = { (p: [Double]) in
            Double(weight) * GradientCheck.crossEntropy(net.referenceForward(xRef, parameters: p, state: [], training: true).values,
                                                        labels: [label], classes: 3)
        }
        var report = CheckReport()
        GradientCheck.checkParameters(net.parameterInfo, at: params, analytic: analytic, samplesPerTensor: 30, loss: loss, into: &report, &rng)
        print("ABMIL network: parameter rel. error \(report.parameters) \(report.worstParameter)")
        XCTAssertLessThan(report.parameters, gradientTolerance, "parameters vs finite differences (\(report.worstParameter))")
        XCTAssertEqual(net.bagAttention?.count, tiles)
    }

    /// Bags of 8–20 noise tiles; a positive bag has exactly one tile whose first feature is raised.
    /// Slide labels only: the network must separate held-out bags and put most attention on the
    /// carrying tile.
    func testLearnsBagWhereOneTileCarriesTheLabel() {
        let features = 8
        var rng = SeededGenerator(seed: 42)
        func bag(positive: Bool) -> (x: [Float], label: Int, key: Int?) {
            let n = 8 + Int(rng.next() % 13)
            var x = (0..<(n * features)).map { _ in Float(rng.nextUnit() * 2 - 1) * 0.5 }
            var key: Int?
            if positive {
                let k = Int(rng.next() % UInt64(n))
                x[k * features] += 3
                key = k
            }
            return (x, positive ? 1 : 0, key)
        }
        let train = (0..<80).map { bag(positive: $0 % 2 == 0) }
        let test = (0..<40).map { bag(positive: $0 % 2 == 1) }
        let net = Network(layers: Models.gatedAttentionMIL(features: features, hidden: 16, attentionWidth: 8, classes: 2),
                          inputShape: ImageShape(channels: features, height: 1, width: 1), seed: 7)
        let adam = Adam(parameterInfo: net.parameterInfo, weightDecay: 1e-4)
        for _ in 0..<15 {
            for start in stride(from: 0, to: train.count, by: 8) {
                net.zeroGradients()
                for b in train[start..<(start + 8)] {
                    b.x.withUnsafeBufferPointer { _ = net.accumulateBagGradients(bag: $0.baseAddress!, tiles: b.x.count / features, label: b.label, weight: 1.0 / 8) }
                }
                adam.step(net, learningRate: 2e-3)
            }
        }
        var correct = 0, keyAttention = 0.0, positives = 0
        for b in test {
            let z = net.forward(b.x, batch: b.x.count / features, training: false)
            if (z[1] > z[0] ? 1 : 0) == b.label { correct += 1 }
            if let key = b.key {
                keyAttention += Double(net.bagAttention![key])
                positives += 1
            }
        }
        let accuracy = Double(correct) / Double(test.count), meanKey = keyAttention / Double(positives)
        print("one-tile MIL: held-out accuracy \(accuracy), mean attention on the carrying tile \(meanKey)")
        XCTAssertGreaterThanOrEqual(accuracy, 0.95, "held-out bag accuracy")
        XCTAssertGreaterThan(meanKey, 0.5, "attention on the one tile that carries the label (uniform would be ~1/14)")
    }
}
