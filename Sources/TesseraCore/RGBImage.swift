/// An 8-bit RGB image, rows top to bottom, pixels interleaved R, G, B.
///
/// The one pixel format that flows between the slide reader, the JPEG codec, the tile store and the
/// network's input pipeline, so that no stage converts twice.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// width × height × 3 bytes.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "negative image size \(width)×\(height)")
        precondition(pixels.count == width * height * 3,
                     "RGBImage \(width)×\(height) needs \(width * height * 3) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A blank image filled with one colour (white by default: the colour of glass).
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (255, 255, 255)) {
        var p = [UInt8](repeating: 0, count: width * height * 3)
        if fill.0 == fill.1 && fill.1 == fill.2 {
            p = [UInt8](repeating: fill.0, count: width * height * 3)
        } else {
            for i in stride(from: 0, to: p.count, by: 3) {
                p[i] = fill.0; p[i + 1] = fill.1; p[i + 2] = fill.2
            }
        }
        self.init(width: width, height: height, pixels: p)
    }

    @inlinable public func pixel(x: Int, y: Int) -> (UInt8, UInt8, UInt8) {
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }
}
