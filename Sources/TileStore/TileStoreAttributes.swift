import Foundation
import TesseraCore
import Tiling

/// How tile pixels are stored.
public enum TileEncoding: String, Sendable, Codable, CaseIterable {
    /// JPEG bytes, concatenated in `/tiles/jpeg` (~19× smaller than raw for H&E at quality 90).
    case jpeg
    /// Uncompressed RGB in `/tiles/raw`, one chunk per tile.
    case raw
}

/// A store file's root attributes: what it holds and how it was tiled (see `TileStoreSchema`).
/// The tiling is the `TilingSpec` the tiler cut by, mapped to and from the store's own attribute
/// names (`TileStoreAttributes+HDF5`), which stay as they were so older stores still read.
public struct TileStoreAttributes: Equatable, Sendable {
    public var split: String
    /// Class names; labels are indices into this list.
    public var classes: [String]
    public var tiling: TilingSpec
    public var splitSeed: UInt64
    /// [train, validation, test].
    public var splitFractions: [Double]
    public var tesseraVersion: String
    /// ISO 8601 UTC (`utcTimestamp`).
    public var created: String
    public var task: Int
    public var taskCount: Int

    public init(split: String, classes: [String], tiling: TilingSpec, splitSeed: UInt64, splitFractions: [Double],
                tesseraVersion: String, created: String, task: Int, taskCount: Int) {
        self.split = split
        self.classes = classes
        self.tiling = tiling
        self.splitSeed = splitSeed
        self.splitFractions = splitFractions
        self.tesseraVersion = tesseraVersion
        self.created = created
        self.task = task
        self.taskCount = taskCount
    }

    public var tileSize: Int { tiling.tileSize }
    /// How tile pixels are stored: JPEG when the spec has a quality.
    public var encoding: TileEncoding { tiling.jpegQuality == nil ? .raw : .jpeg }

    /// How this file's tiling parameters differ from `other`'s, one "name: a vs b" line each,
    /// named by the store's attribute names.
    public func tilingDifferences(from other: TileStoreAttributes) -> [String] {
        differences(from: other).map { "\($0.name): \($0.mine) vs \($0.theirs)" }
    }
}

extension TileStoreAttributes: FieldComparable {
    /// The parameters that decide what a tile is (classes, the tiling spec, the patient split).
    /// Files of one store must agree on all of them; the split, provenance and task fields may differ.
    public var comparedFields: [ComparedField] {
        typealias A = TileStoreSchema.Attribute
        let spec = tiling.comparedFields.map { f in
            ComparedField(A.name(ofSpecField: f.name), label: f.label, value: f.value)
        }
        return [ComparedField(A.classes.rawValue, value: classes.joined(separator: ","))] + spec + [
            ComparedField(A.splitSeed.rawValue, value: "\(splitSeed)"),
            ComparedField(A.splitFractions.rawValue, value: splitFractions.map { "\($0)" }.joined(separator: ",")),
        ]
    }
}
