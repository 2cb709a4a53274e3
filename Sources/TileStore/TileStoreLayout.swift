import Foundation
import TesseraCore
import Tiling

/// Names of the folders and files inside a store folder (see `TileStoreSchema`), so that the tiler
/// that writes them and the programs that read them cannot disagree.
public enum TileStoreLayout {
    /// The split folders, in pipeline order: named by `Split`.
    public static let splits = Split.allCases.map(\.rawValue)
    public static let trainSplit = Split.train.rawValue
    public static let validationSplit = Split.validation.rawValue
    /// The split stored one file per slide.
    public static let testSplit = Split.test.rawValue

    public static let splitsFile = "splits.csv"
    public static let splitsHeader = ["patient_id", "split"]
    public static let failuresFolder = "failures"
    public static let failuresHeader = ["slide_id", "slide_path", "stage", "message"]
    public static let statusFolder = "status"
    /// Per slide: `<slide_id>.jpg` (the QC picture) and `<slide_id>.csv` (`x,y,decision,ink_fraction,focus,fold_share,rim_length,block_focus`
    /// of every position read: kept, background, pen or blur, with the QC measures when computed).
    public static let qcFolder = "qc"
    public static let fileExtension = "h5"

    /// `part-0003-of-0008.h5`: the train or validation file of array task `task` (0-based).
    public static func partFileName(task: Int, taskCount: Int) -> String {
        "\(ShardName.of("part", task: task, taskCount: taskCount)).\(fileExtension)"
    }

    /// `task-0003-of-0008.csv`: the failures of array task `task`.
    public static func failuresFileName(task: Int, taskCount: Int) -> String {
        "\(ShardName.of("task", task: task, taskCount: taskCount)).csv"
    }

    /// `<slide_id>.h5`: the test file of one slide.
    public static func testFileName(slideID: String) -> String {
        precondition(!slideID.isEmpty && !slideID.contains("/"), "slide id \"\(slideID)\" cannot name a file")
        return "\(slideID).\(fileExtension)"
    }

    /// The store files of every split folder, sorted by path. Hidden files (unfinished temporary
    /// files) are skipped.
    public static func storeFiles(in store: URL) -> [URL] {
        splits.flatMap { storeFiles(in: store, split: $0) }
    }

    /// The store files of one split folder, sorted by name; none when the folder is absent.
    public static func storeFiles(in store: URL, split: String) -> [URL] {
        let folder = store.appendingPathComponent(split, isDirectory: true)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0.hasSuffix(".\(fileExtension)") }
            .sorted()
            .map { folder.appendingPathComponent($0) }
    }
}
