import Foundation
import TesseraCore

/// Batch normalisation over N·H·W per channel, optionally fused with the ReLU that follows it, and
/// then optionally with a 2×2 stride-2 max pool (`BatchNorm2D+MaxPool.swift`). Fusion saves whole
/// passes over the largest activations of the network: normalise+ReLU+pool reads the input once and
/// writes a quarter, and its backward writes dInput in one pass without a full-size dOutput.
///
/// Training mode normalises with the batch mean and biased variance, and updates the running
/// statistics PyTorch's way: `running = (1 − momentum)·running + momentum·batch`, with the unbiased
/// variance (× M/(M−1), M = N·H·W). Evaluation mode normalises with the running statistics.
/// Parameters: `scale` γ (starts at 1) and `shift` β (starts at 0). State: `runningMean` (0) and
/// `runningVariance` (1). Sums are taken about the running mean (a shift that keeps E[x²] − E[x]²
/// from cancelling) in float lanes added up in Double.
public final class BatchNorm2D: Layer {
    public let name: String
    public let channels: Int
    public let momentum: Float
    public let epsilon: Float
    public let fusedReLU: Bool
    /// A 2×2 stride-2 max pool after the ReLU (output ⌊H/2⌋ × ⌊W/2⌋).
    public let fusedMaxPool: Bool
    /// Initial γ. Residual blocks start their last BatchNorm at 0 so each block starts as identity.
    public let initialScale: Float

    private let output = FloatBuffer()
    let inputGradient = FloatBuffer()
    var scale: ParameterTensor!
    var shift: ParameterTensor!
    var runningMean: StateTensor!
    var runningVariance: StateTensor!
    var mean: [Float]
    var invStd: [Float]
    /// Per pooling window, which of its four inputs is the maximum: 0 1 / 2 3.
    let windowArgmax = ScratchBuffer<Float>()
    private var cached: (input: Tensor, output: Tensor, training: Bool)?

    public init(name: String, channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5, fusedReLU: Bool = false,
                fusedMaxPool: Bool = false, initialScale: Float = 1) {
        precondition(channels > 0, "\(name): channels must be positive")
        precondition(!fusedMaxPool || fusedReLU, "\(name): the fused max pool comes after the fused ReLU")
        precondition(momentum >= 0 && momentum <= 1 && epsilon > 0, "\(name): momentum \(momentum), epsilon \(epsilon)")
        self.name = name
        self.channels = channels
        self.momentum = momentum
        self.epsilon = epsilon
        self.fusedReLU = fusedReLU
        self.fusedMaxPool = fusedMaxPool
        self.initialScale = initialScale
        mean = [Float](repeating: 0, count: channels)
        invStd = [Float](repeating: 1, count: channels)
    }

    public var parameterRequests: [ParameterRequest] {
        [ParameterRequest(name: "scale", shape: [channels], kind: .normScale),
         ParameterRequest(name: "shift", shape: [channels], kind: .normShift)]
    }

    public var stateRequests: [StateRequest] {
        [StateRequest(name: "runningMean", shape: [channels], initialValue: 0),
         StateRequest(name: "runningVariance", shape: [channels], initialValue: 1)]
    }

    public func bind(parameters: ArraySlice<ParameterTensor>, state: ArraySlice<StateTensor>) {
        precondition(parameters.count == 2 && state.count == 2, "\(name): wrong binding")
        scale = parameters[parameters.startIndex]
        shift = parameters[parameters.startIndex + 1]
        runningMean = state[state.startIndex]
        runningVariance = state[state.startIndex + 1]
    }

    public func initializeParameters(using rng: inout SeededGenerator) {
        scale.value.update(repeating: initialScale, count: channels)
        shift.value.update(repeating: 0, count: channels)
    }

    public func outputShape(for input: ImageShape) -> ImageShape {
        precondition(input.channels == channels, "\(name): expects \(channels) channels, got \(input)")
        guard fusedMaxPool else { return input }
        precondition(input.height >= 2 && input.width >= 2, "\(name): input \(input) smaller than the 2×2 pooling window")
        return ImageShape(channels: channels, height: input.height / 2, width: input.width / 2)
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let shape = input.shape
        let (nBatch, plane) = (shape.batch, shape.image.planeCount)
        let y = output.tensor(TensorShape(batch: nBatch, image: outputShape(for: shape.image)))
        if training {
            let m = nBatch * plane
            precondition(m > 1, "\(name): training-mode BatchNorm needs more than one value per channel, got \(shape)")
            for c in 0..<channels {
                let k = runningMean.value[c]
                var s = 0.0, q = 0.0
                for n in 0..<nBatch {
                    let (a, b) = Kernels.shiftedSums(input.image(n) + c * plane, count: plane, shift: k)
                    s += a
                    q += b
                }
                let shifted = s / Double(m)
                let variance = max(q / Double(m) - shifted * shifted, 0)
                let mu = Double(k) + shifted
                mean[c] = Float(mu)
                invStd[c] = Float(1 / (variance + Double(epsilon)).squareRoot())
                let unbiased = variance * Double(m) / Double(m - 1)
                runningMean.value[c] = (1 - momentum) * runningMean.value[c] + momentum * Float(mu)
                runningVariance.value[c] = (1 - momentum) * runningVariance.value[c] + momentum * Float(unbiased)
            }
        } else {
            for c in 0..<channels {
                mean[c] = runningMean.value[c]
                invStd[c] = 1 / (runningVariance.value[c] + epsilon).squareRoot()
            }
        }
        if fusedMaxPool {
            forwardPooled(input, into: y)
        } else {
            for c in 0..<channels {
                let a = scale.value[c] * invStd[c]
                let b = shift.value[c] - mean[c] * a
                for n in 0..<nBatch {
                    let offset = c * plane
                    Kernels.affine(input.image(n) + offset, count: plane, scale: a, shift: b, relu: fusedReLU, into: y.image(n) + offset)
                }
            }
        }
        cached = (input, y, training)
        return y
    }

    public func backward(_ dOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let (input, out, training) = cached else { preconditionFailure("\(name): backward before forward") }
        precondition(dOutput.shape == out.shape, "\(name): dOutput \(dOutput.shape) does not match the last forward's output \(out.shape)")
        if fusedMaxPool {
            return backwardPooled(dOutput, input: input, output: out, training: training, needsInputGradient: needsInputGradient)
        }
        let (nBatch, plane) = (input.shape.batch, input.shape.image.planeCount)
        let m = Float(nBatch * plane)
        let dx = needsInputGradient ? inputGradient.tensor(input.shape) : nil
        for c in 0..<channels {
            let mu = mean[c], s = invStd[c]
            // S1 = Σ dŷ, S2 = Σ dŷ·(x − μ), dŷ the gradient at the BatchNorm output (before the ReLU mask).
            var s1 = 0.0, s2 = 0.0
            for n in 0..<nBatch {
                let offset = n * input.shape.image.count + c * plane
                let (a, b) = Self.gradientSums(dOutput.data + offset, mask: fusedReLU ? out.data + offset : nil,
                                               x: input.data + offset, count: plane, mean: mu)
                s1 += a
                s2 += b
            }
            scale.gradient[c] += Float(s2) * s
            shift.gradient[c] += Float(s1)
            guard let dx else { continue }
            let (k1, k2, k3) = inputGradientCoefficients(channel: c, s1: s1, s2: s2, count: m, training: training)
            for n in 0..<nBatch {
                let offset = n * input.shape.image.count + c * plane
                Self.applyGradient(dOutput.data + offset, mask: fusedReLU ? out.data + offset : nil, x: input.data + offset,
                                   count: plane, k1: k1, k2: k2, k3: k3, into: dx.data + offset)
            }
        }
        return dx
    }

    /// (Σ dŷ, Σ dŷ·(x − mean)) over one plane, dŷ = dy where the fused ReLU's output is positive.
    @inline(__always)
    static func gradientSums(_ dy: UnsafePointer<Float>, mask y: UnsafePointer<Float>?, x: UnsafePointer<Float>,
                             count: Int, mean: Float) -> (Double, Double) {
        var s1 = SIMD16<Float>(repeating: 0), s2 = SIMD16<Float>(repeating: 0)
        let mu = SIMD16<Float>(repeating: mean), zero = SIMD16<Float>(repeating: 0)
        let rdy = UnsafeRawPointer(dy), rx = UnsafeRawPointer(x)
        var i = 0
        while i + 16 <= count {
            var d = rdy.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            if let y {
                d.replace(with: zero, where: UnsafeRawPointer(y).loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) .<= zero)
            }
            s1 += d
            s2 += d * (rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) - mu)
            i += 16
        }
        var a = Double(s1.sum()), b = Double(s2.sum())
        while i < count {
            let d = (y.map { $0[i] > 0 } ?? true) ? dy[i] : 0
            a += Double(d)
            b += Double(d * (x[i] - mean))
            i += 1
        }
        return (a, b)
    }

    /// dx = k1·dŷ + k2·x + k3 over one plane.
    @inline(__always)
    static func applyGradient(_ dy: UnsafePointer<Float>, mask y: UnsafePointer<Float>?, x: UnsafePointer<Float>, count: Int,
                              k1: Float, k2: Float, k3: Float, into dx: UnsafeMutablePointer<Float>) {
        if let y {
            for i in 0..<count {
                let g = dy[i]  // loaded unconditionally so the select compiles branch-free
                let d = y[i] > 0 ? g : 0
                dx[i] = k1 * d + k2 * x[i] + k3
            }
        } else {
            for i in 0..<count { dx[i] = k1 * dy[i] + k2 * x[i] + k3 }
        }
    }

    /// The coefficients of dx = k1·dŷ + k2·x + k3 for one channel, from S1 = Σ dŷ and
    /// S2 = Σ dŷ·(x − μ) over the batch, dŷ the gradient at the BatchNorm output.
    /// Training: dx = γ·s·(dŷ − S1/M − (x − μ)·s²·S2/M), s = 1/σ. Evaluation: dx = γ·s·dŷ.
    @inline(__always)
    func inputGradientCoefficients(channel c: Int, s1: Double, s2: Double, count m: Float, training: Bool) -> (Float, Float, Float) {
        let (mu, s, gamma) = (mean[c], invStd[c], scale.value[c])
        let k1 = gamma * s
        let k2 = training ? -gamma * s * s * s * Float(s2) / m : 0
        let k3 = training ? -gamma * s * Float(s1) / m - k2 * mu : 0
        return (k1, k2, k3)
    }

    public func forwardFlops(input: ImageShape) -> Int { 4 * input.count }
    public func backwardFlops(input: ImageShape, needsInputGradient: Bool) -> Int { 8 * input.count }
}
