import TesseraCore

extension RGBImage {
    /// Each `scale` × `scale` block averaged into one pixel (rounded), ⌈w/scale⌉ × ⌈h/scale⌉ like a
    /// scaled JPEG decode, partial blocks at the edges averaged over the pixels they have.
    func boxDownsampled(by scale: Int) -> RGBImage {
        precondition(scale >= 1, "scale must be ≥ 1")
        if scale == 1 { return self }
        let ow = (width + scale - 1) / scale, oh = (height + scale - 1) / scale
        var out = [UInt8](repeating: 0, count: ow * oh * 3)
        for oy in 0..<oh {
            let y0 = oy * scale, y1 = min(height, y0 + scale)
            for ox in 0..<ow {
                let x0 = ox * scale, x1 = min(width, x0 + scale)
                var sum = (0, 0, 0)
                for y in y0..<y1 {
                    for x in x0..<x1 {
                        let i = (y * width + x) * 3
                        sum.0 += Int(pixels[i]); sum.1 += Int(pixels[i + 1]); sum.2 += Int(pixels[i + 2])
                    }
                }
                let n = (y1 - y0) * (x1 - x0)
                let o = (oy * ow + ox) * 3
                out[o] = UInt8((sum.0 + n / 2) / n)
                out[o + 1] = UInt8((sum.1 + n / 2) / n)
                out[o + 2] = UInt8((sum.2 + n / 2) / n)
            }
        }
        return RGBImage(width: ow, height: oh, pixels: out)
    }
}
