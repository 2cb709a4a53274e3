/// Reinhard's target: mean and standard deviation of L*, a*, b*.
public struct ReinhardReference: Codable, Equatable, Sendable {
    public var mean: [Float]
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == 3 && std.count == 3, "L*a*b* statistics have 3 channels")
        self.mean = mean
        self.std = std
    }

    /// The L*a*b* statistics of the built-in Macenko reference's stains on a tile of nuclei,
    /// stroma and 20 % glass (`StainedTile.make(size: 256, stains: .builtIn, seed: 1)`; the
    /// `StainNormalizationTests` check that they are that tile's), so that both built-in targets
    /// describe the same H&E.
    public static let builtIn = ReinhardReference(mean: [63.30, 27.25, -3.46], std: [19.51, 15.28, 7.34])
}

/// Macenko's target: the haematoxylin and eosin unit vectors in optical density (RGB order) and
/// the 99th percentiles of their concentrations.
public struct MacenkoReference: Codable, Equatable, Sendable {
    public var haematoxylin: [Float]
    public var eosin: [Float]
    public var maxConcentrations: [Float]

    public init(haematoxylin: [Float], eosin: [Float], maxConcentrations: [Float]) {
        precondition(haematoxylin.count == 3 && eosin.count == 3 && maxConcentrations.count == 2, "two stains in RGB, two maxima")
        self.haematoxylin = haematoxylin
        self.eosin = eosin
        self.maxConcentrations = maxConcentrations
    }

    /// Macenko's reference stain matrix and maxima as published with his code (and MONAI's default).
    public static let builtIn = MacenkoReference(haematoxylin: [0.5626, 0.7201, 0.4062], eosin: [0.2159, 0.8012, 0.5581],
                                                 maxConcentrations: [1.9705, 1.0308])
}

/// Which normalisation, and to what: recorded in the model (with the input normalisation), so that
/// prediction applies exactly what training applied.
public struct StainNormalization: Codable, Equatable, Sendable {
    public enum Method: String, Codable, CaseIterable, Sendable {
        case reinhard, macenko
    }

    public var method: Method
    /// Where the reference came from: `builtin`, or `train (N tiles)` when fitted on the training split.
    public var referenceSource: String
    /// The reference of `method` (the other is nil).
    public var reinhard: ReinhardReference?
    public var macenko: MacenkoReference?

    public init(method: Method, referenceSource: String, reinhard: ReinhardReference? = nil, macenko: MacenkoReference? = nil) {
        precondition(method == .reinhard ? reinhard != nil : macenko != nil, "\(method) normalisation needs its reference")
        self.method = method
        self.referenceSource = referenceSource
        self.reinhard = reinhard
        self.macenko = macenko
    }

    /// The method with its built-in reference.
    public static func builtIn(_ method: Method) -> StainNormalization {
        switch method {
        case .reinhard: StainNormalization(method: .reinhard, referenceSource: "builtin", reinhard: .builtIn)
        case .macenko: StainNormalization(method: .macenko, referenceSource: "builtin", macenko: .builtIn)
        }
    }

    public var description: String { "\(method.rawValue) (reference: \(referenceSource))" }
}
