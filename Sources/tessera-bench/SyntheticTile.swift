import TesseraCore

/// A stand-in tile for benchmarks run without the reference slides, with just enough of H&E's look:
/// pink stroma with a smooth, noisy stain, dark purple nuclei, and a few glass gaps. JPEG's speed
/// and size depend on texture, so a flat colour would flatter the codec.
enum SyntheticTile {
    static func render(width: Int, height: Int, seed: UInt64) -> RGBImage {
        var rng = SeededGenerator(seed: seed)
        // Nuclei: centres and radii, about one per 40×40 pixels.
        let nuclei = (0..<(width * height / 1600)).map { _ in
            (x: rng.nextUnit() * Double(width), y: rng.nextUnit() * Double(height), r: 3 + rng.nextUnit() * 5)
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                // Stain density: smooth (32-pixel cells, bilinear) plus per-pixel grain.
                let smooth = valueNoise(x: Double(x) / 32, y: Double(y) / 32, seed: seed)
                let grain = Double(mixHash(UInt64(x), UInt64(y), seed) % 1000) / 1000
                let density = 0.75 * smooth + 0.25 * grain
                var rgb = density < 0.22
                    ? (245.0, 240.0, 245.0)  // glass between fibres
                    : (235 - 40 * density, 150 - 50 * density, 200 - 30 * density)
                rgb.0 -= 8 * grain; rgb.1 -= 8 * grain; rgb.2 -= 8 * grain
                let i = (y * width + x) * 3
                pixels[i] = UInt8(max(0, min(255, rgb.0)))
                pixels[i + 1] = UInt8(max(0, min(255, rgb.1)))
                pixels[i + 2] = UInt8(max(0, min(255, rgb.2)))
            }
        }
        for n in nuclei {
            let x0 = max(0, Int(n.x - n.r)), x1 = min(width - 1, Int(n.x + n.r))
            let y0 = max(0, Int(n.y - n.r)), y1 = min(height - 1, Int(n.y + n.r))
            guard x0 <= x1, y0 <= y1 else { continue }
            for y in y0...y1 {
                for x in x0...x1 {
                    let dx = Double(x) - n.x, dy = Double(y) - n.y
                    guard dx * dx + dy * dy <= n.r * n.r else { continue }
                    let shade = UInt8(mixHash(UInt64(x), UInt64(y), seed &+ 1) % 30)
                    let i = (y * width + x) * 3
                    pixels[i] = 70 + shade; pixels[i + 1] = 40 + shade; pixels[i + 2] = 130 + shade
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Bilinear interpolation of random values on the integer lattice, in [0, 1).
    private static func valueNoise(x: Double, y: Double, seed: UInt64) -> Double {
        let xi = Int(x), yi = Int(y)
        let fx = x - Double(xi), fy = y - Double(yi)
        func corner(_ cx: Int, _ cy: Int) -> Double {
            Double(mixHash(UInt64(cx), UInt64(cy), seed &+ 2) >> 11) * 0x1.0p-53
        }
        let top = corner(xi, yi) * (1 - fx) + corner(xi + 1, yi) * fx
        let bottom = corner(xi, yi + 1) * (1 - fx) + corner(xi + 1, yi + 1) * fx
        return top * (1 - fy) + bottom * fy
    }
}
