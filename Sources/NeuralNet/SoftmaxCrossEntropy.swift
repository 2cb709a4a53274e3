import Foundation

/// Softmax cross-entropy over a batch of logits, averaged over the batch.
///
/// loss = (1/N) Σₙ [logsumexp(zₙ) − zₙ,yₙ], dLogits = (softmax(zₙ) − onehot(yₙ)) / N. Each row is
/// shifted by its maximum before exponentiating and summed in Double, so large logits neither
/// overflow nor lose the small probabilities.
public enum SoftmaxCrossEntropy {
    /// logits, dLogits: batch × classes, row-major; labels: batch values in 0..<classes.
    /// Returns the mean loss; writes dLogits (overwrites).
    @discardableResult
    public static func lossAndGradient(logits: UnsafePointer<Float>, labels: UnsafeBufferPointer<Int32>, classes: Int,
                                       dLogits: UnsafeMutablePointer<Float>) -> Double {
        let batch = labels.count
        precondition(batch > 0 && classes > 0, "softmax cross-entropy: batch \(batch), classes \(classes)")
        var total = 0.0
        let scale = 1 / Double(batch)
        for n in 0..<batch {
            let label = Int(labels[n])
            precondition(label >= 0 && label < classes, "softmax cross-entropy: label \(label) of image \(n) outside 0..<\(classes)")
            let z = logits + n * classes, d = dLogits + n * classes
            var argmax = 0
            for j in 1..<max(classes, 1) where z[j] > z[argmax] { argmax = j }
            let top = z[argmax]
            // log Σ exp(z − top) = log1p(Σ over the others): keeps a confident loss like 1e-26.
            var others = 0.0
            for j in 0..<classes where j != argmax { others += exp(Double(z[j] - top)) }
            let logSum = log1p(others)
            total += logSum - Double(z[label] - top)
            for j in 0..<classes {
                let p = exp(Double(z[j] - top) - logSum)
                d[j] = Float((p - (j == label ? 1 : 0)) * scale)
            }
        }
        return total * scale
    }

    /// Array form: returns (mean loss, dLogits).
    public static func lossAndGradient(logits: [Float], labels: [Int], classes: Int) -> (loss: Double, dLogits: [Float]) {
        precondition(logits.count == labels.count * classes, "softmax cross-entropy: \(logits.count) logits for \(labels.count) labels × \(classes) classes")
        var d = [Float](repeating: 0, count: logits.count)
        let labels32 = labels.map { Int32($0) }
        let loss = logits.withUnsafeBufferPointer { z in
            labels32.withUnsafeBufferPointer { y in
                d.withUnsafeMutableBufferPointer { lossAndGradient(logits: z.baseAddress!, labels: y, classes: classes, dLogits: $0.baseAddress!) }
            }
        }
        return (loss, d)
    }

    /// Softmax probabilities of each row, computed stably.
    public static func probabilities(logits: [Float], classes: Int) -> [Float] {
        precondition(classes > 0 && logits.count % classes == 0, "softmax: \(logits.count) logits is not a multiple of \(classes) classes")
        var p = [Float](repeating: 0, count: logits.count)
        for start in stride(from: 0, to: logits.count, by: classes) {
            let row = logits[start..<(start + classes)]
            let top = row.max()!
            let sum = row.reduce(0.0) { $0 + exp(Double($1 - top)) }
            for j in 0..<classes { p[start + j] = Float(exp(Double(logits[start + j] - top)) / sum) }
        }
        return p
    }
}
