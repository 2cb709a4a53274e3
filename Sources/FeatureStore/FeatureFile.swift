import Foundation
import HDF5
import TesseraCore

/// Reads and writes one slide's feature file (`FeatureStoreLayout`). Writes go to a hidden
/// temporary beside the file and are renamed into place when closed, so a file that exists is
/// complete.
public enum FeatureFile {
    public static let formatName = "tessera-features"
    public static let formatVersion: Int64 = 1

    /// `owner` ends the temporary's name (`.<slide>.h5.tmp-<owner>`), so a task can tell its own
    /// leftovers from another running task's.
    public static func write(_ slide: SlideFeatures, split: String, to url: URL, owner: String = "\(getpid())") throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(owner)")
        try? FileManager.default.removeItem(at: temporary)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        do {
            let file = try HDF5File.create(path: temporary.path)
            do {
                let n = slide.tileCount, d = slide.width
                // Chunks of up to 1024 rows: h5py reads a slide's rows in a few calls.
                let features = try file.createDataset(FeatureStoreLayout.featuresDataset, of: Float.self, shape: [n, d],
                                                      chunk: [max(1, min(n, 1024)), d], checksum: true)
                if n > 0 { try features.write(slide.features, offset: [0, 0], count: [n, d]) }
                let coords = try file.createDataset(FeatureStoreLayout.coordsDataset, of: Int64.self, shape: [n, 2],
                                                    chunk: [max(1, min(n, 4096)), 2], checksum: true)
                if n > 0 { try coords.write(zip(slide.x, slide.y).flatMap { [$0, $1] }, offset: [0, 0], count: [n, 2]) }
                let p = slide.provenance
                func set(_ name: FeatureStoreAttribute, _ value: HDF5AttributeValue) throws { try file.setAttribute(name.rawValue, value) }
                try set(.format, .string(formatName))
                try set(.formatVersion, .int(formatVersion))
                try set(.slideID, .string(slide.slideID))
                try set(.patientID, .string(slide.patientID))
                if let label = slide.label { try set(.label, .string(label)) }
                try set(.embeddingWidth, .int(Int64(d)))
                try set(.model, .string(p.model))
                try set(.modelDigest, .string(p.modelDigest))
                try set(.layer, .string(p.layer))
                try set(.tileSize, .int(Int64(p.tileSize)))
                try set(.level, .int(Int64(p.level)))
                try set(.downsample, .double(p.downsample))
                try set(.mpp, .double(p.mpp ?? -1))
                try set(.split, .string(split))
            } catch {
                try? file.close()
                throw error
            }
            try file.close()
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            try FileManager.default.moveItem(at: temporary, to: url)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// A feature file of this layout, Tessera's or made elsewhere (then only `features` N × D
    /// float32 and `coords` N × 2 integers are required).
    public static func read(_ url: URL) throws -> SlideFeatures {
        let file = try HDF5File.open(path: url.path)
        defer { try? file.close() }
        typealias A = FeatureStoreAttribute
        func string(_ name: A) -> String? { file.hasAttribute(name.rawValue) ? try? file.stringAttribute(name.rawValue) : nil }
        let featureSet = try file.openDataset(FeatureStoreLayout.featuresDataset, of: Float.self)
        let shape = featureSet.shape
        guard shape.count == 2, shape[1] > 0 else {
            throw TesseraError.invalidInput(path: url.path, message: "`features` has shape \(shape), expected N × D",
                                            hint: "write one row of D float32 values per tile")
        }
        let (n, d) = (shape[0], shape[1])
        let coordSet = try file.openDataset(FeatureStoreLayout.coordsDataset, of: Int64.self)
        guard coordSet.shape == [n, 2] else {
            throw TesseraError.invalidInput(path: url.path, message: "`coords` has shape \(coordSet.shape), expected \(n) × 2 (one level-0 x, y per feature row)",
                                            hint: "write one coordinate pair per row of `features`")
        }
        let features = n > 0 ? try featureSet.readAll() : []
        let coords = n > 0 ? try coordSet.readAll() : []
        let slideID = string(.slideID) ?? url.deletingPathExtension().lastPathComponent
        let mpp = (try? file.doubleAttribute(A.mpp.rawValue)).flatMap { $0 > 0 ? $0 : nil }
        let provenance = SlideFeatures.Provenance(
            model: string(.model) ?? "", modelDigest: string(.modelDigest) ?? "", layer: string(.layer) ?? "",
            tileSize: Int((try? file.intAttribute(A.tileSize.rawValue)) ?? 0), level: Int((try? file.intAttribute(A.level.rawValue)) ?? 0),
            downsample: (try? file.doubleAttribute(A.downsample.rawValue)) ?? 1, mpp: mpp)
        return SlideFeatures(slideID: slideID, patientID: string(.patientID) ?? slideID, label: string(.label), width: d,
                             features: features, x: stride(from: 0, to: coords.count, by: 2).map { coords[$0] },
                             y: stride(from: 1, to: coords.count, by: 2).map { coords[$0] }, provenance: provenance)
    }
}
