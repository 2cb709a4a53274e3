import NeuralNet
import XCTest

final class SoftmaxCrossEntropyTests: XCTestCase {
    /// Against values worked out by hand: logits (1, 2, 3), label 2 → loss = log(e¹ + e² + e³) − 3,
    /// and (0, 0, 0), label 0 → log 3; the gradient is (softmax − one-hot)/N.
    func testHandComputedValues() {
        let (loss, d) = SoftmaxCrossEntropy.lossAndGradient(logits: [1, 2, 3, 0, 0, 0], labels: [2, 0], classes: 3)
        let z = exp(1.0) + exp(2.0) + exp(3.0)
        let expected = ((log(z) - 3) + log(3.0)) / 2
        XCTAssertEqual(loss, expected, accuracy: 1e-12)
        XCTAssertEqual(loss, 0.7531, accuracy: 1e-4)  // (0.40761 + 1.09861) / 2
        let grad: [Double] = [exp(1) / z / 2, exp(2) / z / 2, (exp(3) / z - 1) / 2, (1.0 / 3 - 1) / 2, 1.0 / 6, 1.0 / 6]
        for (a, b) in zip(d, grad) { XCTAssertEqual(Double(a), b, accuracy: 1e-7) }
        print("softmax cross-entropy: loss \(loss) vs \(expected), largest gradient error \(zip(d, grad).map { abs(Double($0) - $1) }.max()!)")
    }

    /// Huge logits neither overflow nor underflow: the loss is the margin, the gradient ±1/N.
    func testNumericallyStable() {
        let (loss, d) = SoftmaxCrossEntropy.lossAndGradient(logits: [1000, 0, -1000, 5000], labels: [1, 1], classes: 2)
        XCTAssertEqual(loss, (1000 + 0) / 2, accuracy: 1e-9)
        XCTAssertTrue(d.allSatisfy(\.isFinite))
        XCTAssertEqual(d, [0.5, -0.5, 0, 0])
        let (small, _) = SoftmaxCrossEntropy.lossAndGradient(logits: [30, -30], labels: [0], classes: 2)
        XCTAssertEqual(small, log1p(exp(-60.0)), accuracy: 1e-30)
    }

    func testProbabilities() {
        let p = SoftmaxCrossEntropy.probabilities(logits: [0, log(3), 1000, 1000], classes: 2)
        XCTAssertEqual(p[0], 0.25, accuracy: 1e-7)
        XCTAssertEqual(p[1], 0.75, accuracy: 1e-7)
        XCTAssertEqual(p[2], 0.5, accuracy: 1e-7)
    }
}
