/// The mean of each channel plane: N × C × H × W → N × C × 1 × 1.
public final class GlobalAveragePool: Layer {
    public let name: String
    private let output = FloatBuffer()
    private let inputGradient = FloatBuffer()
    private var cachedInputShape: TensorShape?

    public init(name: String) { self.name = name }

    public func outputShape(for input: ImageShape) -> ImageShape { ImageShape(channels: input.channels, height: 1, width: 1) }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let shape = input.shape
        let y = output.tensor(TensorShape(batch: shape.batch, image: outputShape(for: shape.image)))
        let plane = shape.image.planeCount
        let inv = 1 / Float(plane)
        for pl in 0..<(shape.batch * shape.channels) {
            y.data[pl] = Kernels.sum(input.data + pl * plane, count: plane) * inv
        }
        cachedInputShape = shape
        return y
    }

    public func backward(_ dOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let shape = cachedInputShape else { preconditionFailure("\(name): backward before forward") }
        precondition(dOutput.count == shape.batch * shape.channels, "\(name): dOutput \(dOutput.shape) does not match the last forward")
        guard needsInputGradient else { return nil }
        let dx = inputGradient.tensor(shape)
        let plane = shape.image.planeCount
        let inv = 1 / Float(plane)
        for pl in 0..<(shape.batch * shape.channels) {
            (dx.data + pl * plane).update(repeating: dOutput.data[pl] * inv, count: plane)
        }
        return dx
    }

    public func forwardFlops(input: ImageShape) -> Int { input.count }
    public func backwardFlops(input: ImageShape, needsInputGradient: Bool) -> Int { needsInputGradient ? input.count : 0 }

    public func referenceForward(_ input: ReferenceTensor, parameters: [Double], state: [Double], training: Bool) -> ReferenceTensor {
        let shape = TensorShape(batch: input.shape.batch, image: outputShape(for: input.shape.image))
        var y = ReferenceTensor(shape: shape, values: [Double](repeating: 0, count: shape.count))
        for n in 0..<shape.batch {
            for c in 0..<shape.channels {
                var s = 0.0
                for r in 0..<input.shape.height { for q in 0..<input.shape.width { s += input[n, c, r, q] } }
                y[n, c, 0, 0] = s / Double(input.shape.height * input.shape.width)
            }
        }
        return y
    }
}
