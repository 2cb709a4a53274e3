/// max(x, 0), elementwise; the gradient at 0 is taken as 0.
public final class ReLU: Layer {
    public let name: String
    private let output = FloatBuffer()
    private let inputGradient = FloatBuffer()
    private var cachedOutput: Tensor?

    public init(name: String) { self.name = name }

    public func outputShape(for input: ImageShape) -> ImageShape { input }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let y = output.tensor(input.shape)
        let (x, out) = (input.data, y.data)
        for i in 0..<input.count {
            let v = x[i]
            out[i] = v > 0 ? v : 0
        }
        cachedOutput = y
        return y
    }

    public func backward(_ dOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let y = cachedOutput else { preconditionFailure("\(name): backward before forward") }
        precondition(dOutput.shape == y.shape, "\(name): dOutput \(dOutput.shape) does not match the last forward \(y.shape)")
        guard needsInputGradient else { return nil }
        let dx = inputGradient.tensor(y.shape)
        let (out, dy, d) = (y.data, dOutput.data, dx.data)
        for i in 0..<y.count {
            let g = dy[i]  // loaded unconditionally so the select compiles branch-free
            d[i] = out[i] > 0 ? g : 0
        }
        return dx
    }

    public func forwardFlops(input: ImageShape) -> Int { input.count }
    public func backwardFlops(input: ImageShape, needsInputGradient: Bool) -> Int { needsInputGradient ? input.count : 0 }

    public func referenceForward(_ input: ReferenceTensor, parameters: [Double], state: [Double], training: Bool) -> ReferenceTensor {
        ReferenceTensor(shape: input.shape, values: input.values.map { max($0, 0) })
    }
}
