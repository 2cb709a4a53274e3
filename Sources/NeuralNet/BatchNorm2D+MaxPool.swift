/// The fused normalise → ReLU → 2×2 stride-2 max pool path of `BatchNorm2D`.
///
/// Forward writes only the pooled output and, per window, which input won (a byte). The affine
/// map is applied before taking the maximum (γ may be negative), ties go to the first input in
/// row-major order, and a window whose maximum is ≤ 0 passes no gradient (the ReLU). Rows and
/// columns past the last whole window are normalised for the statistics but pooled by no window.
extension BatchNorm2D {
    func forwardPooled(_ input: Tensor, into y: Tensor) {
        let shape = input.shape
        let (h, w) = (shape.height, shape.width)
        let (oh, ow) = (h / 2, w / 2)
        let codes = windowArgmax.reserve(y.count)
        for n in 0..<shape.batch {
            for c in 0..<channels {
                let a = scale.value[c] * invStd[c]
                let b = shift.value[c] - mean[c] * a
                let x = UnsafePointer(input.image(n) + c * h * w)
                let plane = (n * channels + c) * oh * ow
                let out = y.data + plane, code = codes + plane
                for r in 0..<oh {
                    let top = x + 2 * r * w, bottom = top + w
                    let o = out + r * ow, k = code + r * ow
                    for q in 0..<ow {
                        // Branch-free selects: the comparisons are unpredictable.
                        let v0 = top[2 * q] * a + b, v1 = top[2 * q + 1] * a + b
                        let v2 = bottom[2 * q] * a + b, v3 = bottom[2 * q + 1] * a + b
                        let upper = v1 > v0 ? v1 : v0, upperCode: UInt8 = v1 > v0 ? 1 : 0
                        let lower = v3 > v2 ? v3 : v2, lowerCode: UInt8 = v3 > v2 ? 3 : 2
                        let m = lower > upper ? lower : upper
                        k[q] = lower > upper ? lowerCode : upperCode
                        o[q] = m > 0 ? m : 0
                    }
                }
            }
        }
    }

    func backwardPooled(_ dOutput: Tensor, input: Tensor, output: Tensor, training: Bool, needsInputGradient: Bool) -> Tensor? {
        let shape = input.shape
        let (h, w) = (shape.height, shape.width)
        let (oh, ow) = (h / 2, w / 2)
        let m = Float(shape.batch * h * w)
        let codes = UnsafePointer(windowArgmax.pointer)
        let dx = needsInputGradient ? inputGradient.tensor(shape) : nil
        for c in 0..<channels {
            let mu = mean[c]
            // S1 = Σ dŷ, S2 = Σ dŷ·(x − μ): dŷ is nonzero only at each live window's winner.
            var s1 = 0.0, s2 = 0.0
            for n in 0..<shape.batch {
                let x = UnsafePointer(input.image(n) + c * h * w)
                let plane = (n * channels + c) * oh * ow
                let dy = dOutput.data + plane, y = output.data + plane, code = codes + plane
                var a: Float = 0, b: Float = 0
                for r in 0..<oh {
                    for q in 0..<ow {
                        let o = r * ow + q
                        let k = Int(code[o])
                        let g = dy[o], v = x[(2 * r + (k >> 1)) * w + 2 * q + (k & 1)]
                        let live = y[o] > 0 ? g : 0
                        a += live
                        b += live * (v - mu)
                    }
                }
                s1 += Double(a)
                s2 += Double(b)
            }
            scale.gradient[c] += Float(s2) * invStd[c]
            shift.gradient[c] += Float(s1)
            guard let dx else { continue }
            let (k1, k2, k3) = inputGradientCoefficients(channel: c, s1: s1, s2: s2, count: m, training: training)
            for n in 0..<shape.batch {
                let x = UnsafePointer(input.image(n) + c * h * w), d = dx.image(n) + c * h * w
                // Every input gets k2·x + k3 (zero in evaluation); each live winner adds k1·dŷ.
                for i in 0..<(h * w) { d[i] = k2 * x[i] + k3 }
                let plane = (n * channels + c) * oh * ow
                let dy = dOutput.data + plane, y = output.data + plane, code = codes + plane
                for r in 0..<oh {
                    for q in 0..<ow {
                        let o = r * ow + q
                        let k = Int(code[o])
                        let g = dy[o]
                        d[(2 * r + (k >> 1)) * w + 2 * q + (k & 1)] += y[o] > 0 ? k1 * g : 0
                    }
                }
            }
        }
        return dx
    }
}
