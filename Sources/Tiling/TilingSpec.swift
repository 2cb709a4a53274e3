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
    /// Which pixels are glass: luminance (the fixed threshold) or Otsu on saturation per slide.
    public var tissueRule: TissueRule = .luminance
    /// The artefact checks run on tiles that pass the background rule, and their thresholds.
    public var qc: QCChecks = .none
    public var penMax: Double = ArtefactQC.defaultPenMax
    public var blurMin: Double = ArtefactQC.defaultBlurMin
    /// The block focus rule's threshold; 0 (off) in records written before the rule.
    public var blurBlockMin: Double = ArtefactQC.defaultBlurBlockMin
    public var foldMax: Double = ArtefactQC.defaultFoldMax
    public var bubbleMax: Double = ArtefactQC.defaultBubbleMax

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

    /// The artefact checks the spec asks for.
    public var artefactQC: ArtefactQC {
        ArtefactQC(checks: qc, penMax: penMax, blurMin: blurMin, foldMax: foldMax, bubbleMax: bubbleMax,
                   backgroundThreshold: backgroundThreshold, blurBlockMin: blurBlockMin)
    }
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
            ComparedField(Key.tissueRule.rawValue, label: "tissue rule", value: tissueRule.rawValue),
            ComparedField(Key.qc.rawValue, label: "QC", value: qc.description),
            ComparedField(Key.penMax.rawValue, label: "pen max", value: "\(penMax)"),
            ComparedField(Key.blurMin.rawValue, label: "blur min", value: "\(blurMin)"),
            ComparedField(Key.foldMax.rawValue, label: "fold max", value: "\(foldMax)"),
            ComparedField(Key.bubbleMax.rawValue, label: "bubble max", value: "\(bubbleMax)"),
            ComparedField(Key.blurBlockMin.rawValue, label: "blur block min", value: "\(blurBlockMin)"),
        ]
    }
}

extension TilingSpec: Codable {
    /// Flat, the target as its three optional fields: `{"tileSize": 512, "targetMPP": 0.5, …}`. The
    /// tissue rule and the QC fields are written only when they differ from the luminance rule and
    /// no QC, so records written before them read as what they were.
    public enum Key: String, CodingKey, CaseIterable {
        case tileSize, targetMPP, targetMagnification, level, backgroundThreshold, maxBackground, jpegQuality
        case tissueRule, qc, penMax, blurMin, foldMax, bubbleMax, blurBlockMin
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
        if let rule = try c.decodeIfPresent(String.self, forKey: .tissueRule) {
            guard let r = TissueRule(rawValue: rule) else {
                throw DecodingError.dataCorruptedError(forKey: .tissueRule, in: c, debugDescription: "unknown tissue rule \(rule)")
            }
            tissueRule = r
        }
        if let text = try c.decodeIfPresent(String.self, forKey: .qc) {
            guard let checks = QCChecks(parsing: text) else {
                throw DecodingError.dataCorruptedError(forKey: .qc, in: c, debugDescription: "unknown QC checks \(text)")
            }
            qc = checks
        }
        penMax = try c.decodeIfPresent(Double.self, forKey: .penMax) ?? penMax
        blurMin = try c.decodeIfPresent(Double.self, forKey: .blurMin) ?? blurMin
        foldMax = try c.decodeIfPresent(Double.self, forKey: .foldMax) ?? foldMax
        bubbleMax = try c.decodeIfPresent(Double.self, forKey: .bubbleMax) ?? bubbleMax
        blurBlockMin = try c.decodeIfPresent(Double.self, forKey: .blurBlockMin) ?? blurBlockMin
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
        if tissueRule != .luminance { try c.encode(tissueRule.rawValue, forKey: .tissueRule) }
        if qc != .none { try c.encode(qc.description, forKey: .qc) }
        if qc != .none || penMax != ArtefactQC.defaultPenMax { try c.encode(penMax, forKey: .penMax) }
        if qc != .none || blurMin != ArtefactQC.defaultBlurMin { try c.encode(blurMin, forKey: .blurMin) }
        // Fold and bubble thresholds only where they mean something, so records without them read alike.
        if qc.contains(.fold) || foldMax != ArtefactQC.defaultFoldMax { try c.encode(foldMax, forKey: .foldMax) }
        if qc.contains(.bubble) || bubbleMax != ArtefactQC.defaultBubbleMax { try c.encode(bubbleMax, forKey: .bubbleMax) }
        if blurBlockMin != ArtefactQC.defaultBlurBlockMin { try c.encode(blurBlockMin, forKey: .blurBlockMin) }
    }
}
