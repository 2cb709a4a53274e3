import Foundation
import Model
import TesseraCore
import TileStore
import Tiling

/// Where the slides to predict come from.
public enum PredictionSource: Sendable, Equatable {
    /// A tile store written by tessera-tile: its per-slide test files, `STORE/test/<slide_id>.h5`.
    case store(URL)
    /// A manifest of slide files (the tiler's format; labels optional), tiled here with the
    /// model's tiling parameters.
    case manifest(URL)

    public var description: String {
        switch self {
        case let .store(url): return "store \(url.path)"
        case let .manifest(url): return "manifest \(url.path)"
        }
    }
}

/// One slide to predict, before it is opened.
struct PredictionItem: Sendable, Equatable {
    var slideID: String
    /// Known in advance from a manifest; from a store, read from the file's slide table.
    var patientID: String?
    var label: String?
    /// The store file or the slide file.
    var path: String
    /// File bytes, to balance the shards.
    var size: Int64
}

extension PredictionSource {
    /// Every slide of the source, sorted by slide id. A store's test files are named after their
    /// slide (`<slide_id>.h5`); a manifest is validated as the tiler does, its labels against the
    /// model's classes.
    func items(classes: [String], requireReadable: Bool) throws -> [PredictionItem] {
        let fm = FileManager.default
        func size(_ path: String) -> Int64 { ((try? fm.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.int64Value ?? 0 }
        switch self {
        case let .store(store):
            let files = TileStoreLayout.storeFiles(in: store, split: TileStoreLayout.testSplit)
            guard !files.isEmpty else {
                throw TesseraError.invalidInput(path: store.appendingPathComponent(TileStoreLayout.testSplit).path,
                                                message: "no test slide files (\(TileStoreLayout.testSplit)/<slide_id>.\(TileStoreLayout.fileExtension))",
                                                hint: "pass the --store folder tessera-tile wrote, or predict from slides with --manifest")
            }
            return files.map { url in
                PredictionItem(slideID: url.deletingPathExtension().lastPathComponent, patientID: nil, label: nil, path: url.path,
                               size: size(url.path))
            }.sorted { $0.slideID < $1.slideID }
        case let .manifest(url):
            let manifest = try SlideManifest.load(url, classes: classes, requireReadable: requireReadable)
            return manifest.entries.map {
                PredictionItem(slideID: $0.slideID, patientID: $0.patientID, label: $0.label, path: $0.slidePath, size: size($0.slidePath))
            }.sorted { $0.slideID < $1.slideID }
        }
    }
}

extension ModelCompatibility {
    /// Throws the differences as one message naming the file.
    static func check(model: ModelFile.Header, modelPath: String, store: TileStoreAttributes, storePath: String) throws {
        let d = differences(model: model, store: store)
        guard d.isEmpty else {
            throw PredictionError.mismatch(model: modelPath, store: storePath, differences: d)
        }
    }
}
