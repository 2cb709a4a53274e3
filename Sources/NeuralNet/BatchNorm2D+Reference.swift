extension BatchNorm2D {
    /// Batch statistics (training) or running statistics (evaluation) in Double, two-pass variance;
    /// then the ReLU and the 2×2 max pool when fused.
    public func referenceForward(_ input: ReferenceTensor, parameters: [Double], state: [Double], training: Bool) -> ReferenceTensor {
        let shape = input.shape
        var y = input
        let m = Double(shape.batch * shape.height * shape.width)
        for c in 0..<channels {
            var mu = 0.0, variance = 0.0
            if training {
                for n in 0..<shape.batch { for i in 0..<shape.height { for j in 0..<shape.width { mu += input[n, c, i, j] } } }
                mu /= m
                for n in 0..<shape.batch {
                    for i in 0..<shape.height { for j in 0..<shape.width { variance += (input[n, c, i, j] - mu) * (input[n, c, i, j] - mu) } }
                }
                variance /= m
            } else {
                mu = state[runningMean.offset + c]
                variance = state[runningVariance.offset + c]
            }
            let gamma = parameters[scale.offset + c], beta = parameters[shift.offset + c]
            let s = 1 / (variance + Double(epsilon)).squareRoot()
            for n in 0..<shape.batch {
                for i in 0..<shape.height {
                    for j in 0..<shape.width {
                        let v = gamma * (input[n, c, i, j] - mu) * s + beta
                        y[n, c, i, j] = fusedReLU ? max(v, 0) : v
                    }
                }
            }
        }
        guard fusedMaxPool else { return y }
        let pooled = TensorShape(batch: shape.batch, image: outputShape(for: shape.image))
        var p = ReferenceTensor(shape: pooled, values: [Double](repeating: 0, count: pooled.count))
        for n in 0..<pooled.batch {
            for c in 0..<channels {
                for r in 0..<pooled.height {
                    for q in 0..<pooled.width {
                        p[n, c, r, q] = max(y[n, c, 2 * r, 2 * q], y[n, c, 2 * r, 2 * q + 1], y[n, c, 2 * r + 1, 2 * q], y[n, c, 2 * r + 1, 2 * q + 1])
                    }
                }
            }
        }
        return p
    }
}
