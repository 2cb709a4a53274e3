/// Two batches of `batch` input images (3×S×S normalised floats each, NCHW) that alternate: one
/// being decoded while the network runs on the other. The trainer's loader and the predictor's
/// scorer both pipeline this way. Owners must wait for their background work before releasing it.
public final class BatchBuffers: @unchecked Sendable {
    /// Floats in one image.
    public let plane: Int
    private let buffers: [UnsafeMutableBufferPointer<Float>]

    public init(batch: Int, inputSize: Int) {
        precondition(batch >= 1 && inputSize >= 1, "batch \(batch), input size \(inputSize)")
        plane = 3 * inputSize * inputSize
        let count = batch * plane
        buffers = (0..<2).map { _ in
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
            b.initialize(repeating: 0)
            return b
        }
    }

    deinit { for b in buffers { b.deallocate() } }

    /// Batch 0 or 1.
    public subscript(slot: Int) -> UnsafeMutableBufferPointer<Float> { buffers[slot] }
}
