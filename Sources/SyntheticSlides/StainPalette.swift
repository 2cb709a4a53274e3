import Foundation
import TesseraCore

/// The colours of one slide's stains and glass, drawn from the slide's seed with the same
/// distribution for every class, so that colour alone does not give the class away.
///
/// Colour follows the Beer–Lambert law: a pixel with hematoxylin density `h` and eosin density `e`
/// transmits `background · exp(−(h·H + e·E))` per channel, where H and E are the stains' optical
/// density vectors (Ruifrok & Johnston's, jittered per slide).
public struct StainPalette: Sendable {
    /// Light through bare glass, per channel (0…255).
    public let background: (r: Double, g: Double, b: Double)
    /// Optical density per unit of hematoxylin, per channel.
    public let hematoxylin: (r: Double, g: Double, b: Double)
    /// Optical density per unit of eosin, per channel.
    public let eosin: (r: Double, g: Double, b: Double)

    /// Densities are tabulated on [0, maxDensity) in `steps` steps: a lookup instead of three `exp`
    /// per pixel.
    static let steps = 256
    static let maxDensity = 2.5
    /// [h step][e step] → 0x00RRGGBB.
    let table: [UInt32]

    public init(seed: UInt64) {
        var rng = SeededGenerator(seed: seed, stream: 0x57A1)
        func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * rng.nextUnit() }

        let brightness = uniform(238, 251)
        background = (brightness * uniform(0.985, 1.0), brightness * uniform(0.985, 1.0),
                      brightness * uniform(0.985, 1.0))

        func jittered(_ v: (Double, Double, Double), spread: Double, strength: Double) -> (r: Double, g: Double, b: Double) {
            let r = v.0 * uniform(1 - spread, 1 + spread)
            let g = v.1 * uniform(1 - spread, 1 + spread)
            let b = v.2 * uniform(1 - spread, 1 + spread)
            let norm = (r * r + g * g + b * b).squareRoot()
            return (strength * r / norm, strength * g / norm, strength * b / norm)
        }
        // Stain strengths vary a lot between labs and batches (a factor of about 2.7 here).
        hematoxylin = jittered((0.65, 0.70, 0.29), spread: 0.18, strength: uniform(0.7, 1.9))
        eosin = jittered((0.07, 0.99, 0.11), spread: 0.30, strength: uniform(0.65, 1.85))
        table = Self.tabulate(background: background, hematoxylin: hematoxylin, eosin: eosin)
    }

    /// A slide of a tissue source site: the site's stain strengths and hues with a little
    /// per-slide variation (batches within a lab differ less than labs do).
    public init(seed: UInt64, site: SiteStain) {
        var rng = SeededGenerator(seed: seed, stream: 0x57A2)
        func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * rng.nextUnit() }
        let brightness = site.brightness + uniform(-2, 2)
        background = (brightness * site.glassTint.r, brightness * site.glassTint.g, brightness * site.glassTint.b)
        func jittered(_ v: (r: Double, g: Double, b: Double), strength: Double) -> (r: Double, g: Double, b: Double) {
            let r = v.r * uniform(0.96, 1.04), g = v.g * uniform(0.96, 1.04), b = v.b * uniform(0.96, 1.04)
            let norm = (r * r + g * g + b * b).squareRoot()
            let k = strength * uniform(0.92, 1.08) / norm
            return (k * r, k * g, k * b)
        }
        hematoxylin = jittered(site.hematoxylinHue, strength: site.hematoxylinStrength)
        eosin = jittered(site.eosinHue, strength: site.eosinStrength)
        table = Self.tabulate(background: background, hematoxylin: hematoxylin, eosin: eosin)
    }

    private static func tabulate(background: (r: Double, g: Double, b: Double), hematoxylin: (r: Double, g: Double, b: Double),
                                 eosin: (r: Double, g: Double, b: Double)) -> [UInt32] {
        var table = [UInt32](repeating: 0, count: Self.steps * Self.steps)
        let bg = background, hv = hematoxylin, ev = eosin
        for hi in 0..<Self.steps {
            for ei in 0..<Self.steps {
                let h = (Double(hi) + 0.5) * Self.maxDensity / Double(Self.steps)
                let e = (Double(ei) + 0.5) * Self.maxDensity / Double(Self.steps)
                let c = Self.transmit(h: h, e: e, background: bg, hematoxylin: hv, eosin: ev)
                table[hi * Self.steps + ei] = UInt32(c.0) << 16 | UInt32(c.1) << 8 | UInt32(c.2)
            }
        }
        // Exactly the glass colour where there is no stain at all.
        let glass = Self.transmit(h: 0, e: 0, background: bg, hematoxylin: hv, eosin: ev)
        table[0] = UInt32(glass.0) << 16 | UInt32(glass.1) << 8 | UInt32(glass.2)
        return table
    }

    /// The exact colour of densities (h, e) (the renderer uses the tabulated version).
    public func color(h: Double, e: Double) -> (UInt8, UInt8, UInt8) {
        Self.transmit(h: h, e: e, background: background, hematoxylin: hematoxylin, eosin: eosin)
    }

    /// The tabulated colour, 0x00RRGGBB.
    @inline(__always)
    func packedColor(h: Double, e: Double) -> UInt32 {
        let scale = Double(Self.steps) / Self.maxDensity
        let hi = min(Self.steps - 1, Int(max(0, h) * scale))
        let ei = min(Self.steps - 1, Int(max(0, e) * scale))
        return table[hi * Self.steps + ei]
    }

    private static func transmit(h: Double, e: Double, background: (r: Double, g: Double, b: Double),
                                 hematoxylin: (r: Double, g: Double, b: Double),
                                 eosin: (r: Double, g: Double, b: Double)) -> (UInt8, UInt8, UInt8) {
        func channel(_ i0: Double, _ hOD: Double, _ eOD: Double) -> UInt8 {
            UInt8(max(0, min(255, (i0 * exp(-(h * hOD + e * eOD))).rounded())))
        }
        return (channel(background.r, hematoxylin.r, eosin.r), channel(background.g, hematoxylin.g, eosin.g),
                channel(background.b, hematoxylin.b, eosin.b))
    }
}
