import Foundation

/// Outputs appear complete or not at all: write under a temporary name in the same directory, then
/// rename over the final name (atomic on POSIX file systems, including Lustre and GPFS within a directory).
public enum AtomicFile {
    /// A temporary sibling of `url`, unique per process, hidden, and recognisable for clean-up.
    public static func temporaryURL(for url: URL) -> URL {
        let dir = url.deletingLastPathComponent()
        let pid = ProcessInfo.processInfo.processIdentifier
        return dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(pid)")
    }

    public static func write(_ data: Data, to url: URL) throws {
        let tmp = temporaryURL(for: url)
        try data.write(to: tmp)
        try commit(tmp, to: url)
    }

    /// Renames a finished temporary file into place (replacing any old file).
    public static func commit(_ tmp: URL, to url: URL) throws {
        if rename(tmp.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            throw TesseraError.io(path: url.path, message: "cannot rename \(tmp.lastPathComponent) into place: \(reason)",
                                  hint: "check that the directory is writable and on one file system")
        }
    }

    /// Removes the temporaries (`.name.tmp-PID`) that killed processes of this host left in
    /// `folder`: those whose PID is not running. A live writer's temporary is left alone. Returns
    /// the names removed.
    @discardableResult
    public static func removeStaleTemporaries(in folder: URL) -> [String] {
        var removed: [String] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where name.hasPrefix(".") {
            guard let r = name.range(of: ".tmp-", options: .backwards), let pid = Int32(name[r.upperBound...]) else { continue }
            if pid == getpid() || (kill(pid, 0) != 0 && errno == ESRCH) {
                if (try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))) != nil { removed.append(name) }
            }
        }
        return removed
    }
}
