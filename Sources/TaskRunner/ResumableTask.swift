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

        public init(label: String, statusURL: URL, workFolder: URL, lockURL: URL, output: URL,
                    temporaries: [(folder: URL, isOurs: (String) -> Bool)]) {
            self.label = label
            self.statusURL = statusURL
            self.workFolder = workFolder
            self.lockURL = lockURL
            self.output = output
            self.temporaries = temporaries
        }
    }

    public struct Policy: Sendable {
        /// Discard the earlier status and outputs and start again.
        public var force = false
        /// Do again the items an earlier run recorded as failed (`--no-retry-failed` turns it off).
        public var retryFailed = true
        public init(force: Bool = false, retryFailed: Bool = true) {
            self.force = force
            self.retryFailed = retryFailed
        }
    }

    public let layout: Layout
    public let policy: Policy
    private var lock: TaskLock?

    public init(layout: Layout, policy: Policy) {
        self.layout = layout
        self.policy = policy
    }

    deinit { lock?.release() }

    /// Takes the task's lock and returns its status: fresh (first run, or `--force`, after
    /// `resetOutputs` removed the task's outputs), or as the last run left it, with the failed items
    /// forgotten when retrying (a complete task with failures is reopened). Refuses a status written
    /// with other parameters (`mismatch` builds the error).
    public func start(parameters: Status.Parameters, resetOutputs: () throws -> Void,
                      mismatch: (_ previous: Status.Parameters) -> Error) throws -> Status {
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
        do { status = try JSONDecoder().decode(Status.self, from: try Data(contentsOf: layout.statusURL)) } catch {
            throw TesseraError.invalidInput(path: layout.statusURL.path, message: "unreadable status file (\(error))",
                                            hint: "re-run with --force to redo this task")
        }
        guard status.parameters == parameters else { throw mismatch(status.parameters) }
        let failed = status.failedItems
        if !failed.isEmpty && policy.retryFailed {
            Log.info("\(layout.label): retrying \(failed.count) slide\(failed.count == 1 ? "" : "s") that failed before "
                + "(\(failed.prefix(5).joined(separator: ", "))\(failed.count > 5 ? ", …" : "")); --no-retry-failed keeps them failed")
            for item in failed { status.forget(item) }
            status.complete = false
        }
        if status.complete {
            // A task killed between writing "complete" and removing its work folder left it behind.
            // (With failed items it is kept on purpose: see `finish`.)
            if status.failedItems.isEmpty && fm.fileExists(atPath: layout.workFolder.path) {
                try? fm.removeItem(at: layout.workFolder)
                Log.info("\(layout.label): removed the work folder a finished run left behind (\(layout.workFolder.path))")
            }
        } else {
            try fm.createDirectory(at: layout.workFolder, withIntermediateDirectories: true)
        }
        return status
    }

    /// Rewrites the status file atomically.
    public func save(_ status: Status) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do { try AtomicFile.write(try encoder.encode(status), to: layout.statusURL) } catch {
            throw environmentFailure(error) ?? error
        }
    }

    /// Marks the task complete. The work folder goes, unless items failed: then it is kept, so
    /// that a later run retrying them merges again from the other items' results instead of
    /// redoing them (it goes once a run ends without failures, or with `--force`).
    public func finish(_ status: inout Status) throws {
        status.complete = true
        try save(status)
        if status.failedItems.isEmpty {
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
