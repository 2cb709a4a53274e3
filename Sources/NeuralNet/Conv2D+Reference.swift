extension Conv2D {
    /// Direct convolution in Double: six nested loops, no im2col, no BLAS.
    public func referenceForward(_ input: ReferenceTensor, parameters: [Double], state: [Double], training: Bool) -> ReferenceTensor {
        let shape = TensorShape(batch: input.shape.batch, image: outputShape(for: input.shape.image))
        var y = ReferenceTensor(shape: shape, values: [Double](repeating: 0, count: shape.count))
        let w0 = weight.offset
        for n in 0..<shape.batch {
            for co in 0..<outChannels {
                for oy in 0..<shape.height {
                    for ox in 0..<shape.width {
                        var s = bias.map { parameters[$0.offset + co] } ?? 0
                        for ci in 0..<inChannels {
                            for ky in 0..<kernel {
                                let iy = oy * stride - padding + ky
                                guard iy >= 0 && iy < input.shape.height else { continue }
                                for kx in 0..<kernel {
                                    let ix = ox * stride - padding + kx
                                    guard ix >= 0 && ix < input.shape.width else { continue }
                                    s += parameters[w0 + ((co * inChannels + ci) * kernel + ky) * kernel + kx] * input[n, ci, iy, ix]
                                }
                            }
                        }
                        y[n, co, oy, ox] = s
                    }
                }
            }
        }
        return y
    }
}
