/// Max pooling over kernel × kernel windows at a stride, no padding (output = ⌊(H − k)/s⌋ + 1; rows
/// and columns past the last whole window are dropped and get zero gradient). Ties go to the first
/// element in row-major order. The forward pass records each window's argmax for backward.
public final class MaxPool2D: Layer {
    public let name: String
    public let kernel: Int
    public let stride: Int

    private let output = FloatBuffer()
    private let inputGradient = FloatBuffer()
    private let argmax = ScratchBuffer<Int32>()
    private var cachedInputShape: TensorShape?

    public init(name: String, kernel: Int, stride: Int? = nil) {
        precondition(kernel > 0 && (stride ?? kernel) > 0, "\(name): kernel \(kernel), stride \(stride ?? kernel)")
        self.name = name
        self.kernel = kernel
        self.stride = stride ?? kernel
    }

    public func outputShape(for input: ImageShape) -> ImageShape {
        precondition(input.height >= kernel && input.width >= kernel, "\(name): input \(input) smaller than the \(kernel)×\(kernel) window")
        return ImageShape(channels: input.channels, height: (input.height - kernel) / stride + 1,
                          width: (input.width - kernel) / stride + 1)
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let inShape = input.shape
        let outImage = outputShape(for: inShape.image)
        let y = output.tensor(TensorShape(batch: inShape.batch, image: outImage))
        let planes = inShape.batch * inShape.channels
        let (h, w, oh, ow) = (inShape.height, inShape.width, outImage.height, outImage.width)
        let index = argmax.reserve(planes * oh * ow)
        for pl in 0..<planes {
            let x = UnsafePointer(input.data + pl * h * w)
            let out = y.data + pl * oh * ow, idx = index + pl * oh * ow
            if kernel == 2 && stride == 2 {
                for r in 0..<oh {
                    let top = x + 2 * r * w, bottom = top + w
                    let o = out + r * ow, ix = idx + r * ow
                    let base = Int32(truncatingIfNeeded: 2 * r * w), down = Int32(truncatingIfNeeded: w)
                    for c in 0..<ow {
                        // Branch-free (selects): activations after ReLU make the comparisons unpredictable.
                        let a = top[2 * c], b = top[2 * c + 1], d = bottom[2 * c], e = bottom[2 * c + 1]
                        let at0 = base &+ Int32(truncatingIfNeeded: 2 * c)
                        let upper = b > a ? b : a, upperAt = b > a ? at0 &+ 1 : at0
                        let lower = e > d ? e : d, lowerAt = e > d ? at0 &+ down &+ 1 : at0 &+ down
                        o[c] = lower > upper ? lower : upper
                        ix[c] = lower > upper ? lowerAt : upperAt
                    }
                }
            } else {
                for r in 0..<oh {
                    for c in 0..<ow {
                        var at = r * stride * w + c * stride
                        var best = x[at]
                        for ky in 0..<kernel {
                            for kx in 0..<kernel {
                                let i = (r * stride + ky) * w + c * stride + kx
                                if x[i] > best { best = x[i]; at = i }
                            }
                        }
                        out[r * ow + c] = best
                        idx[r * ow + c] = Int32(at)
                    }
                }
            }
        }
        cachedInputShape = inShape
        return y
    }

    public func backward(_ dOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let inShape = cachedInputShape else { preconditionFailure("\(name): backward before forward") }
        let outImage = outputShape(for: inShape.image)
        precondition(dOutput.shape == TensorShape(batch: inShape.batch, image: outImage), "\(name): dOutput \(dOutput.shape) does not match the last forward")
        guard needsInputGradient else { return nil }
        let dx = inputGradient.tensor(inShape)
        dx.data.update(repeating: 0, count: dx.count)
        let (plane, outPlane) = (inShape.image.planeCount, outImage.planeCount)
        let index = argmax.pointer
        for pl in 0..<(inShape.batch * inShape.channels) {
            let d = dx.data + pl * plane, dy = dOutput.data + pl * outPlane, idx = index + pl * outPlane
            for o in 0..<outPlane { d[Int(idx[o])] += dy[o] }
        }
        return dx
    }

    public func forwardFlops(input: ImageShape) -> Int { outputShape(for: input).count * kernel * kernel }
    public func backwardFlops(input: ImageShape, needsInputGradient: Bool) -> Int { needsInputGradient ? outputShape(for: input).count : 0 }

    public func referenceForward(_ input: ReferenceTensor, parameters: [Double], state: [Double], training: Bool) -> ReferenceTensor {
        let shape = TensorShape(batch: input.shape.batch, image: outputShape(for: input.shape.image))
        var y = ReferenceTensor(shape: shape, values: [Double](repeating: 0, count: shape.count))
        for n in 0..<shape.batch {
            for c in 0..<shape.channels {
                for r in 0..<shape.height {
                    for q in 0..<shape.width {
                        var best = -Double.infinity
                        for ky in 0..<kernel { for kx in 0..<kernel { best = max(best, input[n, c, r * stride + ky, q * stride + kx]) } }
                        y[n, c, r, q] = best
                    }
                }
            }
        }
        return y
    }
}
