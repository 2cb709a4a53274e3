/// The fused normalise → ReLU → 2×2 stride-2 max pool path of `BatchNorm2D`.
///
/// Forward writes only the pooled output and, per window, which input won (0 1 / 2 3, stored as floats: Swift compiles float vector comparisons to
/// SIMD compares but integer ones to a scalar loop). The
/// affine map is applied before taking the maximum (γ may be negative), ties go to the first input
/// in row-major order, and a window whose maximum is ≤ 0 passes no gradient (the ReLU). Rows and
/// columns past the last whole window are normalised for the statistics but pooled by no window.
/// Eight windows go through SIMD lanes at a time: the left and right inputs of eight neighbouring
/// windows are the even and odd lanes of one 16-float load.
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
                let (av, bv) = (SIMD16<Float>(repeating: a), SIMD16<Float>(repeating: b))
                let x = UnsafePointer(input.image(n) + c * h * w)
                let plane = (n * channels + c) * oh * ow
                for r in 0..<oh {
                    let top = x + 2 * r * w, bottom = top + w
                    let o = y.data + plane + r * ow, k = codes + plane + r * ow
                    var q = 0
                    while q + 8 <= ow {
                        let t = UnsafeRawPointer(top + 2 * q).loadUnaligned(as: SIMD16<Float>.self) * av + bv
                        let u = UnsafeRawPointer(bottom + 2 * q).loadUnaligned(as: SIMD16<Float>.self) * av + bv
                        let (v0, v1, v2, v3) = (t.evenHalf, t.oddHalf, u.evenHalf, u.oddHalf)
                        let upperPick = v1 .> v0, lowerPick = v3 .> v2
                        let upper = v0.replacing(with: v1, where: upperPick), lower = v2.replacing(with: v3, where: lowerPick)
                        let lowerWins = lower .> upper
                        let m = upper.replacing(with: lower, where: lowerWins)
                        let code = SIMD8<Float>(repeating: 0).replacing(with: 1, where: upperPick)
                            .replacing(with: SIMD8<Float>(repeating: 2).replacing(with: 3, where: lowerPick), where: lowerWins)
                        UnsafeMutableRawPointer(o + q).storeBytes(of: m.replacing(with: 0, where: m .<= 0), as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(k + q).storeBytes(of: code, as: SIMD8<Float>.self)
                        q += 8
                    }
                    while q < ow {
                        let v0 = top[2 * q] * a + b, v1 = top[2 * q + 1] * a + b
                        let v2 = bottom[2 * q] * a + b, v3 = bottom[2 * q + 1] * a + b
                        let upper = v1 > v0 ? v1 : v0, upperCode: Float = v1 > v0 ? 1 : 0
                        let lower = v3 > v2 ? v3 : v2, lowerCode: Float = v3 > v2 ? 3 : 2
                        let m = lower > upper ? lower : upper
                        k[q] = lower > upper ? lowerCode : upperCode
                        o[q] = m > 0 ? m : 0
                        q += 1
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
                var a = SIMD8<Float>(), b = SIMD8<Float>()
                var sa: Float = 0, sb: Float = 0
                for r in 0..<oh {
                    let top = x + 2 * r * w, bottom = top + w
                    let o = r * ow
                    var q = 0
                    while q + 8 <= ow {
                        let (live, code) = Self.liveGradient(dOutput.data + plane + o + q, output.data + plane + o + q, codes + plane + o + q)
                        let winner = Self.select(top + 2 * q, bottom + 2 * q, code)
                        a += live
                        b += live * (winner - mu)
                        q += 8
                    }
                    while q < ow {
                        let k = Int(codes[plane + o + q])
                        let g = dOutput.data[plane + o + q]
                        let live = output.data[plane + o + q] > 0 ? g : 0
                        sa += live
                        sb += live * (x[(2 * r + (k >> 1)) * w + 2 * q + (k & 1)] - mu)
                        q += 1
                    }
                }
                s1 += Double(a.sum() + sa)
                s2 += Double(b.sum() + sb)
            }
            scale.gradient[c] += Float(s2) * invStd[c]
            shift.gradient[c] += Float(s1)
            guard let dx else { continue }
            let (k1, k2, k3) = inputGradientCoefficients(channel: c, s1: s1, s2: s2, count: m, training: training)
            for n in 0..<shape.batch {
                Self.pooledInputGradient(x: UnsafePointer(input.image(n) + c * h * w), dy: dOutput.data, y: output.data, codes: codes,
                                         plane: (n * channels + c) * oh * ow, height: h, width: w, k1: k1, k2: k2, k3: k3,
                                         into: dx.image(n) + c * h * w)
            }
        }
        return dx
    }

    /// dx over one plane: every input gets k2·x + k3 (zero in evaluation); each live winner adds k1·dŷ.
    @inline(__always)
    private static func pooledInputGradient(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, y: UnsafePointer<Float>,
                                            codes: UnsafePointer<Float>, plane: Int, height h: Int, width w: Int,
                                            k1: Float, k2: Float, k3: Float, into d: UnsafeMutablePointer<Float>) {
        let (oh, ow) = (h / 2, w / 2)
        let (k2v, k3v) = (SIMD16<Float>(repeating: k2), SIMD16<Float>(repeating: k3))
        for r in 0..<oh {
            let top = 2 * r * w, bottom = top + w
            let o = plane + r * ow
            var q = 0
            while q + 8 <= ow {
                let (live, code) = liveGradient(dy + o + q, y + o + q, codes + o + q)
                let add = live * k1
                var upper = SIMD16<Float>(), lower = SIMD16<Float>()
                upper.evenHalf = add.replacing(with: 0, where: code .!= 0)
                upper.oddHalf = add.replacing(with: 0, where: code .!= 1)
                lower.evenHalf = add.replacing(with: 0, where: code .!= 2)
                lower.oddHalf = add.replacing(with: 0, where: code .!= 3)
                let xt = UnsafeRawPointer(x + top + 2 * q).loadUnaligned(as: SIMD16<Float>.self)
                let xb = UnsafeRawPointer(x + bottom + 2 * q).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(d + top + 2 * q).storeBytes(of: xt * k2v + k3v + upper, as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(d + bottom + 2 * q).storeBytes(of: xb * k2v + k3v + lower, as: SIMD16<Float>.self)
                q += 8
            }
            while q < ow {
                let k = Int(codes[o + q])
                let g = dy[o + q]
                let add = y[o + q] > 0 ? k1 * g : 0
                for i in 0..<4 {
                    let at = (i < 2 ? top : bottom) + 2 * q + (i & 1)
                    d[at] = k2 * x[at] + k3 + (i == k ? add : 0)
                }
                q += 1
            }
            if w % 2 == 1 {
                d[top + w - 1] = k2 * x[top + w - 1] + k3
                d[bottom + w - 1] = k2 * x[bottom + w - 1] + k3
            }
        }
        if h % 2 == 1 {
            let last = (h - 1) * w
            for i in last..<(last + w) { d[i] = k2 * x[i] + k3 }
        }
    }

    /// dŷ of eight windows' winners (0 where the window's output is not positive) and their codes.
    @inline(__always)
    private static func liveGradient(_ dy: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ codes: UnsafePointer<Float>)
        -> (SIMD8<Float>, SIMD8<Float>) {
        let g = UnsafeRawPointer(dy).loadUnaligned(as: SIMD8<Float>.self)
        let out = UnsafeRawPointer(y).loadUnaligned(as: SIMD8<Float>.self)
        let code = UnsafeRawPointer(codes).loadUnaligned(as: SIMD8<Float>.self)
        return (g.replacing(with: 0, where: out .<= 0), code)
    }

    /// The winning input of eight neighbouring windows.
    @inline(__always)
    private static func select(_ top: UnsafePointer<Float>, _ bottom: UnsafePointer<Float>, _ code: SIMD8<Float>) -> SIMD8<Float> {
        let t = UnsafeRawPointer(top).loadUnaligned(as: SIMD16<Float>.self)
        let u = UnsafeRawPointer(bottom).loadUnaligned(as: SIMD16<Float>.self)
        return t.evenHalf.replacing(with: t.oddHalf, where: code .== 1).replacing(with: u.evenHalf, where: code .== 2)
            .replacing(with: u.oddHalf, where: code .== 3)
    }
}
