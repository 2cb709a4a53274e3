import Foundation
import TesseraCore

/// One process per task: a lock file created with `open(O_CREAT | O_EXCL)`, holding the owner's
/// host, pid and start time.
///
/// Why a lock file and not `fcntl`/`flock`: exclusive create is atomic on local file systems, NFSv3+,
/// Lustre and GPFS alike, while byte-range locks depend on lock daemons and mount options that
/// clusters often lack; and a lock file says who holds it. Its cost is that a killed owner leaves it
/// behind, so it is judged stale — and taken over with a log line — when its pid is dead on this
/// host, or when its heartbeat (the owner touches the file every `heartbeat` seconds) is older than
/// `staleAfter` (another host's owner cannot be asked whether it lives).
public final class TaskLock: @unchecked Sendable {
    /// How often the owner refreshes the lock file's modification time.
    public static let heartbeat: TimeInterval = 60
    /// A lock whose heartbeat is older than this is stale, whoever holds it (documented in the README).
    public static let staleAfter: TimeInterval = 10 * 60

    /// Who holds a lock, as written in the file.
    public struct Owner: Codable, Equatable, Sendable {
        public var host: String
        public var pid: Int32
        /// ISO 8601, UTC.
        public var since: String
    }

    /// The lock is held by a live process.
    public struct Held: Error, CustomStringConvertible, Equatable, Sendable {
        public let task: String
        public let lockFile: String
        public let owner: Owner?
        public var description: String {
            let who = owner.map { "pid \($0.pid) on \($0.host), since \($0.since)" } ?? "an unknown process"
            return "\(task) is already running (\(who)); lock \(lockFile)\n"
                + "hint: wait for it to finish (this run changed nothing); if that process is gone, its lock is taken over "
                + "\(Int(TaskLock.staleAfter / 60)) minutes after its last heartbeat, or remove the lock file by hand"
        }
    }

    public let url: URL
    public let owner: Owner
    private var timer: DispatchSourceTimer?
    private var released = false
    /// The SIGTERM and SIGINT handlers in place before the lock's own.
    private var previousHandlers: [(Int32, sighandler_t?)] = []

    private init(url: URL, owner: Owner) {
        self.url = url
        self.owner = owner
    }

    public static var hostName: String {
        var buffer = [UInt8](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown-host" }
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Takes the lock at `url` for `task` (a name for messages, e.g. "task 3 of 8"), taking over a
    /// stale one. Throws `Held` when a live process holds it.
    public static func acquire(_ url: URL, task: String, staleAfter: TimeInterval = TaskLock.staleAfter) throws -> TaskLock {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let me = Owner(host: hostName, pid: getpid(),
                       since: utcTimestamp())
        let body = try JSONEncoder().encode(me) + Data("\n".utf8)
        // The owner is written to a file of our own first and linked to the lock's name: link(2) is
        // as exclusive as O_EXCL, and the lock then never exists without its owner in it (a second
        // process reading a half-written lock could not say who holds the task).
        let draft = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(hostName).\(getpid())")
        let linkable = try writeDraft(body, to: draft, lock: url)
        defer { if linkable { unlink(draft.path) } }
        for _ in 0..<3 {
            if linkable ? createByLink(draft, at: url) : try createExclusive(body, at: url) {
                let lock = TaskLock(url: url, owner: me)
                lock.startHeartbeat()
                lock.releaseOnTermination()
                return lock
            }
            guard errno == EEXIST else { throw creationError(errno, at: url) }
            let holder = readOwner(url)
            guard let why = staleness(of: holder, at: url, staleAfter: staleAfter) else {
                throw Held(task: task, lockFile: url.path, owner: holder)
            }
            // Move the stale lock aside (atomic: of two processes taking over, one wins the rename),
            // then check it is the one judged stale; a fresh lock grabbed by mistake is put back.
            let aside = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).stale-\(getpid())")
            guard rename(url.path, aside.path) == 0 else { continue }
            if readOwner(aside) != holder {
                _ = link(aside.path, url.path)
                unlink(aside.path)
                continue
            }
            unlink(aside.path)
            let who = holder.map { "pid \($0.pid) on \($0.host), since \($0.since)" } ?? "unreadable owner"
            Log.warning("\(task): taking over a stale lock \(url.path) (\(who); \(why))")
        }
        throw Held(task: task, lockFile: url.path, owner: readOwner(url))
    }

    /// Writes the owner's record to `draft`; false when the file system has no hard links (the lock
    /// is then created with O_EXCL and written in place).
    private static func writeDraft(_ body: Data, to draft: URL, lock url: URL) throws -> Bool {
        unlink(draft.path)
        guard try createExclusive(body, at: draft) else { return false }
        // A probe: link the draft to a second name; file systems without hard links say so here.
        let probe = draft.path + ".link"
        unlink(probe)
        if link(draft.path, probe) == 0 {
            unlink(probe)
            return true
        }
        unlink(draft.path)
        return false
    }

    /// Creates the lock as a hard link to the draft; false when the lock exists (errno EEXIST).
    private static func createByLink(_ draft: URL, at url: URL) -> Bool {
        if link(draft.path, url.path) == 0 { return true }
        let code = errno
        // NFS may report a failure for a link that was made (a retransmitted request): the draft's
        // link count says whether it was.
        var info = stat()
        if stat(draft.path, &info) == 0 && info.st_nlink == 2 { return true }
        errno = code
        return false
    }

    /// Why a lock (or its draft) at `url` could not be created: the file system's failure, or another error.
    private static func creationError(_ code: Int32, at url: URL) -> Error {
        if EnvironmentFailure.codes.contains(code) {
            return EnvironmentFailure(folder: url.deletingLastPathComponent().path, code: code, detail: "creating the lock file \(url.path)")
        }
        return TesseraError.io(path: url.path, message: "cannot create the task's lock file: \(String(cString: strerror(code)))",
                               hint: "check that the folder is writable")
    }

    /// Creates `url` with O_EXCL and writes `body` to it; false when it exists (errno EEXIST).
    private static func createExclusive(_ body: Data, at url: URL) throws -> Bool {
        let fd = open(url.path, O_CREAT | O_EXCL | O_WRONLY, 0o644)
        guard fd >= 0 else {
            let code = errno
            if code == EEXIST { return false }
            throw creationError(code, at: url)
        }
        let written = body.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == body.count, synced == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(url.path)
            throw TesseraError.io(path: url.path, message: "cannot write the task's lock file: \(reason)",
                                  hint: "check that the folder is writable and has space")
        }
        return true
    }

    /// Why the lock held by `owner` is stale, or nil when it is live.
    static func staleness(of owner: Owner?, at url: URL, staleAfter: TimeInterval) -> String? {
        let modified = (try? FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate]) as? Date
        let age = modified.map { Date().timeIntervalSince($0) } ?? .infinity
        if let owner, owner.host == hostName, kill(owner.pid, 0) != 0, errno == ESRCH {
            return "that process is not running on this host"
        }
        if age > staleAfter {
            return "no heartbeat for \(Int(age / 60)) minutes (stale after \(Int(staleAfter / 60)))"
        }
        // An unreadable lock younger than staleAfter may be one being written right now.
        return nil
    }

    /// The owner written in the lock file at `url`, if it is readable.
    public static func readOwner(_ url: URL) -> Owner? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return try? JSONDecoder().decode(Owner.self, from: data)
    }

    private func startHeartbeat() {
        let path = url.path
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "tessera.task-lock.heartbeat"))
        timer.schedule(deadline: .now() + Self.heartbeat, repeating: Self.heartbeat)
        timer.setEventHandler { _ = utimes(path, nil) }
        timer.resume()
        self.timer = timer
    }

    /// A task ended by SIGTERM or SIGINT removes its lock, then dies of the signal as before: a
    /// re-submitted task need not wait for the lock to go stale. (A plain handler: it only calls
    /// async-signal-safe functions — unlink, signal, raise — on a path prepared beforehand.)
    private func releaseOnTermination() {
        TaskLock.signalPath = strdup(url.path)
        for sig in [SIGTERM, SIGINT] {
            previousHandlers.append((sig, signal(sig) { sig in
                if let path = TaskLock.signalPath { unlink(path) }
                signal(sig, SIG_DFL)
                raise(sig)
            }))
        }
    }

    /// The lock file a signal handler removes (one task per process).
    nonisolated(unsafe) private static var signalPath: UnsafeMutablePointer<CChar>?

    /// Removes the lock file, if it is still ours.
    public func release() {
        guard !released else { return }
        released = true
        timer?.cancel()
        if Self.readOwner(url) == owner { unlink(url.path) }
        for (sig, handler) in previousHandlers { signal(sig, handler) }
        previousHandlers = []
    }

    deinit { release() }
}
