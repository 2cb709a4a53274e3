import TesseraCore

/// How tiles were cut: the one record of it. The tiler writes it into every store file (TileStore
/// maps it to the store's HDF5 attributes), training copies it into the model, the predictor
/// reports it and cuts tiles from slide files by it, and each compares it with `differences(from:)`.
public struct TilingSpec: Equatable, Sendable {
    /// Side of a tile in pixels.
    public var tileSize: Int
    public var target: TilingTarget
    /// Luminance (0–255) above which a pixel counts as background.
    public var backgroundThreshold: Double
    /// Largest background fraction of a kept tile.
    public var maxBackground: Double
    /// The JPEG quality (1–100) tiles are encoded at; nil when they are stored raw.
    public var jpegQuality: Int?

    public init(tileSize: Int, target: TilingTarget, backgroundThreshold: Double = 220, maxBackground: Double = 0.5,
                jpegQuality: Int?) {
        self.tileSize = tileSize
        self.target = target
        self.backgroundThreshold = backgroundThreshold
        self.maxBackground = maxBackground
        self.jpegQuality = jpegQuality
    }

    public init(tileSize: Int, target: TilingTarget, rule: BackgroundRule, jpegQuality: Int?) {
        self.init(tileSize: tileSize, target: target, backgroundThreshold: rule.threshold,
                  maxBackground: rule.maxBackground, jpegQuality: jpegQuality)
    }

    /// The background rule; the spec must hold a valid one (as the tiler wrote it).
    public var rule: BackgroundRule { BackgroundRule(threshold: backgroundThreshold, maxBackground: maxBackground) }
}

extension TilingSpec: FieldComparable {
    /// Named by the coding keys, labelled for the "model …, store …" messages.
    public var comparedFields: [ComparedField] {
        let (mpp, magnification, level) = target.fields
        return [
            ComparedField(Key.tileSize.rawValue, label: "tile size", value: "\(tileSize)"),
            ComparedField(Key.targetMPP.rawValue, label: "target MPP", value: mpp.map { "\($0)" } ?? "none"),
            ComparedField(Key.targetMagnification.rawValue, label: "magnification", value: magnification.map { "\($0)×" } ?? "none"),
            ComparedField(Key.level.rawValue, label: "level", value: level.map { "\($0)" } ?? "none"),
            ComparedField(Key.backgroundThreshold.rawValue, label: "background threshold", value: "\(backgroundThreshold)"),
            ComparedField(Key.maxBackground.rawValue, label: "max background", value: "\(maxBackground)"),
            ComparedField(Key.jpegQuality.rawValue, label: "JPEG quality", value: jpegQuality.map { "\($0)" } ?? "none (raw)"),
        ]
    }
}

extension TilingSpec: Codable {
    /// Flat, the target as its three optional fields: `{"tileSize": 512, "targetMPP": 0.5, …}`.
    public enum Key: String, CodingKey, CaseIterable {
        case tileSize, targetMPP, targetMagnification, level, backgroundThreshold, maxBackground, jpegQuality
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        self.init(tileSize: try c.decode(Int.self, forKey: .tileSize),
                  target: TilingTarget(mpp: try c.decodeIfPresent(Double.self, forKey: .targetMPP),
                                       magnification: try c.decodeIfPresent(Double.self, forKey: .targetMagnification),
                                       level: try c.decodeIfPresent(Int.self, forKey: .level)),
                  backgroundThreshold: try c.decode(Double.self, forKey: .backgroundThreshold),
                  maxBackground: try c.decode(Double.self, forKey: .maxBackground),
                  jpegQuality: try c.decodeIfPresent(Int.self, forKey: .jpegQuality))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        let (mpp, magnification, level) = target.fields
        try c.encode(tileSize, forKey: .tileSize)
        try c.encodeIfPresent(mpp, forKey: .targetMPP)
        try c.encodeIfPresent(magnification, forKey: .targetMagnification)
        try c.encodeIfPresent(level, forKey: .level)
        try c.encode(backgroundThreshold, forKey: .backgroundThreshold)
        try c.encode(maxBackground, forKey: .maxBackground)
        try c.encodeIfPresent(jpegQuality, forKey: .jpegQuality)
    }
}
