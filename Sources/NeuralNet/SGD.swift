/// Stochastic gradient descent with momentum, optional Nesterov momentum, and L2 weight decay,
/// PyTorch's formulation (dampening 0):
///
///     g ← ∇ + λ·w            (λ only on decayed parameters, see `Optimizer`)
///     v ← μ·v + g
///     d ← g + μ·v  (Nesterov)  or  v
///     w ← w − η·d
public final class SGD: Optimizer {
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: WeightDecay
    public private(set) var stepCount = 0
    /// v, one per parameter.
    public let velocity: UnsafeMutableBufferPointer<Float>

    public init(parameterInfo: [ParameterInfo], momentum: Float = 0.9, nesterov: Bool = false, weightDecay: Float = 0,
                decayNormAndBias: Bool = false) {
        precondition(momentum >= 0 && weightDecay >= 0, "SGD: momentum \(momentum), weight decay \(weightDecay)")
        precondition(!nesterov || momentum > 0, "SGD: Nesterov needs momentum > 0")
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = WeightDecay(parameterInfo, rate: weightDecay, decayNormAndBias: decayNormAndBias)
        velocity = .allocate(capacity: self.weightDecay.count)
        velocity.initialize(repeating: 0)
    }

    deinit { velocity.deallocate() }

    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>, learningRate: Float) {
        precondition(parameters.count == weightDecay.count && gradients.count == weightDecay.count,
                     "SGD: built for \(weightDecay.count) parameters, given \(parameters.count) and \(gradients.count) gradients")
        let (w, g, v) = (parameters.baseAddress!, gradients.baseAddress!, velocity.baseAddress!)
        let (mu, lr) = (momentum, learningRate)
        for (range, decayed) in weightDecay.segments {
            let lambda = decayed ? weightDecay.rate : 0
            if nesterov {
                for i in range {
                    let grad = g[i] + lambda * w[i]
                    let vel = mu * v[i] + grad
                    v[i] = vel
                    w[i] -= lr * (grad + mu * vel)
                }
            } else {
                for i in range {
                    let vel = mu * v[i] + (g[i] + lambda * w[i])
                    v[i] = vel
                    w[i] -= lr * vel
                }
            }
        }
        stepCount += 1
    }

    public var stateBuffers: [(name: String, values: UnsafeMutableBufferPointer<Float>)] { [("velocity", velocity)] }

    public func exportState() -> OptimizerState { exportBuffers(kind: "sgd") }

    public func loadState(_ state: OptimizerState) throws {
        try loadBuffers(state, kind: "sgd")
        stepCount = state.stepCount
    }
}
