import TesseraCore

/// Shrinks a stream of image rows by 4 in each direction, averaging each 4×4 block (a box filter,
/// as a scanner's pyramid does). Fed strips of any height, top to bottom; emits finished rows as
/// they complete. Partial blocks at the right and bottom edges are dropped (sizes round down).
public struct AreaDownsampler: Sendable {
    public static let factor = PyramidLayout.factor
    public let inputWidth: Int
    public let outputWidth: Int
    /// Channel sums of the block row being accumulated: outputWidth × 3.
    private var sums: [UInt32]
    private var rowsInBlock = 0

    public init(inputWidth: Int) {
        self.inputWidth = inputWidth
        outputWidth = inputWidth / Self.factor
        sums = [UInt32](repeating: 0, count: outputWidth * 3)
    }

    /// Adds the rows of `strip` (inputWidth wide) and returns the output rows they completed
    /// (possibly none: an image of height 0).
    public mutating func push(_ strip: RGBImage) -> RGBImage {
        precondition(strip.width == inputWidth, "strip width \(strip.width) ≠ \(inputWidth)")
        let f = Self.factor
        let blockArea = UInt32(f * f)
        var out: [UInt8] = []
        out.reserveCapacity(((rowsInBlock + strip.height) / f) * outputWidth * 3)
        let pixels = strip.pixels
        for y in 0..<strip.height {
            let rowStart = y * inputWidth * 3
            for ox in 0..<outputWidth {
                let s = rowStart + ox * f * 3
                var r: UInt32 = 0, g: UInt32 = 0, b: UInt32 = 0
                for k in 0..<f {
                    r += UInt32(pixels[s + 3 * k])
                    g += UInt32(pixels[s + 3 * k + 1])
                    b += UInt32(pixels[s + 3 * k + 2])
                }
                sums[3 * ox] += r
                sums[3 * ox + 1] += g
                sums[3 * ox + 2] += b
            }
            rowsInBlock += 1
            if rowsInBlock == f {
                for i in 0..<sums.count {
                    out.append(UInt8((sums[i] + blockArea / 2) / blockArea))
                    sums[i] = 0
                }
                rowsInBlock = 0
            }
        }
        return RGBImage(width: outputWidth, height: out.count / max(1, outputWidth * 3), pixels: out)
    }
}
