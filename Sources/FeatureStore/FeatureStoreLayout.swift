import Foundation
import Tiling

/// A feature store: the tile embeddings of a tile store, one HDF5 file per slide, in the tile
/// store's split-by-patient folders (the layout CLAM's `extract_features_fp.py` writes per slide):
///
///     FEAT/train/<slide_id>.h5, FEAT/validation/<slide_id>.h5, FEAT/test/<slide_id>.h5
///     FEAT/parts/task-0003-of-0008/status.json      (the embedding tasks' resume state)
///
/// Each file holds `features` (N × D float32: tile k's embedding), `coords` (N × 2 int64: tile k's
/// level-0 x, y) and the attributes `FeatureStoreAttribute` names. Files whose name starts with `.`
/// are unfinished temporaries and are never read.
public enum FeatureStoreLayout {
    /// The tile store's split folders (`Split`), in pipeline order.
    public static let splits = Split.allCases.map(\.rawValue)
    public static let fileExtension = "h5"
    public static let partsFolder = "parts"
    public static let featuresDataset = "features"
    public static let coordsDataset = "coords"

    public static func fileURL(_ store: URL, split: String, slideID: String) -> URL {
        precondition(!slideID.isEmpty && !slideID.contains("/"), "slide id \"\(slideID)\" cannot name a file")
        return store.appendingPathComponent(split, isDirectory: true).appendingPathComponent("\(slideID).\(fileExtension)")
    }

    /// The feature files of one split folder, sorted by name; none when the folder is absent.
    public static func files(in store: URL, split: String) -> [URL] {
        let folder = store.appendingPathComponent(split, isDirectory: true)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0.hasSuffix(".\(fileExtension)") }.sorted().map { folder.appendingPathComponent($0) }
    }
}

/// The attributes of a feature file (root group), named by the raw values. Only `features` and
/// `coords` are required of a file made elsewhere; the rest default as each says.
public enum FeatureStoreAttribute: String, CaseIterable, Sendable {
    /// "tessera-features"; absent in files made elsewhere.
    case format
    /// 1.
    case formatVersion = "format_version"
    /// Defaults to the file name without `.h5`.
    case slideID = "slide_id"
    /// Defaults to the slide id (each slide its own patient).
    case patientID = "patient_id"
    /// The slide's class name; required for MIL training unless given by a labels file.
    case label
    /// D, the embedding width (also the second dimension of `features`).
    case embeddingWidth = "embedding_width"
    /// The model that made the embeddings: its file name and FNV-1a digest of its bytes.
    case model
    case modelDigest = "model_digest"
    /// The layer the embedding is the output of (e.g. `avgpool`: the classifier's input).
    case layer
    /// Tile side in pixels at the tiling level; level, its downsample, µm per pixel there (−1 unknown).
    case tileSize = "patch_size"
    case level = "patch_level"
    case downsample
    case mpp
    /// The split folder the file is in.
    case split
}
