import Foundation
import TesseraCore

/// Batch normalisation over N·H·W per channel, optionally fused with the ReLU that follows it (one
/// pass over the activations instead of two, forward and backward).
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
    /// Initial γ. Residual blocks start their last BatchNorm at 0 so each block starts as identity.
    public let initialScale: Float

    private let output = FloatBuffer()
    private let inputGradient = FloatBuffer()
    var scale: ParameterTensor!
    var shift: ParameterTensor!
    var runningMean: StateTensor!
    var runningVariance: StateTensor!
    private var mean: [Float]
    private var invStd: [Float]
    private var cached: (input: Tensor, output: Tensor, training: Bool)?

    public init(name: String, channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5, fusedReLU: Bool = false,
                initialScale: Float = 1) {
        precondition(channels > 0, "\(name): channels must be positive")
        precondition(momentum >= 0 && momentum <= 1 && epsilon > 0, "\(name): momentum \(momentum), epsilon \(epsilon)")
        self.name = name
        self.channels = channels
        self.momentum = momentum
        self.epsilon = epsilon
        self.fusedReLU = fusedReLU
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
        return input
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let shape = input.shape
        _ = outputShape(for: shape.image)
        let (nBatch, plane) = (shape.batch, shape.image.planeCount)
        let y = output.tensor(shape)
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
        for c in 0..<channels {
            let a = scale.value[c] * invStd[c]
            let b = shift.value[c] - mean[c] * a
            for n in 0..<nBatch {
                let offset = c * plane
                Kernels.affine(input.image(n) + offset, count: plane, scale: a, shift: b, relu: fusedReLU, into: y.image(n) + offset)
            }
        }
        cached = (input, y, training)
        return y
    }

    public func backward(_ dOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let (input, out, training) = cached else { preconditionFailure("\(name): backward before forward") }
        precondition(dOutput.shape == input.shape, "\(name): dOutput \(dOutput.shape) does not match the last forward \(input.shape)")
        let (nBatch, plane) = (input.shape.batch, input.shape.image.planeCount)
        let m = Float(nBatch * plane)
        let dx = needsInputGradient ? inputGradient.tensor(input.shape) : nil
        for c in 0..<channels {
            let mu = mean[c], s = invStd[c], gamma = scale.value[c]
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
            // Training: dx = γ·s·(dŷ − S1/M − (x − μ)·s²·S2/M) = k1·dŷ + k2·x + k3.
            // Evaluation: the statistics are constants, dx = γ·s·dŷ.
            let k1 = gamma * s
            let k2 = training ? -gamma * s * s * s * Float(s2) / m : 0
            let k3 = training ? -gamma * s * Float(s1) / m - k2 * mu : 0
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

    public func forwardFlops(input: ImageShape) -> Int { 4 * input.count }
    public func backwardFlops(input: ImageShape, needsInputGradient: Bool) -> Int { 8 * input.count }
}
