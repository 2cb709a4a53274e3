import BLAS
import Foundation
import TesseraCore

/// 2-D convolution, square kernel, any stride and zero padding.
///
/// - General path: im2col + one sgemm per image (darknet `convolutional_layer.c`). Per-image GEMMs
///   measured as fast as one wide GEMM over the batch (their operands stay in cache) and write NCHW
///   output directly. The column matrix lives in a workspace that all convolutions of a network
///   share; a 1×1 stride-1 unpadded convolution reads its input directly.
/// - 3×3 stride-1 pad-1 on even-sized maps, ≥ 16 channels each side: Winograd F(2×2, 3×3) for the
///   forward pass and dInput (`WinogradConvolution`), 2.25× fewer multiply-adds.
/// - dWeights always by im2col, as dWᵀ = col · dyᵀ per image.
///
/// Weights: outChannels × inChannels × kernel × kernel; bias: outChannels (omit it before BatchNorm,
/// which cancels it). `forwardFlops` counts the direct convolution (2·Cout·Cin·k²·H·W), the usual
/// figure of merit, whatever algorithm runs.
public final class Conv2D: Layer {
    public let name: String
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let hasBias: Bool

    /// Run 3×3 stride-1 pad-1 convolutions on even-sized maps with ≥ 16 channels in and out (forward
    /// and dInput) by Winograd F(2×2, 3×3) instead of im2col + GEMM (measured 1.3–2× faster on
    /// refnet-s's layers). On by default; the weight gradient always uses im2col.
    public var useWinograd = true

    private let workspace: FloatBuffer
    private let winogradForward = WinogradConvolution()
    private let winogradAdjoint = WinogradConvolution()
    /// The weights the forward Winograd transform was computed from. The transform is redone only
    /// when the weights differ (an optimiser step, a load, a finite-difference probe): comparing
    /// 4·Cout·Cin·9 bytes costs a fraction of the transform, and no caller has to promise anything.
    private var forwardTransformWeights: [Float] = []
    private let output = FloatBuffer()
    private let inputGradient = FloatBuffer()
    private let transposedWeightGradient = FloatBuffer()
    var weight: ParameterTensor!
    var bias: ParameterTensor?
    private var cachedInput: Tensor?

    public init(name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, workspace: FloatBuffer = FloatBuffer()) {
        precondition(inChannels > 0 && outChannels > 0, "\(name): channel counts must be positive")
        precondition(kernel > 0 && stride > 0 && padding >= 0, "\(name): kernel \(kernel), stride \(stride), padding \(padding)")
        self.name = name
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.hasBias = bias
        self.workspace = workspace
    }

    /// K of the GEMM: inputs that feed one output value.
    public var fanIn: Int { inChannels * kernel * kernel }
    private var readsInputDirectly: Bool { kernel == 1 && stride == 1 && padding == 0 }

    public var parameterRequests: [ParameterRequest] {
        var r = [ParameterRequest(name: "weight", shape: [outChannels, inChannels, kernel, kernel], kind: .weight)]
        if hasBias { r.append(ParameterRequest(name: "bias", shape: [outChannels], kind: .bias)) }
        return r
    }

    public func bind(parameters: ArraySlice<ParameterTensor>, state: ArraySlice<StateTensor>) {
        precondition(parameters.count == (hasBias ? 2 : 1) && state.isEmpty, "\(name): wrong binding")
        weight = parameters.first
        bias = hasBias ? parameters.last : nil
    }

    public func initializeParameters(using rng: inout SeededGenerator) {
        HeInitialization.fill(weight.value, count: weight.count, fanIn: fanIn, using: &rng)
        if let bias { bias.value.update(repeating: 0, count: bias.count) }
    }

    func geometry(_ input: ImageShape) -> Im2Col.Geometry {
        precondition(input.channels == inChannels, "\(name): expects \(inChannels) input channels, got \(input)")
        let oh = (input.height + 2 * padding - kernel) / stride + 1
        let ow = (input.width + 2 * padding - kernel) / stride + 1
        precondition(input.height + 2 * padding >= kernel && input.width + 2 * padding >= kernel,
                     "\(name): input \(input) smaller than the \(kernel)×\(kernel) kernel with padding \(padding)")
        return Im2Col.Geometry(channels: inChannels, height: input.height, width: input.width, kernel: kernel,
                               stride: stride, padding: padding, outHeight: oh, outWidth: ow)
    }

    public func outputShape(for input: ImageShape) -> ImageShape {
        let g = geometry(input)
        return ImageShape(channels: outChannels, height: g.outHeight, width: g.outWidth)
    }

    /// Winograd pays off from 16 channels on each side (measured: on the 3-channel first layer its
    /// transforms cost more than the GEMM they save).
    func usesWinograd(_ input: ImageShape) -> Bool {
        useWinograd && min(inChannels, outChannels) >= 16
            && WinogradConvolution.applies(kernel: kernel, stride: stride, padding: padding, height: input.height, width: input.width)
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let g = geometry(input.shape.image)
        let (k, p) = (g.rows, g.columns)
        let y = output.tensor(TensorShape(batch: input.shape.batch, image: outputShape(for: input.shape.image)))
        cachedInput = input
        if usesWinograd(input.shape.image) {
            let same = forwardTransformWeights.count == weight.count
                && forwardTransformWeights.withUnsafeBytes { memcmp($0.baseAddress!, weight.value, $0.count) == 0 }
            if !same {
                winogradForward.transformWeights(weight.value, outChannels: outChannels, inChannels: inChannels, adjoint: false)
                forwardTransformWeights = Array(UnsafeBufferPointer(start: weight.value, count: weight.count))
            }
            winogradForward.convolve(input.data, batch: input.shape.batch, height: g.height, width: g.width, into: y.data)
            if let bias {
                for n in 0..<input.shape.batch {
                    for co in 0..<outChannels {
                        let plane = y.image(n) + co * p, b = bias.value[co]
                        for i in 0..<p { plane[i] += b }
                    }
                }
            }
            return y
        }
        let col = readsInputDirectly ? nil : workspace.reserve(k * p)
        for n in 0..<input.shape.batch {
            let x = input.image(n), yn = y.image(n)
            if let col { Im2Col.unfold(x, g, into: col) }
            if let bias {
                for co in 0..<outChannels { (yn + co * p).update(repeating: bias.value[co], count: p) }
            }
            // y[n]: Cout × P = W: Cout × K · col: K × P
            BLAS.sgemm(m: outChannels, n: p, k: k, a: weight.value, lda: k, b: col ?? x, ldb: p,
                       beta: hasBias ? 1 : 0, c: yn, ldc: p)
        }
        return y
    }

    public func backward(_ dOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let input = cachedInput else { preconditionFailure("\(name): backward before forward") }
        let g = geometry(input.shape.image)
        let (k, p) = (g.rows, g.columns)
        precondition(dOutput.shape == TensorShape(batch: input.shape.batch, image: outputShape(for: input.shape.image)),
                     "\(name): dOutput \(dOutput.shape) does not match the last forward")
        let dx = needsInputGradient ? inputGradient.tensor(input.shape) : nil
        let winograd = usesWinograd(input.shape.image)
        let col = readsInputDirectly ? nil : workspace.reserve(k * p)
        let dWT = transposedWeightGradient.reserve(k * outChannels)
        for n in 0..<input.shape.batch {
            let x = input.image(n), dy = dOutput.image(n)
            if let col { Im2Col.unfold(x, g, into: col) }
            // dWᵀ: K × Cout (+)= col: K × P · dy[n]ᵀ: P × Cout. This orientation (M = K, N = Cout)
            // measured up to 2× faster than dW = dy·colᵀ (M = Cout) for the small-Cout layers.
            BLAS.sgemm(transB: true, m: k, n: outChannels, k: p, a: col ?? x, lda: p, b: dy, ldb: p,
                       beta: n == 0 ? 0 : 1, c: dWT, ldc: outChannels)
            if let bias {
                for co in 0..<outChannels { bias.gradient[co] += Kernels.sum(dy + co * p, count: p) }
            }
            guard let dx, !winograd else { continue }
            if let col {
                // dcol: K × P = Wᵀ: K × Cout · dy[n]: Cout × P, then folded back onto the image.
                BLAS.sgemm(transA: true, m: k, n: p, k: outChannels, a: weight.value, lda: k, b: dy, ldb: p,
                           beta: 0, c: col, ldc: p)
                Im2Col.fold(col, g, into: dx.image(n))
            } else {
                BLAS.sgemm(transA: true, m: k, n: p, k: outChannels, a: weight.value, lda: k, b: dy, ldb: p,
                           beta: 0, c: dx.image(n), ldc: p)
            }
        }
        if let dx, winograd {
            // dInput = the 3×3 pad-1 convolution of dOutput with the filters transposed and rotated.
            winogradAdjoint.transformWeights(weight.value, outChannels: outChannels, inChannels: inChannels, adjoint: true)
            winogradAdjoint.convolve(dOutput.data, batch: input.shape.batch, height: g.height, width: g.width, into: dx.data)
        }
        guard input.shape.batch > 0 else { return dx }
        let dW = weight.gradient
        for co in 0..<outChannels {
            let row = dW + co * k
            for j in 0..<k { row[j] += dWT[j * outChannels + co] }
        }
        return dx
    }

    public func forwardFlops(input: ImageShape) -> Int {
        let g = geometry(input)
        return 2 * outChannels * g.rows * g.columns
    }

    public func backwardFlops(input: ImageShape, needsInputGradient: Bool) -> Int {
        forwardFlops(input: input) * (needsInputGradient ? 2 : 1)
    }
}
