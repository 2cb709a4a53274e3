import Foundation
import TesseraCore

/// Names of the files and folders in a prediction folder, so that the tasks that write them and the
/// merge that reads them cannot disagree.
///
///     PRED/slides.csv, patients.csv, tiles.csv, failures.csv, report.md, report.json   (merged)
///     PRED/heatmaps/<slide>.jpg
///     PRED/geojson/<slide>.geojson                    QuPath objects: one tile a feature
///     PRED/parts/plan-of-0008.json                    the slides every task of an 8-task run shares out
///     PRED/heatmaps/<slide>-attention.jpg             with a MIL run attached (merge --mil)
///     PRED/parts/task-0003-of-0008/slides.csv, tiles.csv, failures.csv, placements.json, status.json
///     PRED/parts/task-0003-of-0008/work/<slide>.json  finished slides of an unfinished task
public enum PredictionLayout {
    /// The files, named by the raw values: the merged results in the folder, and a task's own in
    /// its part folder.
    public enum File: String, CaseIterable, Sendable {
        case slides = "slides.csv"
        case patients = "patients.csv"
        case tiles = "tiles.csv"
        case failures = "failures.csv"
        case reportMarkdown = "report.md"
        case reportJSON = "report.json"
        case status = "status.json"
        /// Per part: slide id → `SlidePlacement` (absent in parts of earlier versions).
        case placements = "placements.json"
        /// A task's per-slide stain normalisation counts (`[SlideStainCounts]`), with stain normalisation only.
        case stainCounts = "stain-counts.json"

        /// The file in `folder` (the prediction folder or a part folder).
        public func url(in folder: URL) -> URL { folder.appendingPathComponent(rawValue) }
    }

    /// The folders: pictures and QuPath objects beside the merged results, the tasks' parts, and
    /// within a part the finished slides of an unfinished task.
    public enum Folder: String, CaseIterable, Sendable {
        case heatmaps
        case geojson
        case parts
        case work

        public func url(in folder: URL) -> URL { folder.appendingPathComponent(rawValue) }
    }

    /// `slide_id, source, stage, message`: source is the store file or slide file that failed.
    public static let failuresHeader = ["slide_id", "source", "stage", "message"]

    /// `task-0003-of-0008`: the part folder of task 3 of 8 (0-based).
    public static func taskName(task: Int, taskCount: Int) -> String {
        ShardName.of("task", task: task, taskCount: taskCount)
    }

    /// `plan-of-0008.json`.
    public static func planName(taskCount: Int) -> String { "\(ShardName.ofAll("plan", taskCount: taskCount)).json" }

    public static func partFolder(_ out: URL, task: Int, taskCount: Int) -> URL {
        Folder.parts.url(in: out).appendingPathComponent(taskName(task: task, taskCount: taskCount))
    }

    public static func planURL(_ out: URL, taskCount: Int) -> URL {
        Folder.parts.url(in: out).appendingPathComponent(planName(taskCount: taskCount))
    }

    public static func heatmapURL(_ out: URL, slideID: String) -> URL {
        Folder.heatmaps.url(in: out).appendingPathComponent(safeFileName(slideID) + ".jpg")
    }

    /// The attention heatmap beside the class heatmap.
    public static func attentionHeatmapURL(_ out: URL, slideID: String) -> URL {
        Folder.heatmaps.url(in: out).appendingPathComponent(safeFileName(slideID) + "-attention.jpg")
    }

    public static func geojsonURL(_ out: URL, slideID: String) -> URL {
        Folder.geojson.url(in: out).appendingPathComponent(safeFileName(slideID) + ".geojson")
    }

    /// A slide id made safe to be a file name on any file system: characters other than ASCII
    /// letters, digits, `-`, `_` and `.` become `_`, a leading `.` becomes `_`, and at most 150
    /// characters are kept. An id that had to change gets `-` and 8 hex digits of its hash
    /// appended, so two different ids never share a file. Typical ids (TCGA barcodes) are unchanged.
    public static func safeFileName(_ slideID: String) -> String {
        var s = String(slideID.unicodeScalars.map { c -> Character in
            let ok = (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "-" || c == "_" || c == "."
            return ok ? Character(c) : "_"
        })
        if s.hasPrefix(".") { s = "_" + s.dropFirst() }
        if s.count > 150 { s = String(s.prefix(150)) }
        if s != slideID || s.isEmpty {
            let hash = String(stableHash(slideID) & 0xFFFF_FFFF, radix: 16)
            s += "-" + String(repeating: "0", count: 8 - hash.count) + hash
        }
        return s
    }

}
