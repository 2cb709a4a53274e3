import Foundation
import TesseraCore

/// The skeleton shared by the sharded, resumable stages (tiling, prediction): one process per task
/// (`TaskLock`), a status file rewritten atomically after every item, per-item results committed by
/// rename into a work folder, `--force`, removal of a killed run's temporaries and of a finished
/// task's leftover work folder, failed items retried by the next run, and environment failures of
/// the output (`EnvironmentFailure`) that stop the task instead of failing items.
///
/// Usage: `start` (lock, load or reset the status), then per item `save` after committing its
/// result, then `finish`; `release` (or deinit) drops the lock.
public final class ResumableTask<Status: ResumableStatus> {
    public struct Layout {
        /// For messages: "task 3 of 8".
        public var label: String
        public var statusURL: URL
        public var workFolder: URL
        public var lockURL: URL
        /// The output folder named by environment failures.
        public var output: URL
        /// Folders where a killed run of this task may have left `.name.tmp-PID` files, each with a
        /// test of whether a name is this task's (other tasks may share the folder).
        public var temporaries: [(folder: URL, isOurs: (String) -> Bool)]
        /// Keep the work folder of a task finished with failed items, so that retrying them merges
        /// again from the others' results (small results: prediction). Without it (large results:
        /// tiling), the task carries its merged outputs into a retry itself (see `reopened`).
        public var keepsWorkForRetry: Bool

        public init(label: String, statusURL: URL, workFolder: URL, lockURL: URL, output: URL,
                    temporaries: [(folder: URL, isOurs: (String) -> Bool)], keepsWorkForRetry: Bool) {
            self.label = label
            self.statusURL = statusURL
            self.workFolder = workFolder
            self.lockURL = lockURL
            self.output = output
            self.temporaries = temporaries
            self.keepsWorkForRetry = keepsWorkForRetry
        }
    }

    public typealias Policy = TaskPolicy

    public let layout: Layout
    public let policy: Policy
    private var lock: TaskLock?
    /// Set by `start` when a complete task was reopened to retry its failed items.
    public private(set) var reopened = false

    public init(layout: Layout, policy: Policy) {
        self.layout = layout
        self.policy = policy
    }

    deinit { lock?.release() }

    /// Takes the task's lock and returns its status: fresh (first run, or `--force`, after
    /// `resetOutputs` removed the task's outputs), or as the last run left it, with the failed items
    /// forgotten when retrying (a complete task with failures is reopened). Refuses a status written
    /// with other parameters (`mismatch` builds the error from how they changed since).
    public func start(parameters: Status.Parameters, resetOutputs: () throws -> Void,
                      mismatch: (_ differences: [FieldDifference]) -> Error) throws -> Status {
        let fm = FileManager.default
        lock = try TaskLock.acquire(layout.lockURL, task: layout.label)
        removeStaleTemporaries()
        if policy.force {
            try? fm.removeItem(at: layout.statusURL)
            try? fm.removeItem(at: layout.workFolder)
            try resetOutputs()
            try fm.createDirectory(at: layout.workFolder, withIntermediateDirectories: true)
            return Status(parameters: parameters)
        }
        guard fm.fileExists(atPath: layout.statusURL.path) else {
            try fm.createDirectory(at: layout.workFolder, withIntermediateDirectories: true)
            return Status(parameters: parameters)
        }
        var status: Status
        do { status = try JSONKeyStyle.snakeCase.decoder().decode(Status.self, from: try Data(contentsOf: layout.statusURL)) } catch {
            throw TesseraError.invalidInput(path: layout.statusURL.path, message: "unreadable status file (\(error))",
                                            hint: "re-run with --force to redo this task")
        }
        guard status.parameters == parameters else { throw mismatch(parameters.differences(from: status.parameters)) }
        let failed = status.failedItems
        if !failed.isEmpty && policy.retryFailed {
            Log.info("\(layout.label): retrying \(failed.count) slide\(failed.count == 1 ? "" : "s") that failed before "
                + "(\(failed.prefix(5).joined(separator: ", "))\(failed.count > 5 ? ", …" : "")); --no-retry-failed keeps them failed")
            for item in failed { status.forget(item) }
            reopened = status.complete
            status.complete = false
        }
        if status.complete {
            // A task killed between writing "complete" and removing its work folder left it behind.
            // (Kept on purpose for failed items to retry: see `finish`.)
            if !keepsWork(status) && fm.fileExists(atPath: layout.workFolder.path) {
                try? fm.removeItem(at: layout.workFolder)
                Log.info("\(layout.label): removed the work folder a finished run left behind (\(layout.workFolder.path))")
            }
        } else {
            try fm.createDirectory(at: layout.workFolder, withIntermediateDirectories: true)
        }
        return status
    }

    /// Rewrites the status file atomically, in snake_case (camelCase files of earlier versions still read).
    public func save(_ status: Status) throws {
        do { try AtomicFile.write(try JSONKeyStyle.snakeCase.encoder().encode(status), to: layout.statusURL) } catch {
            throw environmentFailure(error) ?? error
        }
    }

    private func keepsWork(_ status: Status) -> Bool { layout.keepsWorkForRetry && !status.failedItems.isEmpty }

    /// Marks the task complete. The work folder goes, unless items failed and the layout keeps it
    /// for their retry (it goes once a run ends without failures, or with `--force`).
    public func finish(_ status: inout Status) throws {
        status.complete = true
        try save(status)
        if !keepsWork(status) {
            try? FileManager.default.removeItem(at: layout.workFolder)
        } else {
            Log.info("\(layout.label): kept \(layout.workFolder.path) so that a re-run retries the failed slides without redoing the others")
        }
    }

    /// Drops the lock (also done when the task is released).
    public func release() {
        lock?.release()
        lock = nil
    }

    /// `error` as an environment failure of the task's output folder, or nil.
    public func environmentFailure(_ error: Error) -> EnvironmentFailure? {
        EnvironmentFailure(classifying: error, folder: layout.output)
    }

    /// A killed run's `.name.tmp-PID` files. Safe under the lock: no live run of this task writes them.
    private func removeStaleTemporaries() {
        let fm = FileManager.default
        for (folder, isOurs) in layout.temporaries {
            for name in (try? fm.contentsOfDirectory(atPath: folder.path)) ?? [] where name.hasPrefix(".") && name.contains(".tmp-") {
                if isOurs(name) { try? fm.removeItem(at: folder.appendingPathComponent(name)) }
            }
        }
    }
}

/// What a re-run does with an earlier run of the task (`--force`, `--no-retry-failed`).
public struct TaskPolicy: Equatable, Sendable {
    /// Discard the earlier status and outputs and start again.
    public var force = false
    /// Do again the items an earlier run recorded as failed (`--no-retry-failed` turns it off).
    public var retryFailed = true
    public init(force: Bool = false, retryFailed: Bool = true) {
        self.force = force
        self.retryFailed = retryFailed
    }
}
