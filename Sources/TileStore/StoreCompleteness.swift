import Foundation
import TesseraCore

/// What a store folder should contain, from the tiler's status files (`STORE/status/task-I-of-N.json`),
/// against what it does: the files the audit, the trainer and the predictor refuse to go without.
///
/// Each finished task's status lists its slides, done or failed, and their split: a done train or
/// validation slide must be in `SPLIT/part-I-of-N.h5`, a done test slide in `test/<slide_id>.h5`.
/// Failed slides are expected to be absent (they are in `failures/`). Every task 0..<N must have a
/// status file, and a finished one. A folder without status files (a store built by other means,
/// or one whose `status/` was removed) cannot be checked (`verifiable` false): the callers say so.
public struct StoreCompleteness: Equatable, Sendable {
    /// False when the folder has no tiler status to check against.
    public var verifiable: Bool
    /// Every expected store file, relative to the store ("train/part-0000-of-0002.h5"), with the
    /// slide ids the status says it holds.
    public var expected: [String: [String]] = [:]
    /// What is missing, one human-readable line each, in a stable order.
    public var missing: [String] = []

    public var isComplete: Bool { missing.isEmpty }

    /// The task status file's fields this check needs (the tiler writes more).
    private struct TaskStatusFile: Decodable {
        struct Slide: Decodable {
            var state: String
            var split: String
        }
        var slides: [String: Slide]
        var complete: Bool
    }

    /// Checks `store` for the files of `splits` (default: all three).
    public static func check(store: URL, splits: [String] = TileStoreLayout.splits) -> StoreCompleteness {
        let fm = FileManager.default
        let statusFolder = store.appendingPathComponent(TileStoreLayout.statusFolder)
        let names = ((try? fm.contentsOfDirectory(atPath: statusFolder.path)) ?? []).filter { !$0.hasPrefix(".") && $0.hasSuffix(".json") }.sorted()
        var tasks: [(name: String, task: Int, count: Int)] = []
        for name in names {
            guard let (task, count) = taskNumbers(String(name.dropLast(5))) else { continue }
            tasks.append((name, task, count))
        }
        if tasks.isEmpty { return StoreCompleteness(verifiable: false) }
        var result = StoreCompleteness(verifiable: true)
        for count in Set(tasks.map(\.count)).sorted() {
            let present = Set(tasks.filter { $0.count == count }.map(\.task))
            for task in 0..<count where !present.contains(task) {
                result.missing.append("\(TileStoreLayout.statusFolder)/\(taskName(task, count)).json: task \(task) of \(count) has no status file (it never ran, or its status was lost)")
            }
        }
        for (name, task, count) in tasks {
            let url = statusFolder.appendingPathComponent(name)
            guard let data = try? Data(contentsOf: url), let status = try? JSONKeyStyle.snakeCase.decoder().decode(TaskStatusFile.self, from: data) else {
                result.missing.append("\(TileStoreLayout.statusFolder)/\(name): unreadable, so what task \(task) of \(count) wrote is unknown")
                continue
            }
            guard status.complete else {
                result.missing.append("task \(task) of \(count) (\(TileStoreLayout.statusFolder)/\(name)) has not finished: its files are not all written")
                continue
            }
            for (slideID, slide) in status.slides where slide.state == "done" && splits.contains(slide.split) {
                let file = slide.split == TileStoreLayout.testSplit
                    ? "\(TileStoreLayout.testSplit)/\(TileStoreLayout.testFileName(slideID: slideID))"
                    : "\(slide.split)/\(TileStoreLayout.partFileName(task: task, taskCount: count))"
                result.expected[file, default: []].append(slideID)
            }
        }
        for file in result.expected.keys.sorted() {
            result.expected[file]!.sort()
            guard !fm.fileExists(atPath: store.appendingPathComponent(file).path) else { continue }
            let slides = result.expected[file]!
            let shown = slides.prefix(5).joined(separator: ", ") + (slides.count > 5 ? ", and \(slides.count - 5) more" : "")
            result.missing.append("\(file) (\(slides.count) slide\(slides.count == 1 ? "" : "s"): \(shown))")
        }
        return result
    }

    /// Throws `TileStoreError.incompleteStore` when something is missing, unless `allowPartial`;
    /// returns the lines to log (what is missing when allowed, or that nothing could be checked).
    public func enforce(store: URL, allowPartial: Bool) throws -> [String] {
        if !verifiable {
            return ["\(store.path): no tiler status files (\(TileStoreLayout.statusFolder)/task-*.json), so whether the store is complete cannot be checked"]
        }
        guard !missing.isEmpty else { return [] }
        guard allowPartial else { throw TileStoreError.incompleteStore(path: store.path, missing: missing) }
        return ["\(store.path): going on with a partial store (--allow-partial-store); missing:"] + missing.map { "  \($0)" }
    }

    /// `task-0003-of-0008` → (3, 8).
    private static func taskNumbers(_ stem: String) -> (Int, Int)? {
        let parts = stem.split(separator: "-")
        guard parts.count == 4, parts[0] == "task", parts[2] == "of", let task = Int(parts[1]), let count = Int(parts[3]),
              count > 0, task >= 0, task < count else { return nil }
        return (task, count)
    }

    private static func taskName(_ task: Int, _ count: Int) -> String {
        ShardName.of("task", task: task, taskCount: count)
    }
}
