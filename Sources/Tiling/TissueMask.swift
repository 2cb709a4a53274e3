import TesseraCore

/// A low-resolution map of where tissue may be, to skip reading slide regions that are certainly glass.
///
/// It must never skip a tile that the per-tile rule would keep, so it is built to err towards
/// "may be tissue": a low-resolution pixel counts as possible tissue when it is darker than the
/// background threshold plus a margin, or coloured (stain) at all; the map is then dilated by one
/// pixel; and a tile is skipped only when no pixel of its (dilated) footprint may be tissue. Under
/// the Otsu rule a pixel also may be tissue when its saturation is within `saturationMargin` of the
/// slide's threshold (area averaging lowers saturation at tissue edges).
public struct TissueMask: Sendable {
    public let width: Int
    public let height: Int
    /// Level-0 pixels per mask pixel.
    public let downsample: Double
    private let possible: [Bool]

    /// - Parameters:
    ///   - image: the slide at a low-resolution level.
    ///   - downsample: level-0 pixels per pixel of `image`.
    public init(image: RGBImage, downsample: Double, rule: BackgroundRule,
                luminanceMargin: Double = 10, saturationLimit: Int = 25, saturationMargin: Int = 20) {
        width = image.width
        height = image.height
        self.downsample = downsample
        let limit = Int(((rule.threshold + luminanceMargin) * 1000).rounded(.down))
        var raw = [Bool](repeating: false, count: width * height)
        for i in 0..<(width * height) {
            let r = Int(image.pixels[3 * i]), g = Int(image.pixels[3 * i + 1]), b = Int(image.pixels[3 * i + 2])
            let y = 299 * r + 587 * g + 114 * b
            let saturation = max(r, g, b) - min(r, g, b)
            raw[i] = y < limit || saturation > saturationLimit
            if let t = rule.saturationThreshold, !raw[i] {
                raw[i] = OtsuThreshold.saturation(r, g, b) > t - saturationMargin
            }
        }
        var dilated = raw
        for y in 0..<height {
            for x in 0..<width where raw[y * width + x] {
                for dy in -1...1 {
                    for dx in -1...1 {
                        let nx = x + dx, ny = y + dy
                        if nx >= 0 && ny >= 0 && nx < width && ny < height { dilated[ny * width + nx] = true }
                    }
                }
            }
        }
        possible = dilated
    }

    /// Whether the level-0 rectangle may hold tissue.
    public func mayContainTissue(x: Int, y: Int, width w: Int, height h: Int) -> Bool {
        let x0 = max(0, Int((Double(x) / downsample).rounded(.down)))
        let y0 = max(0, Int((Double(y) / downsample).rounded(.down)))
        let x1 = min(width - 1, Int((Double(x + w) / downsample).rounded(.up)))
        let y1 = min(height - 1, Int((Double(y + h) / downsample).rounded(.up)))
        guard x0 <= x1 && y0 <= y1 else { return true }
        for yy in y0...y1 { for xx in x0...x1 where possible[yy * width + xx] { return true } }
        return false
    }

    /// The Otsu rule's saturation threshold for a slide, from its thumbnail, kept within
    /// `bounds`: a slide that is nearly all tissue or all glass has no useful split of its own.
    public static func otsuSaturationThreshold(thumbnail: RGBImage, bounds: ClosedRange<Int> = 10...60) -> Int {
        let t = OtsuThreshold.threshold(histogram: OtsuThreshold.saturationHistogram(thumbnail.pixels)) ?? bounds.lowerBound
        return min(max(t, bounds.lowerBound), bounds.upperBound)
    }

    /// Fraction of the mask that may be tissue (for logs).
    public var tissueFraction: Double { Double(possible.filter { $0 }.count) / Double(max(possible.count, 1)) }
}
