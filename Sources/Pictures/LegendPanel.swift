import TesseraCore

/// The strip under a picture that makes it stand alone: lines of text (what the picture shows),
/// colour swatches with their names (a categorical map), a colour bar with its end labels (a
/// continuous map) and a scale bar in µm. Text is drawn in the `BitmapFont`, scaled with the
/// panel's width so it stays legible on large pictures.
public struct LegendPanel {
    public struct Swatch {
        public var name: String
        public var colour: RGB

        public init(name: String, colour: RGB) {
            self.name = name
            self.colour = colour
        }
    }

    /// A continuous colour map from `low` (at 0) to `high` (at 1).
    public struct ColourBar {
        public var low: String
        public var high: String
        public var colour: (Double) -> RGB

        public init(low: String, high: String, colour: @escaping (Double) -> RGB) {
            self.low = low
            self.high = high
            self.colour = colour
        }
    }

    public var lines: [String]
    public var swatches: [Swatch]
    public var colourBar: ColourBar?
    /// µm per pixel of the picture above the panel; nil draws no scale bar.
    public var micronsPerPixel: Double?

    public init(lines: [String], swatches: [Swatch] = [], colourBar: ColourBar? = nil, micronsPerPixel: Double? = nil) {
        self.lines = lines
        self.swatches = swatches
        self.colourBar = colourBar
        self.micronsPerPixel = micronsPerPixel
    }

    /// Font pixels per panel pixel for a picture `width` wide: 1 up to 511 pixels, 2 up to 1023, …
    public static func scale(forWidth width: Int) -> Int { max(1, width / 512 + 1) }

    /// The panel, `width` wide, on white.
    public func render(width: Int) -> RGBImage {
        let s = Self.scale(forWidth: width)
        var image = RGBImage(width: width, height: layout(width: width, scale: s, into: nil), fill: (255, 255, 255))
        _ = layout(width: width, scale: s, into: &image)
        return image
    }

    /// Lays the panel out (and draws it when given an image); returns its height.
    private func layout(width: Int, scale s: Int, into image: UnsafeMutablePointer<RGBImage>?) -> Int {
        let pad = 4 * s, lineHeight = (BitmapFont.glyphHeight + 3) * s, ink: RGB = (0, 0, 0)
        var y = pad
        for line in lines {
            image?.pointee.draw(text: line, x: pad, y: y, scale: s, colour: ink)
            y += lineHeight
        }
        var x = pad
        for sw in swatches {
            let w = BitmapFont.glyphHeight * s + 3 * s + BitmapFont.width(of: sw.name, scale: s)
            if x > pad && x + w > width - pad { x = pad; y += lineHeight }
            image?.pointee.fill(x: x, y: y, width: BitmapFont.glyphHeight * s, height: BitmapFont.glyphHeight * s, colour: sw.colour)
            image?.pointee.frame(x: x, y: y, width: BitmapFont.glyphHeight * s, height: BitmapFont.glyphHeight * s, colour: ink)
            image?.pointee.draw(text: sw.name, x: x + BitmapFont.glyphHeight * s + 3 * s, y: y, scale: s, colour: ink)
            x += w + 10 * s
        }
        if !swatches.isEmpty { y += lineHeight }
        if let bar = colourBar {
            let w = max(1, min(width - 2 * pad, 256 * s))
            for i in 0..<w { image?.pointee.fill(x: pad + i, y: y, width: 1, height: BitmapFont.glyphHeight * s, colour: bar.colour(Double(i) / Double(max(w - 1, 1)))) }
            image?.pointee.frame(x: pad, y: y, width: w, height: BitmapFont.glyphHeight * s, colour: ink)
            y += lineHeight
            image?.pointee.draw(text: bar.low, x: pad, y: y, scale: s, colour: ink)
            image?.pointee.draw(text: bar.high, x: pad + w - BitmapFont.width(of: bar.high, scale: s), y: y, scale: s, colour: ink)
            y += lineHeight
        }
        if let mpp = micronsPerPixel, let bar = ScaleBar(micronsPerPixel: mpp, maxPixels: max(1, (width - 2 * pad) / 3)) {
            image?.pointee.fill(x: pad, y: y + 2 * s, width: bar.pixels, height: 3 * s, colour: ink)
            image?.pointee.fill(x: pad, y: y, width: s, height: 7 * s, colour: ink)
            image?.pointee.fill(x: pad + bar.pixels - s, y: y, width: s, height: 7 * s, colour: ink)
            image?.pointee.draw(text: bar.label, x: pad + bar.pixels + 4 * s, y: y, scale: s, colour: ink)
            y += lineHeight
        }
        return y + pad - 3 * s
    }
}

/// A scale bar of a round length (1, 2 or 5 × a power of ten µm) as long as fits.
public struct ScaleBar: Equatable, Sendable {
    public var microns: Double
    public var pixels: Int

    /// The longest round length of at most `maxPixels` pixels at `micronsPerPixel`; nil when even
    /// 1 nm would not fit or the resolution is not a positive number.
    public init?(micronsPerPixel: Double, maxPixels: Int) {
        guard micronsPerPixel.isFinite, micronsPerPixel > 0, maxPixels >= 1 else { return nil }
        let most = micronsPerPixel * Double(maxPixels)
        var best: Double?
        for e in -3...7 {
            for m in [1.0, 2.0, 5.0] {
                let v = m * Self.pow10(e)
                if v <= most * (1 + 1e-9) { best = v }
            }
        }
        guard let best else { return nil }
        microns = best
        pixels = max(1, Int((best / micronsPerPixel).rounded()))
    }

    /// `500 µm`, `2 mm`.
    public var label: String {
        microns >= 1000 ? "\(Self.plain(microns / 1000)) mm" : "\(Self.plain(microns)) µm"
    }

    static func plain(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : DecimalText.format(v)
    }

    static func pow10(_ e: Int) -> Double {
        var v = 1.0
        for _ in 0..<abs(e) { v *= 10 }
        return e >= 0 ? v : 1 / v
    }
}
