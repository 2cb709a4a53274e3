import BLAS
import TesseraCore

/// Fully connected: each image's C·H·W values (flattened) → `outFeatures`, as one sgemm per batch.
/// Weight: outFeatures × inFeatures (He initialised); bias: outFeatures (zero). Output N × out × 1 × 1.
public final class Linear: Layer {
    public let name: String
    public let inFeatures: Int
    public let outFeatures: Int

    private let output = FloatBuffer()
    private let inputGradient = FloatBuffer()
    var weight: ParameterTensor!
    var bias: ParameterTensor!
    private var cachedInput: Tensor?

    public init(name: String, inFeatures: Int, outFeatures: Int) {
        precondition(inFeatures > 0 && outFeatures > 0, "\(name): feature counts must be positive")
        self.name = name
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
    }

    public var parameterRequests: [ParameterRequest] {
        [ParameterRequest(name: "weight", shape: [outFeatures, inFeatures], kind: .weight),
         ParameterRequest(name: "bias", shape: [outFeatures], kind: .bias)]
    }

    public func bind(parameters: ArraySlice<ParameterTensor>, state: ArraySlice<StateTensor>) {
        precondition(parameters.count == 2 && state.isEmpty, "\(name): wrong binding")
        weight = parameters[parameters.startIndex]
        bias = parameters[parameters.startIndex + 1]
    }

    public func initializeParameters(using rng: inout SeededGenerator) {
        HeInitialization.fill(weight.value, count: weight.count, fanIn: inFeatures, using: &rng)
        bias.value.update(repeating: 0, count: outFeatures)
    }

    public func outputShape(for input: ImageShape) -> ImageShape {
        precondition(input.count == inFeatures, "\(name): expects \(inFeatures) features per image, got \(input)")
        return ImageShape(channels: outFeatures, height: 1, width: 1)
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let nBatch = input.shape.batch
        let y = output.tensor(TensorShape(batch: nBatch, image: outputShape(for: input.shape.image)))
        for n in 0..<nBatch { y.image(n).update(from: bias.value, count: outFeatures) }
        // y: N × out += x: N × in · Wᵀ: in × out
        BLAS.sgemm(transB: true, m: nBatch, n: outFeatures, k: inFeatures, a: input.data, lda: inFeatures,
                   b: weight.value, ldb: inFeatures, beta: 1, c: y.data, ldc: outFeatures)
        cachedInput = input
        return y
    }

    public func backward(_ dOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let input = cachedInput else { preconditionFailure("\(name): backward before forward") }
        let nBatch = input.shape.batch
        precondition(dOutput.shape == TensorShape(batch: nBatch, image: outputShape(for: input.shape.image)),
                     "\(name): dOutput \(dOutput.shape) does not match the last forward")
        // dW: out × in += dyᵀ: out × N · x: N × in
        BLAS.sgemm(transA: true, m: outFeatures, n: inFeatures, k: nBatch, a: dOutput.data, lda: outFeatures,
                   b: input.data, ldb: inFeatures, beta: 1, c: weight.gradient, ldc: inFeatures)
        for n in 0..<nBatch {
            let dy = dOutput.image(n)
            for o in 0..<outFeatures { bias.gradient[o] += dy[o] }
        }
        guard needsInputGradient else { return nil }
        let dx = inputGradient.tensor(input.shape)
        // dx: N × in = dy: N × out · W: out × in
        BLAS.sgemm(m: nBatch, n: inFeatures, k: outFeatures, a: dOutput.data, lda: outFeatures,
                   b: weight.value, ldb: inFeatures, beta: 0, c: dx.data, ldc: inFeatures)
        return dx
    }

    public func forwardFlops(input: ImageShape) -> Int { 2 * inFeatures * outFeatures }
    public func backwardFlops(input: ImageShape, needsInputGradient: Bool) -> Int {
        2 * inFeatures * outFeatures * (needsInputGradient ? 2 : 1)
    }

    public func referenceForward(_ input: ReferenceTensor, parameters: [Double], state: [Double], training: Bool) -> ReferenceTensor {
        let shape = TensorShape(batch: input.shape.batch, image: outputShape(for: input.shape.image))
        var y = [Double](repeating: 0, count: shape.count)
        for n in 0..<shape.batch {
            for o in 0..<outFeatures {
                var s = parameters[bias.offset + o]
                for i in 0..<inFeatures { s += parameters[weight.offset + o * inFeatures + i] * input.values[n * inFeatures + i] }
                y[n * outFeatures + o] = s
            }
        }
        return ReferenceTensor(shape: shape, values: y)
    }
}
