import TesseraCore

/// Gated attention MIL over bags of tile embeddings (Ilse et al. 2018; CLAM's `attention_net`):
///
///     h_k = ReLU(W₁ x_k + b₁)            D → hidden, per tile
///     dropout (training only)
///     z = Σ_k a_k h_k                    gated attention pooling (`GatedAttentionPool`)
///     logits = W₂ z + b₂                 hidden → classes
///
/// A forward takes one bag (its tiles are the batch) and returns one row of logits.
extension Models {
    public static func gatedAttentionMIL(features: Int, hidden: Int = 256, attentionWidth: Int = 128, classes: Int, dropout: Float = 0,
                                         dropoutSeed: UInt64 = 0) -> [Layer] {
        precondition(classes >= 2, "attention MIL: a classifier needs at least 2 classes, got \(classes)")
        precondition(dropout >= 0 && dropout < 1, "attention MIL: dropout \(dropout) outside [0, 1)")
        var layers: [Layer] = [Linear(name: "embed", inFeatures: features, outFeatures: hidden), ReLU(name: "embedReLU")]
        if dropout > 0 { layers.append(Dropout(name: "dropout", probability: dropout, seed: dropoutSeed)) }
        layers.append(GatedAttentionPool(name: "attention", features: hidden, attentionWidth: attentionWidth))
        layers.append(Linear(name: "classifier", inFeatures: hidden, outFeatures: classes))
        return layers
    }
}

extension Network {
    /// The attention weights of the last forward of a bag network (one per tile, summing to 1), or
    /// nil for a network without attention pooling.
    public var bagAttention: [Float]? { layers.lazy.compactMap { $0 as? GatedAttentionPool }.first?.attention }
}

extension Network {
    /// One bag's training forward, weighted softmax cross-entropy and backward: gradients are
    /// ACCUMULATED with dLogits scaled by `weight` (a class weight over the global number of bags
    /// in the step, so summing bags and ranks gives the step's weighted mean). Returns the bag's
    /// unweighted loss.
    @discardableResult
    public func accumulateBagGradients(bag: UnsafePointer<Float>, tiles: Int, label: Int, weight: Float) -> Double {
        let z = forward(bag, batch: tiles, training: true)
        precondition(z.count == classes, "accumulateBagGradients: the network does not pool its batch into one bag")
        var (loss, d) = SoftmaxCrossEntropy.lossAndGradient(logits: Array(z), labels: [label], classes: classes)
        for j in d.indices { d[j] *= weight }
        backward(d)
        return loss
    }
}
