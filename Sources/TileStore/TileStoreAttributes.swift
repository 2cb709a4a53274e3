import Foundation

/// How tile pixels are stored.
public enum TileEncoding: String, Sendable, Codable, CaseIterable {
    /// JPEG bytes, concatenated in `/tiles/jpeg` (~19× smaller than raw for H&E at quality 90).
    case jpeg
    /// Uncompressed RGB in `/tiles/raw`, one chunk per tile.
    case raw
}

/// A store file's root attributes: what it holds and how it was tiled (see `TileStoreSchema`).
/// Optional numbers are stored as −1 when nil.
public struct TileStoreAttributes: Equatable, Sendable {
    public var split: String
    /// Class names; labels are indices into this list.
    public var classes: [String]
    public var tileSize: Int
    public var encoding: TileEncoding
    /// 1–100 for JPEG, 0 for raw.
    public var jpegQuality: Int
    /// µm per tile pixel asked for; nil when tiled by level.
    public var targetMPP: Double?
    public var targetMagnification: Double?
    /// Pyramid level, when tiled by level.
    public var level: Int?
    /// Luminance (0–255) above which a pixel counts as background.
    public var backgroundThreshold: Double
    /// Largest background fraction of a kept tile.
    public var maxBackground: Double
    public var splitSeed: UInt64
    /// [train, validation, test].
    public var splitFractions: [Double]
    public var tesseraVersion: String
    /// ISO 8601 UTC; see `TileStoreAttributes.timestamp(_:)`.
    public var created: String
    public var task: Int
    public var taskCount: Int

    public init(split: String, classes: [String], tileSize: Int, encoding: TileEncoding, jpegQuality: Int,
                targetMPP: Double?, targetMagnification: Double?, level: Int?, backgroundThreshold: Double,
                maxBackground: Double, splitSeed: UInt64, splitFractions: [Double], tesseraVersion: String,
                created: String, task: Int, taskCount: Int) {
        self.split = split
        self.classes = classes
        self.tileSize = tileSize
        self.encoding = encoding
        self.jpegQuality = jpegQuality
        self.targetMPP = targetMPP
        self.targetMagnification = targetMagnification
        self.level = level
        self.backgroundThreshold = backgroundThreshold
        self.maxBackground = maxBackground
        self.splitSeed = splitSeed
        self.splitFractions = splitFractions
        self.tesseraVersion = tesseraVersion
        self.created = created
        self.task = task
        self.taskCount = taskCount
    }

    /// `2026-11-29T14:03:00Z`: the form of `created`.
    public static func timestamp(_ date: Date = Date()) -> String {
        ISO8601DateFormatter.string(from: date, timeZone: TimeZone(identifier: "UTC")!,
                                    formatOptions: [.withInternetDateTime])
    }

    /// The parameters that decide what a tile is (classes, size, encoding, magnification,
    /// background filter, patient split), as "name value" pairs. Files of one store must agree on
    /// all of them; the split, provenance and task fields may differ.
    public var tilingParameters: [(name: String, value: String)] {
        typealias A = TileStoreSchema.Attribute
        func optional(_ v: Double?) -> String { v.map { "\($0)" } ?? "none" }
        return [
            (A.classes, classes.joined(separator: ",")),
            (A.tileSize, "\(tileSize)"),
            (A.encoding, encoding.rawValue),
            (A.jpegQuality, "\(jpegQuality)"),
            (A.targetMPP, optional(targetMPP)),
            (A.targetMagnification, optional(targetMagnification)),
            (A.level, level.map { "\($0)" } ?? "none"),
            (A.backgroundThreshold, "\(backgroundThreshold)"),
            (A.maxBackground, "\(maxBackground)"),
            (A.splitSeed, "\(splitSeed)"),
            (A.splitFractions, splitFractions.map { "\($0)" }.joined(separator: ",")),
        ]
    }

    /// How this file's tiling parameters differ from `other`'s, one "name: a vs b" line each.
    public func tilingDifferences(from other: TileStoreAttributes) -> [String] {
        zip(tilingParameters, other.tilingParameters).compactMap { mine, theirs in
            mine.value == theirs.value ? nil : "\(mine.name): \(mine.value) vs \(theirs.value)"
        }
    }
}
