import TesseraCore

/// What a parameter tensor is, which decides whether weight decay applies to it.
public enum ParameterKind: String, Codable, Sendable {
    /// Convolution and linear weights: decayed.
    case weight
    /// Biases: not decayed unless the optimiser is told to decay everything.
    case bias
    /// BatchNorm γ: not decayed unless the optimiser is told to decay everything.
    case normScale
    /// BatchNorm β: not decayed unless the optimiser is told to decay everything.
    case normShift

    public var isDecayedByDefault: Bool { self == .weight }
}

/// A parameter tensor that a layer asks for: its name within the layer, shape and kind.
public struct ParameterRequest: Sendable {
    public var name: String
    public var shape: [Int]
    public var kind: ParameterKind

    public var count: Int { shape.reduce(1, *) }
}

/// A non-trainable state tensor (BatchNorm running mean and variance) that a layer asks for, with
/// the value it starts at.
public struct StateRequest: Sendable {
    public var name: String
    public var shape: [Int]
    public var initialValue: Float

    public var count: Int { shape.reduce(1, *) }
}

/// Where one parameter tensor lives in a network's flat buffers (for checkpoints and optimisers).
public struct ParameterInfo: Hashable, Codable, Sendable {
    /// Dotted path, e.g. `conv2.weight`, `stage3.block1.bn2.scale`.
    public var name: String
    public var shape: [Int]
    public var kind: ParameterKind
    /// First element in `Network.parameters` / `Network.gradients`.
    public var offset: Int
    public var count: Int
}

/// Where one state tensor lives in a network's flat state buffer.
public struct StateInfo: Hashable, Codable, Sendable {
    public var name: String
    public var shape: [Int]
    public var offset: Int
    public var count: Int
}

/// A parameter tensor bound into the flat buffers: values, gradients (same offset in the gradient
/// buffer), and the offset itself (the Double references read parameters by offset). It keeps its
/// `ParameterStore` alive, so a bound layer never points into freed memory.
public struct ParameterTensor {
    public let value: UnsafeMutablePointer<Float>
    public let gradient: UnsafeMutablePointer<Float>
    public let offset: Int
    public let count: Int
    let store: ParameterStore
}

/// A state tensor bound into the flat state buffer (keeps its store alive too).
public struct StateTensor {
    public let value: UnsafeMutablePointer<Float>
    public let offset: Int
    public let count: Int
    let store: ParameterStore
}

/// One layer of a network: a forward/backward pair over NCHW float32 batches.
///
/// `forward` caches what `backward` needs (usually its input view and its own output) and returns
/// a view into a buffer the layer owns. `backward` takes the gradient of the loss with respect to
/// the last forward's output, ACCUMULATES parameter gradients into the network's gradient buffer,
/// and returns the gradient with respect to the input — or nil when `needsInputGradient` is false
/// (the first layer, whose input is the data). Parameters live in the network's one contiguous
/// buffer; a layer only holds `ParameterTensor`s pointing into it.
public protocol Layer: AnyObject {
    var name: String { get }
    /// The per-image output shape for a per-image input shape (a precondition fails on a shape the
    /// layer cannot take).
    func outputShape(for input: ImageShape) -> ImageShape
    /// Parameter tensors, in the order `bind` receives them.
    var parameterRequests: [ParameterRequest] { get }
    /// State tensors, in the order `bind` receives them.
    var stateRequests: [StateRequest] { get }
    /// True for a layer whose output is one item for its whole input batch (attention pooling of a
    /// bag): a network holding one runs layer by layer and its logits have a batch of one.
    var poolsBatch: Bool { get }
    /// Called once with views into the flat buffers, matching the requests one for one.
    func bind(parameters: ArraySlice<ParameterTensor>, state: ArraySlice<StateTensor>)
    /// He initialisation (weights) or constants (biases, BatchNorm γ β), from a seeded generator.
    func initializeParameters(using rng: inout SeededGenerator)
    func forward(_ input: Tensor, training: Bool) -> Tensor
    func backward(_ dOutput: Tensor, needsInputGradient: Bool) -> Tensor?
    /// Floating-point operations of one image's forward pass (a multiply-add counts 2).
    func forwardFlops(input: ImageShape) -> Int
    /// Floating-point operations of one image's backward pass.
    func backwardFlops(input: ImageShape, needsInputGradient: Bool) -> Int
    /// The naive reference forward in Double, reading this layer's parameters and state from whole
    /// flat buffers by offset. For tests: finite differences run on it.
    func referenceForward(_ input: ReferenceTensor, parameters: [Double], state: [Double], training: Bool) -> ReferenceTensor
}

extension Layer {
    public var parameterRequests: [ParameterRequest] { [] }
    public var stateRequests: [StateRequest] { [] }
    public var poolsBatch: Bool { false }
    public func bind(parameters: ArraySlice<ParameterTensor>, state: ArraySlice<StateTensor>) {
        precondition(parameters.isEmpty && state.isEmpty, "\(name): has no parameters to bind")
    }
    public func initializeParameters(using rng: inout SeededGenerator) {}
}

/// A Double-precision NCHW tensor for the naive references.
public struct ReferenceTensor: Equatable {
    public var shape: TensorShape
    public var values: [Double]

    public init(shape: TensorShape, values: [Double]) {
        precondition(values.count == shape.count, "reference tensor: \(values.count) values for shape \(shape)")
        self.shape = shape
        self.values = values
    }

    public init(_ tensor: Tensor) {
        self.init(shape: tensor.shape, values: tensor.buffer.map(Double.init))
    }

    public init(shape: TensorShape, floats: [Float]) {
        self.init(shape: shape, values: floats.map(Double.init))
    }

    @inline(__always) public func index(_ n: Int, _ c: Int, _ y: Int, _ x: Int) -> Int {
        ((n * shape.channels + c) * shape.height + y) * shape.width + x
    }

    public subscript(n: Int, c: Int, y: Int, x: Int) -> Double {
        get { values[index(n, c, y, x)] }
        set { values[index(n, c, y, x)] = newValue }
    }
}
