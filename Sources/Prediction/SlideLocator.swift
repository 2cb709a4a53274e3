import Foundation
import Tiling

/// Finds a slide's file from its id, for heatmap backgrounds when predicting from a store (whose
/// files do not record where the slides were): from a manifest's `slide_path`, or as
/// `<slide_id>.<extension>` in a folder, for the extensions OpenSlide reads.
struct SlideLocator: Sendable {
    static let extensions = ["svs", "tif", "tiff", "ndpi", "vms", "vmu", "scn", "mrxs", "svslide", "bif"]
    var paths: [String: String] = [:]
    var directory: URL?

    init(directory: URL?, manifest: URL?) throws {
        self.directory = directory
        if let manifest {
            let m = try SlideManifest.load(manifest, requireReadable: false)
            paths = Dictionary(m.entries.map { ($0.slideID, $0.slidePath) }, uniquingKeysWith: { a, _ in a })
        }
    }

    func path(of slideID: String) -> String? {
        let fm = FileManager.default
        if let p = paths[slideID], fm.isReadableFile(atPath: p) { return p }
        guard let directory else { return nil }
        for ext in Self.extensions {
            let p = directory.appendingPathComponent("\(slideID).\(ext)").path
            if fm.isReadableFile(atPath: p) { return p }
        }
        return nil
    }
}
