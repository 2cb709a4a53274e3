/// The shape of one image (or one feature map) in NCHW order: channels × height × width.
public struct ImageShape: Hashable, Sendable, Codable, CustomStringConvertible {
    public var channels: Int
    public var height: Int
    public var width: Int

    public init(channels: Int, height: Int, width: Int) {
        self.channels = channels
        self.height = height
        self.width = width
    }

    /// Elements per image.
    public var count: Int { channels * height * width }
    /// Elements per channel plane.
    public var planeCount: Int { height * width }
    public var description: String { "\(channels)×\(height)×\(width)" }
}

/// The shape of a batch: batch × channels × height × width, batch-major (NCHW), float32.
public struct TensorShape: Hashable, Sendable, Codable, CustomStringConvertible {
    public var batch: Int
    public var image: ImageShape

    public init(batch: Int, image: ImageShape) {
        self.batch = batch
        self.image = image
    }

    public init(batch: Int, channels: Int, height: Int, width: Int) {
        self.init(batch: batch, image: ImageShape(channels: channels, height: height, width: width))
    }

    public var channels: Int { image.channels }
    public var height: Int { image.height }
    public var width: Int { image.width }
    public var count: Int { batch * image.count }
    public var description: String { "\(batch)×\(image)" }
}

/// An NCHW float32 view. Layers return views into buffers they own; a view's contents stay valid
/// until the layer's next `forward` (outputs) or `backward` (input gradients). A view made by
/// `FloatBuffer.tensor` keeps its buffer alive; one made from a bare pointer does not.
public struct Tensor {
    public let data: UnsafeMutablePointer<Float>
    public let shape: TensorShape
    private let owner: AnyObject?

    /// A view of memory the caller keeps alive and unchanged while the view is in use.
    public init(data: UnsafeMutablePointer<Float>, shape: TensorShape) {
        self.init(data: data, shape: shape, owner: nil)
    }

    init(data: UnsafeMutablePointer<Float>, shape: TensorShape, owner: AnyObject?) {
        self.data = data
        self.shape = shape
        self.owner = owner
    }

    public var count: Int { shape.count }
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: data, count: count) }

    /// Image `n` of the batch: channels × height × width floats.
    @inline(__always) public func image(_ n: Int) -> UnsafeMutablePointer<Float> { data + n * shape.image.count }

    /// Images `n ..< n + count` as a batch of their own (no copy).
    public func images(_ n: Int, count: Int) -> Tensor {
        precondition(n >= 0 && count >= 0 && n + count <= shape.batch, "images \(n)..<\(n + count) outside a batch of \(shape.batch)")
        return Tensor(data: image(n), shape: TensorShape(batch: count, image: shape.image), owner: owner)
    }

    public func toArray() -> [Float] { Array(buffer) }
}

/// Owned, 64-byte-aligned float storage that grows on demand and is reused across calls, so hot paths
/// never allocate once the largest batch has been seen. Contents are undefined after growth.
public final class FloatBuffer {
    public private(set) var pointer: UnsafeMutablePointer<Float>
    public private(set) var capacity: Int

    public init(capacity: Int = 0) {
        self.capacity = max(capacity, 0)
        pointer = FloatBuffer.allocate(self.capacity)
    }

    deinit { pointer.deallocate() }

    /// A pointer to at least `count` floats.
    @discardableResult
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        precondition(count >= 0, "negative buffer size \(count)")
        if count > capacity {
            pointer.deallocate()
            pointer = FloatBuffer.allocate(count)
            capacity = count
        }
        return pointer
    }

    /// A tensor view of `shape` over this buffer, growing it if needed.
    public func tensor(_ shape: TensorShape) -> Tensor { Tensor(data: reserve(shape.count), shape: shape, owner: self) }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        let p = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        p.initialize(repeating: 0, count: max(count, 1))
        return p
    }
}

/// Owned storage of a trivial type (argmax indices of max pooling), growing on demand; contents
/// are undefined after growth.
final class ScratchBuffer<Element: BitwiseCopyable> {
    private(set) var pointer: UnsafeMutablePointer<Element>
    private(set) var capacity: Int

    init() {
        capacity = 0
        pointer = .allocate(capacity: 1)
    }

    deinit { pointer.deallocate() }

    @discardableResult
    func reserve(_ count: Int) -> UnsafeMutablePointer<Element> {
        if count > capacity {
            pointer.deallocate()
            pointer = .allocate(capacity: max(count, 1))
            capacity = count
        }
        return pointer
    }
}
