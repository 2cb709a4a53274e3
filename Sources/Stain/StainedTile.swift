import Foundation
import TesseraCore

/// A tile made from known stains and concentrations: nuclei (pure haematoxylin discs) over stroma
/// (pure eosin, varying smoothly), with an optional share of glass. What the tests recover the stains
/// from, what tessera-bench times the methods on, and what the built-in Reinhard target was
/// measured on.
public enum StainedTile {
    public static func make(size: Int, stains: MacenkoReference, glassFraction: Double = 0.2, seed: UInt64 = 1) -> RGBImage {
        var rng = SeededGenerator(seed: seed)
        var h = [Float](repeating: 0, count: size * size), e = [Float](repeating: 0, count: size * size)
        // Stroma: eosin from two slow waves; glass where a third wave is lowest.
        let (fx, fy, px, py) = (Double.random(in: 1...3, using: &rng), Double.random(in: 1...3, using: &rng),
                                Double.random(in: 0...6, using: &rng), Double.random(in: 0...6, using: &rng))
        var glass = [Bool](repeating: false, count: size * size)
        var wave = [Double](repeating: 0, count: size * size)
        for y in 0..<size {
            for x in 0..<size {
                let u = Double(x) / Double(size), v = Double(y) / Double(size)
                let k = y * size + x
                e[k] = Float(0.6 + 0.4 * (1 + sin(2 * .pi * fx * u + px) * cos(2 * .pi * fy * v + py)))
                h[k] = 0
                wave[k] = sin(2 * .pi * (u + 0.7 * v) + px)
            }
        }
        if glassFraction > 0 {
            let cut = wave.sorted()[min(wave.count - 1, Int(glassFraction * Double(wave.count)))]
            for k in wave.indices where wave[k] < cut { glass[k] = true }
        }
        // Nuclei: discs of haematoxylin, about one per 300 px².
        for _ in 0..<(size * size / 300) {
            let cx = Double.random(in: 0..<Double(size), using: &rng), cy = Double.random(in: 0..<Double(size), using: &rng)
            let r = Double.random(in: 2.5...5.5, using: &rng), c = Float.random(in: 0.9...1.8, using: &rng)
            for y in max(0, Int(cy - r))...min(size - 1, Int(cy + r)) {
                for x in max(0, Int(cx - r))...min(size - 1, Int(cx + r)) where (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy) <= r * r {
                    h[y * size + x] = c
                    e[y * size + x] = 0
                }
            }
        }
        var pixels = [UInt8](repeating: 255, count: size * size * 3)
        for k in 0..<(size * size) where !glass[k] {
            for c in 0..<3 {
                let od = Double(h[k] * stains.haematoxylin[c] + e[k] * stains.eosin[c])
                let value = Double(OpticalDensity.incidentLight) * exp(-od) - 1 + Double.random(in: -0.5...0.5, using: &rng)
                pixels[3 * k + c] = UInt8(min(255, max(0, value.rounded())))
            }
        }
        return RGBImage(width: size, height: size, pixels: pixels)
    }
}
