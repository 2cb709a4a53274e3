import TesseraCore

/// A slide's predictions drawn over its thumbnail: each tile painted in the colour of its most
/// probable class, the more opaque the more confident — at most half opaque, so the morphology
/// stays visible under every tile. What a pathologist looks at first.
///
/// Colours (Okabe–Ito, told apart by colour-blind readers), by class index: 0 vermilion #d55e00,
/// 1 blue #0072b2, 2 bluish green #009e73, 3 orange #e69f00, 4 reddish purple #cc79a7, 5 sky blue
/// #56b4e9, 6 yellow #f0e442, 7 black #000000, then again from the start. Opacity is
/// 0.15 + 0.35·confidence, where confidence = (p − 1/C)/(1 − 1/C) for the winning probability p
/// of C classes: 0.15 for a tile the network cannot decide, 0.5 for a certain one.
///
/// `paint` is the general form: any per-tile colour and opacity (a class, one class's
/// probability on a colour ramp, an attention weight).
public enum Heatmap {
    public static let palette: [(UInt8, UInt8, UInt8)] = [
        (0xD5, 0x5E, 0x00), (0x00, 0x72, 0xB2), (0x00, 0x9E, 0x73), (0xE6, 0x9F, 0x00),
        (0xCC, 0x79, 0xA7), (0x56, 0xB4, 0xE9), (0xF0, 0xE4, 0x42), (0x00, 0x00, 0x00),
    ]
    /// The largest opacity of a tile's colour.
    public static let maxOpacity = 0.5

    public static func colour(ofClass c: Int) -> (UInt8, UInt8, UInt8) { palette[c % palette.count] }

    /// Stops of the continuous maps' colour ramp (viridis at 0, ¼, ½, ¾, 1: dark violet to yellow,
    /// ordered in lightness, readable with colour blindness).
    static let rampStops: [(Double, Double, Double)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]

    /// The colour of value `v` (clamped to 0…1) on the ramp, linear between its stops.
    public static func ramp(_ v: Double) -> (UInt8, UInt8, UInt8) {
        let t = max(0, min(1, v.isFinite ? v : 0)) * Double(rampStops.count - 1)
        let i = min(rampStops.count - 2, Int(t)), f = t - Double(i)
        let a = rampStops[i], b = rampStops[i + 1]
        func mix(_ x: Double, _ y: Double) -> UInt8 { UInt8((x + (y - x) * f).rounded()) }
        return (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }

    public static func hex(_ rgb: (UInt8, UInt8, UInt8)) -> String {
        "#" + [rgb.0, rgb.1, rgb.2].map { v in let s = String(v, radix: 16); return s.count == 1 ? "0" + s : s }.joined()
    }

    /// The size of a heatmap of a `width` × `height` (level-0) slide whose longer side is `maxSide`.
    public static func canvasSize(slideWidth: Int, slideHeight: Int, maxSide: Int) -> (width: Int, height: Int) {
        precondition(slideWidth > 0 && slideHeight > 0 && maxSide > 0, "empty slide or canvas")
        let scale = Double(maxSide) / Double(max(slideWidth, slideHeight))
        return (max(1, Int((Double(slideWidth) * scale).rounded())), max(1, Int((Double(slideHeight) * scale).rounded())))
    }

    /// Paints the tiles over `background` (the slide, or white, at canvas size) in the colour of
    /// their most probable class.
    /// - Parameter tileSpan: a tile's side in level-0 pixels (tile size × level-0 pixels per tile pixel).
    public static func render(background: RGBImage, slideWidth: Int, slideHeight: Int, tiles: TileScores,
                              tileSpan: Double) -> RGBImage {
        let c = tiles.classes
        return paint(background: background, slideWidth: slideWidth, slideHeight: slideHeight, x: tiles.x, y: tiles.y, tileSpan: tileSpan) { t in
            let row = Array(tiles.row(t))
            let k = SlideAggregator.tileClass(row)
            let confidence = c > 1 ? max(0, min(1, (Double(row[k]) - 1 / Double(c)) / (1 - 1 / Double(c)))) : 1
            return (colour(ofClass: k), 0.15 + (maxOpacity - 0.15) * confidence)
        }
    }

    /// Paints tile t (level-0 corner `x[t]`, `y[t]`) in `style(t)`'s colour at its opacity (0…1).
    public static func paint(background: RGBImage, slideWidth: Int, slideHeight: Int, x: [Int], y: [Int], tileSpan: Double,
                             style: (Int) -> (colour: (UInt8, UInt8, UInt8), opacity: Double)) -> RGBImage {
        var image = background
        let sx = Double(image.width) / Double(slideWidth), sy = Double(image.height) / Double(slideHeight)
        image.pixels.withUnsafeMutableBufferPointer { px in
            for t in 0..<x.count {
                let (colour, alpha) = style(t)
                let x0 = Int((Double(x[t]) * sx).rounded()), x1 = Int(((Double(x[t]) + tileSpan) * sx).rounded())
                let y0 = Int((Double(y[t]) * sy).rounded()), y1 = Int(((Double(y[t]) + tileSpan) * sy).rounded())
                for yy in max(0, y0)..<min(image.height, max(y1, y0 + 1)) {
                    for xx in max(0, x0)..<min(image.width, max(x1, x0 + 1)) {
                        let i = (yy * image.width + xx) * 3
                        px[i] = blend(px[i], colour.0, alpha)
                        px[i + 1] = blend(px[i + 1], colour.1, alpha)
                        px[i + 2] = blend(px[i + 2], colour.2, alpha)
                    }
                }
            }
        }
        return image
    }

    @inline(__always) static func blend(_ under: UInt8, _ over: UInt8, _ alpha: Double) -> UInt8 {
        UInt8(max(0, min(255, (Double(under) * (1 - alpha) + Double(over) * alpha).rounded())))
    }

    /// `image` scaled to `width` × `height`: each output pixel the mean of the input pixels it
    /// covers when shrinking, the nearest one when enlarging.
    public static func resize(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        precondition(width > 0 && height > 0 && image.width > 0 && image.height > 0, "empty image")
        if image.width == width && image.height == height { return image }
        let sx = Double(image.width) / Double(width), sy = Double(image.height) / Double(height)
        var out = [UInt8](repeating: 0, count: width * height * 3)
        image.pixels.withUnsafeBufferPointer { src in
            for oy in 0..<height {
                let ya = min(image.height - 1, Int(Double(oy) * sy))
                let yb = max(ya + 1, min(image.height, Int((Double(oy + 1) * sy).rounded(.up))))
                for ox in 0..<width {
                    let xa = min(image.width - 1, Int(Double(ox) * sx))
                    let xb = max(xa + 1, min(image.width, Int((Double(ox + 1) * sx).rounded(.up))))
                    var r = 0, g = 0, b = 0
                    for y in ya..<yb {
                        var i = (y * image.width + xa) * 3
                        for _ in xa..<xb { r += Int(src[i]); g += Int(src[i + 1]); b += Int(src[i + 2]); i += 3 }
                    }
                    let n = (yb - ya) * (xb - xa)
                    let o = (oy * width + ox) * 3
                    out[o] = UInt8((r + n / 2) / n)
                    out[o + 1] = UInt8((g + n / 2) / n)
                    out[o + 2] = UInt8((b + n / 2) / n)
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }
}
