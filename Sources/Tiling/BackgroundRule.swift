import TesseraCore

/// Which pixels are glass and which tiles are kept.
///
/// A pixel is background when its luminance (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B) is at least
/// `threshold` (220 by default, DeepPATH's rule); with a `saturationThreshold` (the Otsu tissue
/// rule, set per slide) a pixel is background instead when its HSV saturation (0–255) is at or
/// below it. A tile with more than `maxBackground` of its pixels background is dropped.
public struct BackgroundRule: Sendable, Equatable {
    public let threshold: Double
    public let maxBackground: Double
    public let saturationThreshold: Int?

    public init(threshold: Double = 220, maxBackground: Double = 0.5, saturationThreshold: Int? = nil) {
        precondition((0...255).contains(threshold) && (0...1).contains(maxBackground))
        self.threshold = threshold
        self.maxBackground = maxBackground
        self.saturationThreshold = saturationThreshold
    }

    /// Fraction of background pixels.
    public func backgroundFraction(_ image: RGBImage) -> Double {
        var count = 0
        image.pixels.withUnsafeBufferPointer { p in
            PixelStrips.forEach(p) { r, g, b, n in count += backgroundCount(r, g, b, n) }
        }
        return image.width * image.height == 0 ? 1 : Double(count) / Double(image.width * image.height)
    }

    /// Fraction of background pixels of the tile split into `planes`: the same as of the tile.
    public func backgroundFraction(_ planes: RGBPlanes) -> Double {
        planes.count == 0 ? 1 : Double(PixelStrips.sum(planes, backgroundCount)) / Double(planes.count)
    }

    /// Background pixels among n of a strip's planes.
    @inline(__always)
    private func backgroundCount(_ r: UnsafePointer<UInt8>, _ g: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Int {
        if let s = saturationThreshold {
            var count = 0
            for i in 0..<n where OtsuThreshold.saturation(Int(r[i]), Int(g[i]), Int(b[i])) <= s { count += 1 }
            return count
        }
        // Integer luminance ×1000 so the rule is exact and the same on every machine.
        return PixelStrips.countLuminance(r, g, b, n, atLeast: Int32((threshold * 1000).rounded(.up)))
    }

    public func keeps(backgroundFraction f: Double) -> Bool { f <= maxBackground }

    public var description: String {
        let pixel = saturationThreshold.map { "saturation<=\($0)" } ?? "luminance>=\(threshold)"
        return "\(pixel) is background; drop tiles with >\(maxBackground) background"
    }
}
