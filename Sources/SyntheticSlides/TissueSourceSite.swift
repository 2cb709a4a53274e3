import TesseraCore

/// A hospital that cut and scanned slides (the two characters after `TCGA-` in a barcode), with its
/// own stain, scanner, JPEG quality and habit of recording MPP, and the classes it tends to send.
public struct TissueSourceSite: Codable, Equatable, Sendable {
    /// Real TCGA lung tissue source site codes, in the order sites are drawn.
    public static let codes = ["05", "18", "44", "55", "60", "85", "50", "22", "38", "64", "86", "33"]

    public var code: String
    public var stain: SiteStain
    /// 20 or 40.
    public var objectivePower: Int
    /// Whether its slides record MPP and AppMag.
    public var recordsResolution: Bool
    public var jpegQuality: Int
    /// Relative weight of each class (LUAD, LUSC, normal) among its patients.
    public var classWeights: [Double]
    /// Its patients are kept for the site-held-out test.
    public var heldOut: Bool

    /// The sites of a cohort, drawn from its seed.
    static func draw(options: RealismOptions, seed: UInt64) -> [TissueSourceSite] {
        var rng = SeededGenerator(seed: seed, stream: 0x7155_0517)
        func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * rng.nextUnit() }
        return (0..<options.sites).map { i in
            // Labs differ in stain strength by a factor of about two, and in hue.
            let stain = SiteStain(
                brightness: uniform(236, 250),
                glassTint: (uniform(0.975, 1.0), uniform(0.975, 1.0), uniform(0.975, 1.0)),
                hematoxylinHue: (0.65 * uniform(0.8, 1.2), 0.70 * uniform(0.8, 1.2), 0.29 * uniform(0.8, 1.2)),
                hematoxylinStrength: uniform(0.75, 1.8),
                eosinHue: (0.07 * uniform(0.6, 1.4), 0.99 * uniform(0.8, 1.2), 0.11 * uniform(0.6, 1.4)),
                eosinStrength: uniform(0.7, 1.75))
            let fortyX = rng.nextUnit() < 0.35
            let records = rng.nextUnit() < 0.85
            let quality = 70 + Int(rng.next() % 26)
            // Each site favours one class (in turn, so that every class is favoured somewhere).
            let favoured = (i + Int(seed % 3)) % 3
            let weights = (0..<3).map { $0 == favoured ? 1 + 4 * options.siteBias : 1 - 0.7 * options.siteBias }
            return TissueSourceSite(code: codes[i], stain: stain, objectivePower: fortyX ? 40 : 20,
                                    recordsResolution: records || fortyX, jpegQuality: quality, classWeights: weights,
                                    heldOut: i >= options.sites - options.heldOutSites)
        }
    }

    /// Its scan profile (a site that records no MPP scans at 20×).
    var scan: ScanProfile {
        if !recordsResolution { return .unrecorded20x }
        return objectivePower == 40 ? .aperio40x : .aperio20x
    }
}
