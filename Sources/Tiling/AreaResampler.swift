import TesseraCore

/// Shrinks an image by area averaging: each output pixel is the mean of the input area it covers,
/// with fractional weights at the borders. The right filter for reducing a scan to a lower
/// magnification (no aliasing of nuclei, no ringing), and exact for integer factors.
public struct AreaResampler: Sendable {
    public let sourceSize: Double
    public let outputSize: Int
    // Per output pixel: the first source index and the weights of the source pixels it covers.
    private let firsts: [Int]
    private let weights: [[Float]]

    /// Maps a square source of side `sourceSize` (may be fractional: the area read beyond it is
    /// ignored) onto `outputSize` pixels.
    public init(sourceSize: Double, outputSize: Int) {
        precondition(sourceSize >= Double(outputSize) - 1e-6 && outputSize > 0, "area resampling only shrinks: \(sourceSize) → \(outputSize)")
        self.sourceSize = sourceSize
        self.outputSize = outputSize
        let scale = sourceSize / Double(outputSize)
        var f: [Int] = [], w: [[Float]] = []
        for o in 0..<outputSize {
            let a = Double(o) * scale, b = Double(o + 1) * scale
            let first = Int(a.rounded(.down))
            var ws: [Float] = []
            var s = first
            while Double(s) < b - 1e-9 {
                let lo = max(a, Double(s)), hi = min(b, Double(s + 1))
                ws.append(Float((hi - lo) / scale))
                s += 1
            }
            f.append(first)
            w.append(ws)
        }
        firsts = f
        weights = w
    }

    /// Resamples the top-left `sourceSize`² area of `image` (which must cover it).
    public func resample(_ image: RGBImage) -> RGBImage {
        let need = (firsts.last ?? 0) + (weights.last?.count ?? 0)
        precondition(image.width >= need && image.height >= need, "source \(image.width)×\(image.height) smaller than the \(need)² needed")
        let n = outputSize
        let srcW = image.width
        // Separable: rows first into floats (n columns × source rows), then columns.
        let srcRows = need
        var horizontal = [Float](repeating: 0, count: srcRows * n * 3)
        image.pixels.withUnsafeBufferPointer { src in
            horizontal.withUnsafeMutableBufferPointer { h in
                for y in 0..<srcRows {
                    let rowBase = y * srcW * 3
                    for o in 0..<n {
                        var r: Float = 0, g: Float = 0, b: Float = 0
                        let ws = weights[o]
                        var i = rowBase + firsts[o] * 3
                        for w in ws {
                            r += w * Float(src[i]); g += w * Float(src[i + 1]); b += w * Float(src[i + 2])
                            i += 3
                        }
                        let d = (y * n + o) * 3
                        h[d] = r; h[d + 1] = g; h[d + 2] = b
                    }
                }
            }
        }
        var out = [UInt8](repeating: 0, count: n * n * 3)
        horizontal.withUnsafeBufferPointer { h in
            out.withUnsafeMutableBufferPointer { dst in
                for o in 0..<n {
                    let ws = weights[o]
                    for x in 0..<n {
                        var r: Float = 0, g: Float = 0, b: Float = 0
                        var y = firsts[o]
                        for w in ws {
                            let s = (y * n + x) * 3
                            r += w * h[s]; g += w * h[s + 1]; b += w * h[s + 2]
                            y += 1
                        }
                        let d = (o * n + x) * 3
                        dst[d] = UInt8(min(255, (r + 0.5).rounded(.down)))
                        dst[d + 1] = UInt8(min(255, (g + 0.5).rounded(.down)))
                        dst[d + 2] = UInt8(min(255, (b + 0.5).rounded(.down)))
                    }
                }
            }
        }
        return RGBImage(width: n, height: n, pixels: out)
    }
}
