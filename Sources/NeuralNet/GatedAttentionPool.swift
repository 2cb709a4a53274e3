import BLAS
import Foundation
import TesseraCore

/// Gated attention pooling of one bag (Ilse, Tomczak & Welling 2018, §2.4): the batch of a forward
/// is the bag's K instances h₁…h_K (each H values), the output a batch of one:
///
///     g_k = tanh(V h_k + b_V) ⊙ σ(U h_k + b_U)        A values
///     s_k = wᵀ g_k,   a = softmax_k(s),   z = Σ_k a_k h_k
///
/// V, U: A × H (He initialised), b_V, b_U: A (zero), w: A. The attention has no bias: softmax is
/// invariant to it. Bags may have any size ≥ 1; `attention` holds the last forward's a.
public final class GatedAttentionPool: Layer {
    public let name: String
    public let features: Int
    public let attentionWidth: Int

    var v: ParameterTensor!
    var vBias: ParameterTensor!
    var u: ParameterTensor!
    var uBias: ParameterTensor!
    var w: ParameterTensor!
    private let output = FloatBuffer()
    private let inputGradient = FloatBuffer()
    private let tanhGate = FloatBuffer()  // K × A
    private let sigmoidGate = FloatBuffer()  // K × A
    private let preGradient = FloatBuffer()  // K × A, reused for V then U
    private var cachedInput: Tensor?
    /// a of the last forward, one weight per instance (sums to 1).
    public private(set) var attention: [Float] = []

    public init(name: String, features: Int, attentionWidth: Int) {
        precondition(features > 0 && attentionWidth > 0, "\(name): widths must be positive")
        self.name = name
        self.features = features
        self.attentionWidth = attentionWidth
    }

    public var poolsBatch: Bool { true }

    public var parameterRequests: [ParameterRequest] {
        [ParameterRequest(name: "v", shape: [attentionWidth, features], kind: .weight),
         ParameterRequest(name: "vBias", shape: [attentionWidth], kind: .bias),
         ParameterRequest(name: "u", shape: [attentionWidth, features], kind: .weight),
         ParameterRequest(name: "uBias", shape: [attentionWidth], kind: .bias),
         ParameterRequest(name: "w", shape: [attentionWidth], kind: .weight)]
    }

    public func bind(parameters: ArraySlice<ParameterTensor>, state: ArraySlice<StateTensor>) {
        precondition(parameters.count == 5 && state.isEmpty, "\(name): wrong binding")
        let p = Array(parameters)
        (v, vBias, u, uBias, w) = (p[0], p[1], p[2], p[3], p[4])
    }

    public func initializeParameters(using rng: inout SeededGenerator) {
        HeInitialization.fill(v.value, count: v.count, fanIn: features, using: &rng)
        HeInitialization.fill(u.value, count: u.count, fanIn: features, using: &rng)
        HeInitialization.fill(w.value, count: w.count, fanIn: attentionWidth, using: &rng)
        vBias.value.update(repeating: 0, count: attentionWidth)
        uBias.value.update(repeating: 0, count: attentionWidth)
    }

    public func outputShape(for input: ImageShape) -> ImageShape {
        precondition(input.count == features, "\(name): expects \(features) features per instance, got \(input)")
        return ImageShape(channels: features, height: 1, width: 1)
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let bag = input.shape.batch, a = attentionWidth, h = features
        precondition(bag > 0, "\(name): an empty bag")
        _ = outputShape(for: input.shape.image)
        let gV = tanhGate.reserve(bag * a), gU = sigmoidGate.reserve(bag * a)
        for k in 0..<bag {
            (gV + k * a).update(from: vBias.value, count: a)
            (gU + k * a).update(from: uBias.value, count: a)
        }
        // gV: K × A += x: K × H · Vᵀ: H × A (and the same for U)
        BLAS.sgemm(transB: true, m: bag, n: a, k: h, a: input.data, lda: h, b: v.value, ldb: h, beta: 1, c: gV, ldc: a)
        BLAS.sgemm(transB: true, m: bag, n: a, k: h, a: input.data, lda: h, b: u.value, ldb: h, beta: 1, c: gU, ldc: a)
        var scores = [Double](repeating: 0, count: bag)
        for k in 0..<bag {
            var s = 0.0
            for j in 0..<a {
                let t = tanhf(gV[k * a + j]), g = 1 / (1 + expf(-gU[k * a + j]))
                gV[k * a + j] = t
                gU[k * a + j] = g
                s += Double(w.value[j] * t * g)
            }
            scores[k] = s
        }
        attention = Self.softmax(scores).map(Float.init)
        let z = output.tensor(TensorShape(batch: 1, channels: h, height: 1, width: 1))
        z.data.update(repeating: 0, count: h)
        for k in 0..<bag {
            let ak = attention[k], x = input.image(k)
            for i in 0..<h { z.data[i] += ak * x[i] }
        }
        cachedInput = input
        return z
    }

    public func backward(_ dOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let input = cachedInput else { preconditionFailure("\(name): backward before forward") }
        let bag = input.shape.batch, a = attentionWidth, h = features
        precondition(dOutput.count == h, "\(name): dOutput \(dOutput.shape) is not one bag of \(h)")
        let dz = dOutput.data, gV = tanhGate.pointer, gU = sigmoidGate.pointer
        // da_k = dz · h_k;  ds_k = a_k (da_k − Σ_j a_j da_j)
        var dAttention = [Double](repeating: 0, count: bag)
        for k in 0..<bag {
            let x = input.image(k)
            var s = 0.0
            for i in 0..<h { s += Double(dz[i] * x[i]) }
            dAttention[k] = s
        }
        let mean = zip(attention, dAttention).reduce(0.0) { $0 + Double($1.0) * $1.1 }
        let dScores = (0..<bag).map { Float(Double(attention[$0]) * (dAttention[$0] - mean)) }
        // dw += Σ_k ds_k g_k;  d(pre-tanh) = ds_k w ⊙ σ ⊙ (1 − tanh²), kept in preGradient
        let dPre = preGradient.reserve(bag * a)
        for k in 0..<bag {
            for j in 0..<a {
                let t = gV[k * a + j], g = gU[k * a + j]
                w.gradient[j] += dScores[k] * t * g
                dPre[k * a + j] = dScores[k] * w.value[j] * g * (1 - t * t)
            }
        }
        let dx = needsInputGradient ? inputGradient.tensor(input.shape) : nil
        if let dx {
            for k in 0..<bag {
                let d = dx.image(k)
                for i in 0..<h { d[i] = attention[k] * dz[i] }
            }
        }
        accumulateGate(dPre, weight: v, bias: vBias, input: input, dx: dx)
        for k in 0..<bag {
            for j in 0..<a {
                let t = gV[k * a + j], g = gU[k * a + j]
                dPre[k * a + j] = dScores[k] * w.value[j] * t * g * (1 - g)
            }
        }
        accumulateGate(dPre, weight: u, bias: uBias, input: input, dx: dx)
        return dx
    }

    /// dW += dPreᵀ · x, db += Σ_k dPre_k, dx += dPre · W for one gate.
    private func accumulateGate(_ dPre: UnsafeMutablePointer<Float>, weight: ParameterTensor, bias: ParameterTensor, input: Tensor, dx: Tensor?) {
        let bag = input.shape.batch, a = attentionWidth, h = features
        // dW: A × H += dPreᵀ: A × K · x: K × H
        BLAS.sgemm(transA: true, m: a, n: h, k: bag, a: dPre, lda: a, b: input.data, ldb: h, beta: 1, c: weight.gradient, ldc: h)
        for k in 0..<bag {
            for j in 0..<a { bias.gradient[j] += dPre[k * a + j] }
        }
        // dx: K × H += dPre: K × A · W: A × H
        if let dx { BLAS.sgemm(m: bag, n: h, k: a, a: dPre, lda: a, b: weight.value, ldb: h, beta: 1, c: dx.data, ldc: h) }
    }

    /// Softmax in Double, shifted by the maximum.
    static func softmax(_ s: [Double]) -> [Double] {
        let top = s.max() ?? 0
        let e = s.map { exp($0 - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }

    public func forwardFlops(input: ImageShape) -> Int { 4 * features * attentionWidth + 6 * attentionWidth + 2 * features }
    public func backwardFlops(input: ImageShape, needsInputGradient: Bool) -> Int {
        4 * features * attentionWidth * (needsInputGradient ? 2 : 1) + 8 * attentionWidth + 4 * features
    }

    /// The same pooling in Double over the whole bag (the input's batch).
    public func referenceForward(_ input: ReferenceTensor, parameters p: [Double], state: [Double], training: Bool) -> ReferenceTensor {
        let bag = input.shape.batch, a = attentionWidth, h = features
        var scores = [Double](repeating: 0, count: bag)
        for k in 0..<bag {
            let x = input.values[(k * h)..<((k + 1) * h)]
            for j in 0..<a {
                var pv = p[vBias.offset + j], pu = p[uBias.offset + j]
                for (i, xi) in x.enumerated() {
                    pv += p[v.offset + j * h + i] * xi
                    pu += p[u.offset + j * h + i] * xi
                }
                scores[k] += p[w.offset + j] * tanh(pv) / (1 + exp(-pu))
            }
        }
        let weights = Self.softmax(scores)
        var z = [Double](repeating: 0, count: h)
        for k in 0..<bag {
            for i in 0..<h { z[i] += weights[k] * input.values[k * h + i] }
        }
        return ReferenceTensor(shape: TensorShape(batch: 1, channels: h, height: 1, width: 1), values: z)
    }
}
