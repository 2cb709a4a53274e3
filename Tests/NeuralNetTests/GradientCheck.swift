import NeuralNet
import TesseraCore
import XCTest

/// Largest errors of one check, for the assertion and for the log.
struct CheckReport {
    var forward = 0.0
    var input = 0.0
    var parameters = 0.0
    var worstParameter = ""
}

/// Central finite differences on the Double reference, against the Float fast path's backward.
enum GradientCheck {
    /// Step of the central differences: the reference is Double, so a small step keeps both the
    /// truncation error (h²) and the chance of stepping across a ReLU/max-pool kink negligible.
    static let step = 1e-6

    /// Random values in [−1, 1].
    static func uniform(_ count: Int, _ rng: inout SeededGenerator) -> [Float] {
        (0..<count).map { _ in Float(rng.nextUnit() * 2 - 1) }
    }

    /// Replaces the He initialisation by values that exercise every path: weights and biases in
    /// [−1, 1]·scale, BatchNorm γ in [0.5, 1.5] and β in [−0.5, 0.5], running means in [−0.5, 0.5]
    /// and variances in [0.5, 1.5].
    static func randomize(parameters: UnsafeMutableBufferPointer<Float>, info: [ParameterInfo], state: UnsafeMutableBufferPointer<Float>,
                          stateInfo: [StateInfo], weightScale: Float = 0.5, _ rng: inout SeededGenerator) {
        for p in info {
            for j in p.offset..<(p.offset + p.count) {
                let u = Float(rng.nextUnit() * 2 - 1)
                switch p.kind {
                case .weight: parameters[j] = u * weightScale
                case .bias, .normShift: parameters[j] = u * 0.5
                case .normScale: parameters[j] = 1 + u * 0.5
                }
            }
        }
        for s in stateInfo {
            for j in s.offset..<(s.offset + s.count) {
                let u = rng.nextUnit() * 2 - 1
                state[j] = Float(s.name.hasSuffix("Variance") ? 1 + u * 0.5 : u * 0.5)
            }
        }
    }

    /// Up to `limit` distinct indices of 0..<count (all of them when count ≤ limit).
    static func sample(_ count: Int, limit: Int, _ rng: inout SeededGenerator) -> [Int] {
        guard count > limit else { return Array(0..<count) }
        var picked = Set<Int>()
        while picked.count < limit { picked.insert(Int(rng.next() % UInt64(count))) }
        return picked.sorted()
    }

    /// |a − n| / max(|a|, |n|, floor): relative, with a floor (a small fraction of the tensor's
    /// largest gradient) so that entries that are nearly 0 do not divide by nearly 0.
    static func relativeError(_ a: Double, _ n: Double, floor: Double) -> Double {
        abs(a - n) / max(abs(a), abs(n), floor)
    }

    /// Checks one layer: forward against its reference, dInput and every parameter tensor's gradient
    /// against central differences of L = Σ r·reference(x) for a random r.
    static func check(_ layer: Layer, input: ImageShape, batch: Int, training: Bool, seed: UInt64, weightScale: Float = 0.5,
                      samplesPerTensor: Int = 40) -> CheckReport {
        let store = ParameterStore(layers: [layer])
        var rng = SeededGenerator(seed: seed)
        layer.initializeParameters(using: &rng)
        randomize(parameters: store.parameters, info: store.parameterInfo, state: store.state, stateInfo: store.stateInfo,
                  weightScale: weightScale, &rng)
        let params = store.parameters.map(Double.init), state = store.state.map(Double.init)
        let shape = TensorShape(batch: batch, image: input)
        let x = uniform(shape.count, &rng)
        // Layers keep a view of their input until backward: it lives in a buffer, not an array.
        let xBuffer = FloatBuffer()
        let xTensor = xBuffer.tensor(shape)
        _ = xTensor.buffer.update(fromContentsOf: x)
        let xRef = ReferenceTensor(shape: shape, floats: x)

        var report = CheckReport()
        // The fast forward first: a Dropout reference replays the mask of the last training forward.
        let y = layer.forward(xTensor, training: training).toArray()
        let yRef = layer.referenceForward(xRef, parameters: params, state: state, training: training)
        var r = uniform(yRef.values.count, &rng)
        do {
            let magnitude = max(1, yRef.values.map(abs).max() ?? 0)
            XCTAssertEqual(y.count, yRef.values.count, "\(layer.name): forward size")
            for i in 0..<min(y.count, yRef.values.count) {
                report.forward = max(report.forward, abs(Double(y[i]) - yRef.values[i]) / magnitude)
            }
        }
        store.zeroGradients()
        let dx: [Float]? = r.withUnsafeMutableBufferPointer { rp in
            layer.backward(Tensor(data: rp.baseAddress!, shape: yRef.shape), needsInputGradient: true)?.toArray()
        }
        let analyticParameters = store.gradients.map(Double.init)
        withExtendedLifetime(xBuffer) {}

        let loss = { (x: ReferenceTensor, p: [Double]) -> Double in
            let y = layer.referenceForward(x, parameters: p, state: state, training: training)
            return zip(y.values, r).reduce(0) { $0 + $1.0 * Double($1.1) }
        }
        let h = step
        if let dx {
            let indices = sample(x.count, limit: samplesPerTensor * 2, &rng)
            let numeric = indices.map { i -> Double in
                var plus = xRef, minus = xRef
                plus.values[i] += h
                minus.values[i] -= h
                return (loss(plus, params) - loss(minus, params)) / (2 * h)
            }
            let floor = 1e-3 * (numeric.map(abs).max() ?? 0) + 1e-9
            for (i, n) in zip(indices, numeric) {
                report.input = max(report.input, relativeError(Double(dx[i]), n, floor: floor))
            }
        }
        checkParameters(store.parameterInfo, at: params, analytic: analyticParameters, samplesPerTensor: samplesPerTensor,
                        loss: { loss(xRef, $0) }, into: &report, &rng)
        return report
    }

    /// Mean softmax cross-entropy in Double.
    static func crossEntropy(_ logits: [Double], labels: [Int], classes: Int) -> Double {
        var total = 0.0
        for (n, label) in labels.enumerated() {
            let row = logits[(n * classes)..<((n + 1) * classes)]
            let top = row.max()!
            total += log(row.reduce(0) { $0 + exp($1 - top) }) + top - row[n * classes + label]
        }
        return total / Double(labels.count)
    }

    /// Whole-network check: `accumulateGradients` (fast, Float) against central differences of the
    /// cross-entropy of `referenceForward` (Double), on `samples` parameters spread over every tensor.
    static func checkNetwork(_ net: Network, batch: Int, training: Bool, seed: UInt64, samplesPerTensor: Int) -> CheckReport {
        var rng = SeededGenerator(seed: seed)
        randomize(parameters: net.parameters, info: net.parameterInfo, state: net.state, stateInfo: net.stateInfo, &rng)
        let params = net.parameters.map(Double.init), state = net.state.map(Double.init)
        let shape = TensorShape(batch: batch, image: net.inputShape)
        let x = uniform(shape.count, &rng)
        let labels = (0..<batch).map { _ in Int(rng.next() % UInt64(net.classes)) }
        let xRef = ReferenceTensor(shape: shape, floats: x)

        var report = CheckReport()
        let logits = net.forward(x, batch: batch, training: training)
        let refLogits = net.referenceForward(xRef, parameters: params, state: state, training: training).values
        let magnitude = max(1, refLogits.map(abs).max()!)
        for (a, b) in zip(logits, refLogits) { report.forward = max(report.forward, abs(Double(a) - b) / magnitude) }

        net.zeroGradients()
        let z = net.forward(x, batch: batch, training: training)
        net.backward(SoftmaxCrossEntropy.lossAndGradient(logits: z, labels: labels, classes: net.classes).dLogits)
        let analytic = net.gradients.map(Double.init)
        let loss = { (p: [Double]) in
            crossEntropy(net.referenceForward(xRef, parameters: p, state: state, training: training).values, labels: labels, classes: net.classes)
        }
        checkParameters(net.parameterInfo, at: params, analytic: analytic, samplesPerTensor: samplesPerTensor, loss: loss, into: &report, &rng)
        return report
    }

    /// Every parameter tensor's analytic gradient against central differences of `loss` at
    /// `params`, on up to `samplesPerTensor` entries per tensor: the largest relative error, and
    /// the tensor it is in, go into `report`.
    static func checkParameters(_ info: [ParameterInfo], at params: [Double], analytic: [Double], samplesPerTensor: Int,
                                loss: ([Double]) -> Double, into report: inout CheckReport, _ rng: inout SeededGenerator) {
        for p in info {
            let indices = sample(p.count, limit: samplesPerTensor, &rng).map { $0 + p.offset }
            let numeric = indices.map { j -> Double in
                var plus = params, minus = params
                plus[j] += step
                minus[j] -= step
                return (loss(plus) - loss(minus)) / (2 * step)
            }
            let floor = 1e-3 * (numeric.map(abs).max() ?? 0) + 1e-9
            for (j, n) in zip(indices, numeric) {
                let e = relativeError(analytic[j], n, floor: floor)
                if e > report.parameters {
                    report.parameters = e
                    report.worstParameter = p.name
                }
            }
        }
    }
}
