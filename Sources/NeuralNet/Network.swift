import TesseraCore

/// A feed-forward stack of layers over one contiguous parameter buffer, one gradient buffer and
/// one state buffer (see `ParameterStore`), with forward/backward over NCHW float32 batches.
///
/// Training: `zeroGradients()`, `forward(…, training: true)`, a loss, `backward(dLogits)`, then an
/// optimiser step on `parameters`/`gradients`. The loss is the mean over the local batch, so with
/// data parallelism: allreduce-sum `gradients` in place, divide by the number of ranks, step.
/// Inference (`training: false`) runs image by image through the whole stack, so one image's
/// activations stay in cache between layers (refnet-s, 1 OpenBLAS thread: ~20 % faster than layer
/// by layer; with 2 threads `.layerByLayer` measured faster); batch it — per-call setup (Winograd
/// filter transforms) is paid once per call.
/// `backward` needs a training forward before it. Not thread-safe: one network per thread.
public final class Network {
    /// How `forward(…, training: false)` walks the batch.
    public enum InferenceSchedule: Sendable {
        /// Each image through all layers before the next (cache-friendly; the default).
        case imageByImage
        /// Each layer over the whole batch (like training).
        case layerByLayer
    }

    public let configuration: NetworkConfiguration
    public let layers: [Layer]
    /// Shape of one input image.
    public let inputShape: ImageShape
    public let classes: Int
    public var inferenceSchedule = InferenceSchedule.imageByImage

    let store: ParameterStore
    private let logits = FloatBuffer()
    /// The batch of the last forward's logits (1 for a bag network) and whether backward may follow.
    private var lastForward: (outputBatch: Int, backwardReady: Bool)?
    /// A layer pools its batch (a bag network): forward always runs layer by layer.
    private lazy var poolsBatch = layers.contains { $0.poolsBatch }

    /// A model by name (`Network.modelNames`), He-initialised from `seed`.
    /// - Parameters:
    ///   - inputSize: S of the 3×S×S input images.
    ///   - batchNorm: false builds the model without BatchNorm (convolutions get biases), so a batch
    ///     split across ranks computes exactly the gradient of the whole batch.
    ///   - dropout: probability of a Dropout before the classifier; 0 (the default) adds none.
    public convenience init(model: String, classes: Int, inputSize: Int = 128, seed: UInt64, batchNorm: Bool = true,
                            dropout: Float = 0) throws {
        let configuration = NetworkConfiguration(model: model, classes: classes, inputSize: inputSize, batchNorm: batchNorm,
                                                 dropout: dropout)
        try self.init(layers: Models.layers(for: configuration, seed: seed), configuration: configuration, seed: seed)
    }

    /// Any stack of layers; the last must produce `classes × 1 × 1` per image.
    public convenience init(layers: [Layer], inputShape: ImageShape, seed: UInt64) {
        let outputs = layers.reduce(inputShape) { $1.outputShape(for: $0) }
        precondition(outputs.height == 1 && outputs.width == 1, "network output must be classes×1×1, got \(outputs)")
        let configuration = NetworkConfiguration(model: "custom", classes: outputs.channels, inputSize: inputShape.height,
                                                 inputChannels: inputShape.channels, batchNorm: false, dropout: 0)
        self.init(layers: layers, configuration: configuration, seed: seed, inputShape: inputShape)
    }

    private init(layers: [Layer], configuration: NetworkConfiguration, seed: UInt64, inputShape: ImageShape? = nil) {
        self.layers = layers
        self.configuration = configuration
        self.inputShape = inputShape ?? ImageShape(channels: configuration.inputChannels, height: configuration.inputSize,
                                                   width: configuration.inputSize)
        let outputs = layers.reduce(self.inputShape) { $1.outputShape(for: $0) }
        classes = outputs.channels
        store = ParameterStore(layers: layers)
        var rng = SeededGenerator(seed: seed)
        for layer in layers { layer.initializeParameters(using: &rng) }
    }

    // MARK: Buffers

    /// Every trainable value, laid out as `parameterInfo` says.
    public var parameters: UnsafeMutableBufferPointer<Float> { store.parameters }
    /// dLoss/dparameters, same layout; `backward` accumulates into it.
    public var gradients: UnsafeMutableBufferPointer<Float> { store.gradients }
    /// BatchNorm running statistics, laid out as `stateInfo` says (checkpoint it with the weights).
    public var state: UnsafeMutableBufferPointer<Float> { store.state }
    public var parameterInfo: [ParameterInfo] { store.parameterInfo }
    public var stateInfo: [StateInfo] { store.stateInfo }
    public var parameterCount: Int { store.parameterCount }

    public func zeroGradients() { store.zeroGradients() }

    // MARK: Forward and backward

    /// logits: batch × classes (× 1 × 1) for an NCHW batch; a view valid until the next forward.
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.shape.image == inputShape, "network expects \(inputShape) images, got \(input.shape)")
        precondition(input.shape.batch > 0, "empty batch")
        let nBatch = input.shape.batch
        if training || inferenceSchedule == .layerByLayer || nBatch == 1 || poolsBatch {
            let out = layers.reduce(input) { $1.forward($0, training: training) }
            lastForward = (out.shape.batch, true)
            return out
        }
        let result = logits.tensor(TensorShape(batch: nBatch, channels: classes, height: 1, width: 1))
        for n in 0..<nBatch {
            let out = layers.reduce(input.images(n, count: 1)) { $1.forward($0, training: false) }
            result.image(n).update(from: out.data, count: classes)
        }
        lastForward = (nBatch, false)
        return result
    }

    /// images: batch × C × S × S floats. Returns batch × classes logits, valid until the next forward.
    /// The first layer keeps a view of `images` for its backward: keep them valid and unchanged
    /// until `backward` returns.
    public func forward(_ images: UnsafePointer<Float>, batch: Int, training: Bool) -> UnsafeBufferPointer<Float> {
        let input = Tensor(data: UnsafeMutablePointer(mutating: images), shape: TensorShape(batch: batch, image: inputShape))
        return UnsafeBufferPointer(forward(input, training: training).buffer)
    }

    /// Array form; the images are copied first, so a later `backward` needs nothing from the caller.
    public func forward(_ images: [Float], batch: Int, training: Bool) -> [Float] {
        precondition(images.count == batch * inputShape.count, "\(images.count) values for \(batch) images of \(inputShape)")
        let copy = inputCopy.reserve(images.count)
        images.withUnsafeBufferPointer { copy.update(from: $0.baseAddress!, count: images.count) }
        return Array(forward(copy, batch: batch, training: training))
    }

    /// Accumulates dLoss/dparameters into `gradients` given dLoss/dlogits (batch × classes) of the
    /// last forward, which must have been a training forward or a layer-by-layer one.
    public func backward(_ dLogits: UnsafePointer<Float>) {
        guard let (outputBatch, ready) = lastForward, ready else {
            preconditionFailure("backward needs a forward before it with training: true (or the .layerByLayer schedule)")
        }
        var d: Tensor? = Tensor(data: UnsafeMutablePointer(mutating: dLogits),
                                shape: TensorShape(batch: outputBatch, channels: classes, height: 1, width: 1))
        for (i, layer) in layers.enumerated().reversed() {
            d = layer.backward(d!, needsInputGradient: i > 0)
        }
    }

    public func backward(_ dLogits: [Float]) {
        guard let (outputBatch, _) = lastForward else { preconditionFailure("backward before forward") }
        precondition(dLogits.count == outputBatch * classes, "\(dLogits.count) logit gradients for \(outputBatch) × \(classes)")
        dLogits.withUnsafeBufferPointer { backward($0.baseAddress!) }
    }

    /// One training forward, softmax cross-entropy and backward; gradients are ACCUMULATED (call
    /// `zeroGradients()` first). Returns the mean loss over the batch.
    @discardableResult
    public func accumulateGradients(images: UnsafePointer<Float>, labels: UnsafeBufferPointer<Int32>) -> Double {
        let z = forward(images, batch: labels.count, training: true)
        let d = logitGradient.reserve(z.count)
        let loss = SoftmaxCrossEntropy.lossAndGradient(logits: z.baseAddress!, labels: labels, classes: classes, dLogits: d)
        backward(d)
        return loss
    }

    @discardableResult
    public func accumulateGradients(images: [Float], labels: [Int]) -> Double {
        precondition(images.count == labels.count * inputShape.count, "\(images.count) values for \(labels.count) images of \(inputShape)")
        let labels32 = labels.map { Int32($0) }
        return images.withUnsafeBufferPointer { x in
            labels32.withUnsafeBufferPointer { accumulateGradients(images: x.baseAddress!, labels: $0) }
        }
    }

    private let logitGradient = FloatBuffer()
    private let inputCopy = FloatBuffer()

    // MARK: Cost

    /// Floating-point operations per image: forward, and forward + backward (the first layer
    /// computes no input gradient).
    public var flopsPerImage: (forward: Int, training: Int) {
        var shape = inputShape, forward = 0, backward = 0
        for (i, layer) in layers.enumerated() {
            forward += layer.forwardFlops(input: shape)
            backward += layer.backwardFlops(input: shape, needsInputGradient: i > 0)
            shape = layer.outputShape(for: shape)
        }
        return (forward, forward + backward)
    }

    /// The whole network's naive forward in Double (for tests), from flat parameter and state arrays.
    public func referenceForward(_ input: ReferenceTensor, parameters: [Double], state: [Double], training: Bool) -> ReferenceTensor {
        precondition(parameters.count == parameterCount && state.count == store.state.count, "reference: wrong buffer sizes")
        return layers.reduce(input) { $1.referenceForward($0, parameters: parameters, state: state, training: training) }
    }
}

/// What a named network was built from: enough to rebuild it (checkpoints store this).
public struct NetworkConfiguration: Codable, Hashable, Sendable {
    public var model: String
    public var classes: Int
    public var inputSize: Int
    public var inputChannels: Int
    public var batchNorm: Bool
    public var dropout: Float

    public init(model: String, classes: Int, inputSize: Int, inputChannels: Int = 3, batchNorm: Bool = true, dropout: Float = 0) {
        self.model = model
        self.classes = classes
        self.inputSize = inputSize
        self.inputChannels = inputChannels
        self.batchNorm = batchNorm
        self.dropout = dropout
    }
}
