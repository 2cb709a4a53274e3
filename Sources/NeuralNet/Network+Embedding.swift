/// Tile embeddings: the input of the classifier (the last layer), e.g. the 256 global-average-pooled
/// channels of refnet-s. What the MIL stage learns from.
extension Network {
    /// The layer whose output is the embedding (the one before the classifier; a Dropout there is
    /// the identity in evaluation, so the embedding is named after the layer before it).
    public var embeddingLayerName: String {
        precondition(layers.count >= 2, "a network of one layer has no embedding")
        return layers.dropLast().last { !($0 is Dropout) }?.name ?? layers[layers.count - 2].name
    }

    /// D, the embedding width.
    public var embeddingWidth: Int {
        layers.dropLast().reduce(inputShape) { $1.outputShape(for: $0) }.count
    }

    /// Evaluation-mode embeddings of a batch: batch × D, row-major. Image by image through the
    /// layers before the classifier, as inference runs (one image's activations stay in cache).
    public func embeddings(_ images: UnsafePointer<Float>, batch: Int) -> [Float] {
        precondition(batch > 0 && !poolsBatchForEmbedding, "embeddings need a per-tile network and a non-empty batch")
        let width = embeddingWidth, body = layers.dropLast()
        var out = [Float](repeating: 0, count: batch * width)
        let input = Tensor(data: UnsafeMutablePointer(mutating: images), shape: TensorShape(batch: batch, image: inputShape))
        out.withUnsafeMutableBufferPointer { o in
            for n in 0..<batch {
                let y = body.reduce(input.images(n, count: 1)) { $1.forward($0, training: false) }
                (o.baseAddress! + n * width).update(from: y.data, count: width)
            }
        }
        return out
    }

    private var poolsBatchForEmbedding: Bool { layers.contains { $0.poolsBatch } }
}
