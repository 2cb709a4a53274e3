import Foundation
import TesseraCore

/// The class-specific micro-anatomy of a slide: stain densities (hematoxylin, eosin) at a position
/// given in micrometres, so a 40× slide shows the same structures at twice the pixel size.
///
/// Scales (µm): nuclei 4–12 across, glands 60–110, keratin pearls 45–110, alveoli ~75. At 20×
/// (0.5 µm/px) and 4× reduction (2 µm/px) nuclei are still 3–5 px and glands 30–60 px.
struct TissueTexture: Sendable {
    let tissueClass: TissueClass
    let seed: UInt64

    // Layers shared by the classes.
    let spindleNuclei: NucleusField
    let lymphocytes: NucleusField
    // LUAD
    let glandCell = 112.0
    let ringNuclei: NucleusField
    // LUSC
    let pearlCell = 190.0
    let sheetNuclei: NucleusField
    // normal
    let alveolusCell = 75.0
    let septalNuclei: NucleusField
    // Realistic-profile regions (`TissueTexture+Regions`).
    let solidNuclei: NucleusField
    let pigmentGranules: NucleusField
    let chondrocytes: NucleusField
    let debris: NucleusField

    /// Per-class gains on (hematoxylin, eosin): the classes differ in how much of their area is
    /// nuclei or empty space, and these bring their mean colours into the same range, so that
    /// the per-slide stain variation hides the class.
    let classGain: (h: Double, e: Double)

    /// The slide's two collagen fibre directions (cos, sin): fibres run roughly parallel over
    /// hundreds of micrometres, turning from one direction to the other (`LocalFields.fibreBlend`).
    let fibreDirections: (Double, Double, Double, Double)

    init(tissueClass: TissueClass, seed: UInt64) {
        self.tissueClass = tissueClass
        self.seed = seed
        func layer(_ n: UInt64) -> UInt64 { Self.layerSeed(seed, n) }
        spindleNuclei = NucleusField(seed: layer(1), cell: 16, minorRadius: 1.3...1.8, maxAspect: 3.0)
        lymphocytes = NucleusField(seed: layer(2), cell: 11, minorRadius: 2.2...2.8, maxAspect: 1.1)
        ringNuclei = NucleusField(seed: layer(3), cell: 8.8, minorRadius: 2.5...3.0, maxAspect: 1.35)
        sheetNuclei = NucleusField(seed: layer(4), cell: 12.4, minorRadius: 3.7...4.9, maxAspect: 1.2)
        septalNuclei = NucleusField(seed: layer(5), cell: 9.5, minorRadius: 2.1...2.9, maxAspect: 1.5)
        solidNuclei = NucleusField(seed: layer(6), cell: 11, minorRadius: 3.2...4.2, maxAspect: 1.25)
        pigmentGranules = NucleusField(seed: layer(7), cell: 5, minorRadius: 0.6...1.4, maxAspect: 1.6)
        chondrocytes = NucleusField(seed: layer(8), cell: 24, minorRadius: 3.5...6, maxAspect: 1.6)
        debris = NucleusField(seed: layer(9), cell: 6, minorRadius: 0.5...1.6, maxAspect: 1.5)
        let angle = Double(mixHash(seed, 0xF1B2) >> 11) * 0x1.0p-53 * Double.pi
        fibreDirections = (cos(angle), sin(angle), cos(angle + 1.2), sin(angle + 1.2))
        switch tissueClass {
        case .luad: classGain = (1.0, 1.05)
        case .lusc: classGain = (0.6, 0.72)
        case .normal: classGain = (2.1, 1.9)
        }
    }

    /// The seed of procedural layer `n` (glands, pearls, one kind of nuclei, …) of this slide.
    func layer(_ n: UInt64) -> UInt64 { Self.layerSeed(seed, n) }
    private static func layerSeed(_ seed: UInt64, _ n: UInt64) -> UInt64 { mixHash(seed, n, 0x1A7E) }

    /// Stain densities at (x, y) µm inside tissue.
    @inline(__always)
    func densities(x: Double, y: Double, fields f: LocalFields) -> (h: Double, e: Double) {
        let d: (h: Double, e: Double)
        switch tissueClass {
        case .luad: d = adenocarcinoma(x: x, y: y, f)
        case .lusc: d = squamous(x: x, y: y, f)
        case .normal: d = alveolar(x: x, y: y, f)
        }
        return (d.h * classGain.h, d.e * classGain.e)
    }

    /// Blends a nucleus over a background: darker at the membrane than in the centre.
    @inline(__always)
    func nucleus(_ hit: NucleusField.Hit?, over base: (h: Double, e: Double), darkness: Double,
                 rim: Double = 0.3) -> (h: Double, e: Double) {
        guard let hit else { return base }
        let h = darkness * (0.85 + 0.3 * hit.shade) * (1 - rim + rim * 1.6 * hit.rho * hit.rho)
        let c = hit.coverage
        return (base.h + (h - base.h) * c, base.e + (0.10 - base.e) * c)
    }

    /// Collagen fibre intensity at (x, y) µm, 0...1: wavy parallel fibres along the local direction.
    @inline(__always)
    func fibre(x: Double, y: Double, _ f: LocalFields) -> Double {
        let d = fibreDirections
        let w = f.fibreBlend
        var s = 0.0
        if w > 0 { s += w * Self.fibreProfile((x * d.0 + y * d.1) * Self.fibreCycles + f.fibreWobble * (0.5 / Double.pi)) }
        if w < 1 { s += (1 - w) * Self.fibreProfile((x * d.2 + y * d.3) * Self.fibreCycles + f.fibreWobble * (0.5 / Double.pi)) }
        return s
    }

    /// Fibres per micrometre across their direction.
    static let fibreCycles = 1 / 5.5

    /// A smooth periodic bump (period 1, 0 at integers, 1 at half-integers): a cheap stand-in for
    /// ½ − ½·cos(2πt), which would cost a libm call per pixel.
    @inline(__always)
    static func fibreProfile(_ t: Double) -> Double {
        let f = t - Double(floorInt(t))
        let b = f * (1 - f)
        return 16 * b * b
    }

    /// Fibrous pink stroma with scattered spindle cells and lymphocytes (dense where inflamed).
    @inline(__always)
    func stroma(x: Double, y: Double, _ f: LocalFields) -> (h: Double, e: Double) {
        var d = (h: 0.04 + 0.03 * f.grain, e: 0.26 + 0.12 * fibre(x: x, y: y, f) + 0.1 * f.grain)
        let inflamed = f.architecture > 0.72
        d = nucleus(spindleNuclei.sample(x: x, y: y, presence: inflamed ? 0.1 : 0.3), over: d, darkness: 0.75, rim: 0.1)
        d = nucleus(lymphocytes.sample(x: x, y: y, presence: inflamed ? 0.6 : 0.05), over: d, darkness: 1.15, rim: 0.1)
        return d
    }
}
