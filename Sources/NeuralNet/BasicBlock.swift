import TesseraCore

/// A ResNet basic block: relu(branch(x) + shortcut(x)), where
/// branch = conv3×3(stride s) → BN → ReLU → conv3×3 → BN, and the shortcut is the identity, or a
/// 1×1 convolution at stride s followed by BN when the stride or the width changes (projection).
/// Without BatchNorm the convolutions carry biases and the ReLU is a layer of its own.
///
/// The block's last BatchNorm starts with γ = 0 (Goyal et al. 2017), so every block starts as the
/// identity (plus shortcut) and a deep stack trains from the first step.
public final class BasicBlock: Layer {
    public let name: String
    public let inChannels: Int
    public let outChannels: Int
    public let stride: Int
    /// conv1, bn1 (ReLU fused) or relu1, conv2, bn2.
    public let branch: [Layer]
    /// Empty for the identity; else projection conv and BN.
    public let shortcut: [Layer]

    private let output = FloatBuffer()
    private let sumGradient = FloatBuffer()
    private let inputGradient = FloatBuffer()
    private var cached: (input: Tensor, output: Tensor)?

    public init(name: String, inChannels: Int, outChannels: Int, stride: Int, batchNorm: Bool = true,
                workspace: FloatBuffer = FloatBuffer()) {
        self.name = name
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.stride = stride
        var branch: [Layer] = [Conv2D(name: "conv1", inChannels: inChannels, outChannels: outChannels, kernel: 3, stride: stride,
                                      padding: 1, bias: !batchNorm, workspace: workspace)]
        branch.append(batchNorm ? BatchNorm2D(name: "bn1", channels: outChannels, fusedReLU: true) : ReLU(name: "relu1"))
        branch.append(Conv2D(name: "conv2", inChannels: outChannels, outChannels: outChannels, kernel: 3, padding: 1,
                             bias: !batchNorm, workspace: workspace))
        if batchNorm { branch.append(BatchNorm2D(name: "bn2", channels: outChannels, initialScale: 0)) }
        self.branch = branch
        if stride != 1 || inChannels != outChannels {
            var s: [Layer] = [Conv2D(name: "projection", inChannels: inChannels, outChannels: outChannels, kernel: 1, stride: stride,
                                     bias: !batchNorm, workspace: workspace)]
            if batchNorm { s.append(BatchNorm2D(name: "projectionBN", channels: outChannels)) }
            shortcut = s
        } else {
            shortcut = []
        }
    }

    private var children: [Layer] { branch + shortcut }

    public var parameterRequests: [ParameterRequest] {
        children.flatMap { child in child.parameterRequests.map { ParameterRequest(name: "\(child.name).\($0.name)", shape: $0.shape, kind: $0.kind) } }
    }

    public var stateRequests: [StateRequest] {
        children.flatMap { child in child.stateRequests.map { StateRequest(name: "\(child.name).\($0.name)", shape: $0.shape, initialValue: $0.initialValue) } }
    }

    public func bind(parameters: ArraySlice<ParameterTensor>, state: ArraySlice<StateTensor>) {
        var cursor = BindingCursor(parameters: parameters, state: state)
        for child in children { cursor.bind(child) }
        cursor.finish(name)
    }

    public func initializeParameters(using rng: inout SeededGenerator) {
        for child in children { child.initializeParameters(using: &rng) }
    }

    public func outputShape(for input: ImageShape) -> ImageShape {
        let b = branch.reduce(input) { $1.outputShape(for: $0) }
        let s = shortcut.reduce(input) { $1.outputShape(for: $0) }
        precondition(b == s, "\(name): branch gives \(b) but shortcut gives \(s)")
        return b
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let h = branch.reduce(input) { $1.forward($0, training: training) }
        let s = shortcut.reduce(input) { $1.forward($0, training: training) }
        precondition(h.shape == s.shape, "\(name): branch gives \(h.shape) but shortcut gives \(s.shape)")
        let y = output.tensor(h.shape)
        let (a, b, out) = (h.data, s.data, y.data)
        for i in 0..<y.count {
            let v = a[i] + b[i]
            out[i] = v > 0 ? v : 0
        }
        cached = (input, y)
        return y
    }

    public func backward(_ dOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let (input, y) = cached else { preconditionFailure("\(name): backward before forward") }
        precondition(dOutput.shape == y.shape, "\(name): dOutput \(dOutput.shape) does not match the last forward \(y.shape)")
        let dSum = sumGradient.tensor(y.shape)
        for i in 0..<y.count {
            let g = dOutput.data[i]  // loaded unconditionally so the select compiles branch-free
            dSum.data[i] = y.data[i] > 0 ? g : 0
        }
        let dBranch = Self.backward(through: branch, dSum, needsInputGradient: needsInputGradient)
        let dShortcut = shortcut.isEmpty ? (needsInputGradient ? dSum : nil)
            : Self.backward(through: shortcut, dSum, needsInputGradient: needsInputGradient)
        guard needsInputGradient, let dBranch, let dShortcut else { return nil }
        let dx = inputGradient.tensor(input.shape)
        for i in 0..<dx.count { dx.data[i] = dBranch.data[i] + dShortcut.data[i] }
        return dx
    }

    static func backward(through layers: [Layer], _ dOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        var d: Tensor? = dOutput
        for (i, layer) in layers.enumerated().reversed() {
            d = layer.backward(d!, needsInputGradient: i > 0 || needsInputGradient)
        }
        return d
    }

    public func forwardFlops(input: ImageShape) -> Int {
        Self.flops(branch, input) { $0.forwardFlops(input: $1) } + Self.flops(shortcut, input) { $0.forwardFlops(input: $1) }
            + 2 * outputShape(for: input).count
    }

    public func backwardFlops(input: ImageShape, needsInputGradient: Bool) -> Int {
        let f: ([Layer]) -> Int = { layers in
            var shape = input, total = 0
            for (i, layer) in layers.enumerated() {
                total += layer.backwardFlops(input: shape, needsInputGradient: i > 0 || needsInputGradient)
                shape = layer.outputShape(for: shape)
            }
            return total
        }
        return f(branch) + f(shortcut) + 2 * outputShape(for: input).count
    }

    static func flops(_ layers: [Layer], _ input: ImageShape, _ each: (Layer, ImageShape) -> Int) -> Int {
        var shape = input, total = 0
        for layer in layers {
            total += each(layer, shape)
            shape = layer.outputShape(for: shape)
        }
        return total
    }

    public func referenceForward(_ input: ReferenceTensor, parameters: [Double], state: [Double], training: Bool) -> ReferenceTensor {
        let h = branch.reduce(input) { $1.referenceForward($0, parameters: parameters, state: state, training: training) }
        let s = shortcut.reduce(input) { $1.referenceForward($0, parameters: parameters, state: state, training: training) }
        return ReferenceTensor(shape: h.shape, values: zip(h.values, s.values).map { max($0 + $1, 0) })
    }
}
