import Foundation

/// Adam with decoupled weight decay (AdamW, Loshchilov & Hutter 2019), PyTorch's formulation:
///
///     t ← t + 1
///     w ← w − η·λ·w          (λ only on decayed parameters, see `Optimizer`)
///     m ← β₁·m + (1 − β₁)·g
///     v ← β₂·v + (1 − β₂)·g²
///     w ← w − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
public final class Adam: Optimizer {
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: WeightDecay
    public private(set) var stepCount = 0
    /// First moment m.
    public let firstMoment: UnsafeMutableBufferPointer<Float>
    /// Second moment v.
    public let secondMoment: UnsafeMutableBufferPointer<Float>

    public init(parameterInfo: [ParameterInfo], beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0,
                decayNormAndBias: Bool = false) {
        precondition(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && epsilon > 0 && weightDecay >= 0,
                     "Adam: β₁ \(beta1), β₂ \(beta2), ε \(epsilon), λ \(weightDecay)")
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = WeightDecay(parameterInfo, rate: weightDecay, decayNormAndBias: decayNormAndBias)
        firstMoment = .allocate(capacity: self.weightDecay.count)
        firstMoment.initialize(repeating: 0)
        secondMoment = .allocate(capacity: self.weightDecay.count)
        secondMoment.initialize(repeating: 0)
    }

    deinit {
        firstMoment.deallocate()
        secondMoment.deallocate()
    }

    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>, learningRate: Float) {
        precondition(parameters.count == weightDecay.count && gradients.count == weightDecay.count,
                     "Adam: built for \(weightDecay.count) parameters, given \(parameters.count) and \(gradients.count) gradients")
        stepCount += 1
        let t = Double(stepCount)
        let stepSize = Float(Double(learningRate) / (1 - pow(Double(beta1), t)))
        let rootCorrection = Float((1 - pow(Double(beta2), t)).squareRoot())
        let (w, g, m, v) = (parameters.baseAddress!, gradients.baseAddress!, firstMoment.baseAddress!, secondMoment.baseAddress!)
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        for (range, decayed) in weightDecay.segments {
            let shrink = decayed ? 1 - learningRate * weightDecay.rate : 1
            for i in range {
                let grad = g[i]
                let mi = b1 * m[i] + (1 - b1) * grad
                let vi = b2 * v[i] + (1 - b2) * grad * grad
                m[i] = mi
                v[i] = vi
                w[i] = w[i] * shrink - stepSize * mi / (vi.squareRoot() / rootCorrection + eps)
            }
        }
    }

    public var stateBuffers: [(name: String, values: UnsafeMutableBufferPointer<Float>)] {
        [("firstMoment", firstMoment), ("secondMoment", secondMoment)]
    }

    public func exportState() -> OptimizerState { exportBuffers(kind: "adam") }

    public func loadState(_ state: OptimizerState) throws {
        try loadBuffers(state, kind: "adam")
        stepCount = state.stepCount
    }
}
