import TesseraCore

/// An RGB colour, 0…255 per channel.
public typealias RGB = (UInt8, UInt8, UInt8)

/// Drawing on an `RGBImage`: filled rectangles, text in the `BitmapFont`, blending, stacking.
/// Everything is clipped to the image.
extension RGBImage {
    public mutating func fill(x: Int, y: Int, width: Int, height: Int, colour: RGB) {
        let x0 = max(0, x), x1 = min(self.width, x + width), y0 = max(0, y), y1 = min(self.height, y + height)
        guard x0 < x1, y0 < y1 else { return }
        for yy in y0..<y1 {
            var i = (yy * self.width + x0) * 3
            for _ in x0..<x1 {
                pixels[i] = colour.0
                pixels[i + 1] = colour.1
                pixels[i + 2] = colour.2
                i += 3
            }
        }
    }

    /// A one-pixel (× `thickness`) outline.
    public mutating func frame(x: Int, y: Int, width: Int, height: Int, colour: RGB, thickness: Int = 1) {
        fill(x: x, y: y, width: width, height: thickness, colour: colour)
        fill(x: x, y: y + height - thickness, width: width, height: thickness, colour: colour)
        fill(x: x, y: y, width: thickness, height: height, colour: colour)
        fill(x: x + width - thickness, y: y, width: thickness, height: height, colour: colour)
    }

    /// `text` with its top-left corner at (x, y), each font pixel a `scale` × `scale` square.
    public mutating func draw(text: String, x: Int, y: Int, scale: Int = 1, colour: RGB = (0, 0, 0)) {
        precondition(scale >= 1, "text scale \(scale)")
        var left = x
        for c in text {
            for col in 0..<BitmapFont.glyphWidth {
                for row in 0..<BitmapFont.glyphHeight where BitmapFont.isInk(c, column: col, row: row) {
                    fill(x: left + col * scale, y: y + row * scale, width: scale, height: scale, colour: colour)
                }
            }
            left += BitmapFont.advance * scale
        }
    }

    /// `top` above `bottom`, the narrower one padded on the right with `fill`.
    public static func stacked(_ top: RGBImage, _ bottom: RGBImage, fill: RGB = (255, 255, 255)) -> RGBImage {
        var out = RGBImage(width: max(top.width, bottom.width), height: top.height + bottom.height, fill: fill)
        for (image, y0) in [(top, 0), (bottom, top.height)] {
            for y in 0..<image.height {
                let src = y * image.width * 3, dst = (y0 + y) * out.width * 3
                out.pixels.replaceSubrange(dst..<(dst + image.width * 3), with: image.pixels[src..<(src + image.width * 3)])
            }
        }
        return out
    }

    /// `left` and `right` side by side, `gap` pixels apart, tops aligned, the shorter one padded
    /// below with `fill` (a picture and the one to compare it with).
    public static func sideBySide(_ left: RGBImage, _ right: RGBImage, gap: Int = 0, fill: RGB = (255, 255, 255)) -> RGBImage {
        var out = RGBImage(width: left.width + gap + right.width, height: max(left.height, right.height), fill: fill)
        for (image, x0) in [(left, 0), (right, left.width + gap)] {
            for y in 0..<image.height {
                let src = y * image.width * 3, dst = (y * out.width + x0) * 3
                out.pixels.replaceSubrange(dst..<(dst + image.width * 3), with: image.pixels[src..<(src + image.width * 3)])
            }
        }
        return out
    }
}
