/// An update rule over a network's flat parameter and gradient buffers.
///
/// Weight decay policy (both optimisers): by default it applies to convolution and linear weights
/// only, not to biases or BatchNorm γ/β — decaying those only pulls the normalisation toward zero and
/// hurts large-batch training (Goyal et al. 2017, §5.1; "bag of tricks", He et al. 2019). Pass
/// `decayNormAndBias: true` to decay every parameter.
///
/// State (momentum, moments, step count) is exposed as named buffers and as a Codable
/// `OptimizerState`; loading a saved state and continuing gives bit-identical parameters to an
/// uninterrupted run.
public protocol Optimizer: AnyObject {
    /// Updates done so far.
    var stepCount: Int { get }
    /// One update: parameters −= f(gradients) at `learningRate`.
    func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>, learningRate: Float)
    /// The state buffers, by name, same layout as the parameters.
    var stateBuffers: [(name: String, values: UnsafeMutableBufferPointer<Float>)] { get }
    func exportState() -> OptimizerState
    func loadState(_ state: OptimizerState) throws
}

extension Optimizer {
    /// Steps a network with its own buffers.
    public func step(_ network: Network, learningRate: Float) {
        step(parameters: network.parameters, gradients: UnsafeBufferPointer(network.gradients), learningRate: learningRate)
    }
}

/// An optimiser's resumable state.
public struct OptimizerState: Codable, Equatable, Sendable {
    public struct Buffer: Codable, Equatable, Sendable {
        public var name: String
        public var values: [Float]

        public init(name: String, values: [Float]) {
            self.name = name
            self.values = values
        }
    }

    /// "sgd" or "adam".
    public var kind: String
    public var stepCount: Int
    public var buffers: [Buffer]

    public init(kind: String, stepCount: Int, buffers: [Buffer]) {
        self.kind = kind
        self.stepCount = stepCount
        self.buffers = buffers
    }
}

/// Weight decay as both optimisers apply it: the rate λ and the contiguous runs of parameters it
/// applies to (convolution and linear weights, or every parameter; see `Optimizer`).
public struct WeightDecay: Sendable {
    /// λ.
    public let rate: Float
    /// Biases and BatchNorm γ/β are decayed too.
    public let decaysNormAndBias: Bool
    let segments: [(range: Range<Int>, decayed: Bool)]
    /// Parameters covered.
    let count: Int

    init(_ info: [ParameterInfo], rate: Float, decayNormAndBias: Bool) {
        var segments: [(range: Range<Int>, decayed: Bool)] = []
        var end = 0
        for p in info.sorted(by: { $0.offset < $1.offset }) {
            precondition(p.offset == end, "parameter \(p.name) at \(p.offset), expected \(end): the layout must be contiguous")
            let decayed = decayNormAndBias || p.kind.isDecayedByDefault
            if let last = segments.last, last.decayed == decayed {
                segments[segments.count - 1].range = last.range.lowerBound..<(p.offset + p.count)
            } else {
                segments.append((p.offset..<(p.offset + p.count), decayed))
            }
            end = p.offset + p.count
        }
        self.rate = rate
        decaysNormAndBias = decayNormAndBias
        self.segments = segments
        count = end
    }
}

extension Optimizer {
    /// The state `loadBuffers` restores: the step count and a copy of every state buffer, by name.
    func exportBuffers(kind: String) -> OptimizerState {
        OptimizerState(kind: kind, stepCount: stepCount, buffers: stateBuffers.map { .init(name: $0.name, values: Array($0.values)) })
    }

    func loadBuffers(_ state: OptimizerState, kind: String) throws {
        guard state.kind == kind else {
            throw NeuralNetError.layoutMismatch(what: "optimiser state", message: "is for \(state.kind), this optimiser is \(kind)",
                                                hint: "resume with the optimiser the checkpoint was written with")
        }
        let mine = stateBuffers
        guard state.buffers.map(\.name) == mine.map(\.name) else {
            throw NeuralNetError.layoutMismatch(what: "optimiser state", message: "has buffers \(state.buffers.map(\.name)), expected \(mine.map(\.name))",
                                                hint: "the checkpoint was written by a different optimiser configuration")
        }
        for (saved, buffer) in zip(state.buffers, mine) {
            guard saved.values.count == buffer.values.count else {
                throw NeuralNetError.sizeMismatch(what: "optimiser buffer \(saved.name)", expected: buffer.values.count, got: saved.values.count,
                                                  hint: "the checkpoint was written for a different model")
            }
        }
        for (saved, buffer) in zip(state.buffers, mine) { _ = buffer.values.update(fromContentsOf: saved.values) }
    }
}
