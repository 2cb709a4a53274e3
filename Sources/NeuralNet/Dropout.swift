import TesseraCore

/// Inverted dropout: in training each value is zeroed with probability p and the rest scaled by
/// 1/(1 − p); evaluation is the identity. The mask of the k-th training forward is a pure function
/// of (seed, k, element index), so a run is reproducible and resuming it only needs `calls`
/// (exposed through `Network.randomState`). Give each MPI rank its own seed.
public final class Dropout: Layer {
    public let name: String
    public let probability: Float
    public var seed: UInt64
    /// Training forwards done so far.
    public var calls: UInt64 = 0

    private let output = FloatBuffer()
    private let inputGradient = FloatBuffer()
    private let mask = FloatBuffer()
    private var cached: (shape: TensorShape, training: Bool)?

    public init(name: String, probability: Float, seed: UInt64) {
        precondition(probability >= 0 && probability < 1, "\(name): dropout probability must be in [0, 1), got \(probability)")
        self.name = name
        self.probability = probability
        self.seed = seed
    }

    public func outputShape(for input: ImageShape) -> ImageShape { input }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        cached = (input.shape, training)
        guard training else { return input }
        calls += 1
        let y = output.tensor(input.shape)
        let m = mask.reserve(input.count)
        let keep = 1 / (1 - probability)
        let threshold = Double(probability)
        for i in 0..<input.count {
            let u = Double(mixHash(seed, calls, UInt64(i)) >> 11) * 0x1.0p-53
            m[i] = u < threshold ? 0 : keep
            y.data[i] = input.data[i] * m[i]
        }
        return y
    }

    public func backward(_ dOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let (shape, training) = cached else { preconditionFailure("\(name): backward before forward") }
        precondition(dOutput.shape == shape, "\(name): dOutput \(dOutput.shape) does not match the last forward \(shape)")
        guard needsInputGradient else { return nil }
        guard training else { return dOutput }
        let dx = inputGradient.tensor(shape)
        let m = mask.pointer
        for i in 0..<shape.count { dx.data[i] = dOutput.data[i] * m[i] }
        return dx
    }

    public func forwardFlops(input: ImageShape) -> Int { input.count }
    public func backwardFlops(input: ImageShape, needsInputGradient: Bool) -> Int { needsInputGradient ? input.count : 0 }

    /// Training replays the mask of the last training forward (the reference has no state to advance).
    public func referenceForward(_ input: ReferenceTensor, parameters: [Double], state: [Double], training: Bool) -> ReferenceTensor {
        guard training else { return input }
        precondition(calls > 0, "\(name): the reference replays the last training mask; run a training forward first")
        var y = input
        for i in 0..<y.values.count { y.values[i] *= Double(mask.pointer[i]) }
        return y
    }
}
