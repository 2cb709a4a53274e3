import Foundation
import TaskRunner
import TesseraCore
import TileStore
import Tiling

/// The end of a tiling task: its finished fragments merged into the split's part files (test
/// fragments moved into place), and the part files of a finished task carried into a retry.
extension TilingJob {
    func partURL(_ split: Split) -> URL {
        store.appendingPathComponent(split.rawValue)
            .appendingPathComponent(TileStoreLayout.partFileName(task: options.share.shard, taskCount: options.share.shards))
    }

    func mergeFragments(mine: [ManifestEntry], status: TaskStatus, manifest: SlideManifest) throws {
        let fm = FileManager.default
        for split in [Split.train, .validation] {
            let slides = mine.filter { status.slides[$0.slideID]?.state == .done && status.slides[$0.slideID]?.split == split }
            let part = partURL(split)
            guard !slides.isEmpty else { try? fm.removeItem(at: part); continue }
            let writer = try TileStoreWriter(url: part, attributes: attributes(split: split, classes: manifest.classes))
            do {
                var carried: Set<String> = []
                if FileManager.default.fileExists(atPath: carriedURL(split).path) {
                    let reader = try TileStoreReader(url: carriedURL(split))
                    carried = Set(reader.slides.map(\.slideID))
                    try writer.append(contentsOf: reader)
                    try reader.close()
                }
                for entry in slides where !carried.contains(entry.slideID) {
                    let reader = try TileStoreReader(url: fragmentURL(entry.slideID))
                    try writer.append(contentsOf: reader)
                    try reader.close()
                }
                try writer.finish()
            } catch {
                writer.discard()
                throw error
            }
            Log.info("wrote \(part.path): \(slides.count) slides, \(slides.reduce(0) { $0 + status.slides[$1.slideID]!.tilesKept }) tiles")
        }
        for entry in mine where status.slides[entry.slideID]?.state == .done && status.slides[entry.slideID]?.split == .test {
            let fragment = fragmentURL(entry.slideID)
            let final = testURL(entry.slideID)
            if fm.fileExists(atPath: fragment.path) {
                try AtomicFile.commit(fragment, to: final)
            } else if !fm.fileExists(atPath: final.path) {
                throw TesseraError.io(path: fragment.path, message: "the fragment of a finished test slide is missing",
                                      hint: "re-run this task with --force")
            }
        }
        try writeFailures(mine: mine, status: status)
    }

    func writeFailures(mine: [ManifestEntry], status: TaskStatus) throws {
        let rows = mine.compactMap { e -> [String]? in
            guard let s = status.slides[e.slideID], s.state == .failed else { return nil }
            return [e.slideID, e.slidePath, s.stage?.rawValue ?? "", s.message ?? ""]
        }
        if rows.isEmpty {
            try? FileManager.default.removeItem(at: failuresURL)
        } else {
            try AtomicFile.write(Data(CSV.document(header: TileStoreLayout.failuresHeader, rows: rows).utf8), to: failuresURL)
        }
    }

    // MARK: Retrying a finished task

    /// Where a reopened task keeps its earlier part file of `split` until the new merge.
    func carriedURL(_ split: Split) -> URL { workFolder.appendingPathComponent(".carried-\(split.rawValue).h5") }

    /// A finished task reopened to retry its failed slides: its part files hold the slides done
    /// before (their fragments were removed when merged); they are moved into the work folder and
    /// merged again with the retried slides, instead of tiling those slides again.
    func carryParts() throws {
        for split in [Split.train, .validation] where FileManager.default.fileExists(atPath: partURL(split).path) {
            try AtomicFile.commit(partURL(split), to: carriedURL(split))
        }
    }

    /// The slides in the carried part files.
    func carriedSlides() throws -> Set<String> {
        var ids: Set<String> = []
        for split in [Split.train, .validation] where FileManager.default.fileExists(atPath: carriedURL(split).path) {
            let reader = try TileStoreReader(url: carriedURL(split))
            ids.formUnion(reader.slides.map(\.slideID))
            try reader.close()
        }
        return ids
    }

}
