import Foundation

/// The output's file system cannot take more writes: out of space, over quota, read-only, or
/// failing with I/O errors. Not a failure of the item being written (the next item would fail the
/// same way, and a healthy slide must not be recorded as failed), so a task stops at once with this
/// error and records nothing for the item; a re-run after the cause is fixed finishes the task.
public struct EnvironmentFailure: Error, CustomStringConvertible, Equatable, Sendable {
    /// The folder being written (the store, the prediction folder, the run folder).
    public let folder: String
    /// ENOSPC, EDQUOT, EROFS or EIO.
    public let code: Int32
    /// What was being written when it happened (the underlying error's text).
    public let detail: String

    /// The errno values that mean "the file system, not the item".
    public static let codes: [Int32] = [ENOSPC, EDQUOT, EROFS, EIO]

    public init(folder: String, code: Int32, detail: String) {
        self.folder = folder
        self.code = code
        self.detail = detail
    }

    /// `error` as an environment failure of `folder`, or nil when it is something else.
    public init?(classifying error: Error, folder: URL) {
        if let already = error as? EnvironmentFailure { self = already; return }
        guard let code = Self.environmentErrno(of: error) else { return nil }
        self.init(folder: folder.path, code: code, detail: "\(error)")
    }

    /// Each of `codes` by name, with what fixes it (nil: nothing more specific than checking the
    /// file system).
    private static let known: [Int32: (name: String, fix: String?)] = [
        ENOSPC: ("ENOSPC", "free space on that file system (or use another folder) and run the task again"),
        EDQUOT: ("EDQUOT", "free space within your quota (or ask for more) and run the task again"),
        EROFS: ("EROFS", "write to a writable folder, or have the file system remounted read-write, and run the task again"),
        EIO: ("EIO", nil),
    ]

    public var cause: String {
        "\(String(cString: strerror(code))) (\(Self.known[code]?.name ?? "errno \(code)"))"
    }

    public var description: String {
        let fix = Self.known[code]?.fix ?? "check the file system (dmesg, the admins) and run the task again"
        return "\(folder): cannot write: \(cause); stopped, nothing of the unfinished item was kept\n"
            + "  while: \(detail.replacingOccurrences(of: "\n", with: "\n  "))\n"
            + "hint: \(fix); finished items are kept and the task resumes where it stopped"
    }

    /// The environment errno carried by `error`, typed where the error type has one (POSIXError,
    /// NSError in the POSIX domain, Foundation's out-of-space and read-only codes, underlying errors),
    /// else read from its text: HDF5's error stack says `errno = 28, error message = '…'`, and
    /// Tessera's own I/O errors quote `strerror`.
    public static func environmentErrno(of error: Error) -> Int32? {
        if let posix = error as? POSIXError, codes.contains(posix.code.rawValue) { return posix.code.rawValue }
        if let cocoa = error as? CocoaError {
            switch cocoa.code {
            case .fileWriteOutOfSpace: return ENOSPC
            case .fileWriteVolumeReadOnly: return EROFS
            default: break
            }
            if let underlying = cocoa.userInfo[NSUnderlyingErrorKey] as? Error, let code = environmentErrno(of: underlying) { return code }
        }
        // Casting any Swift error to NSError always succeeds on Linux; only trust the POSIX domain.
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain, codes.contains(Int32(ns.code)) { return Int32(ns.code) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? Error, let code = environmentErrno(of: underlying) { return code }
        return environmentErrno(inText: "\(error)")
    }

    /// Reads `errno = N` (HDF5's file drivers) or the `strerror` text of one of `codes`.
    public static func environmentErrno(inText text: String) -> Int32? {
        var rest = Substring(text)
        while let r = rest.range(of: "errno = ") {
            let digits = rest[r.upperBound...].prefix { $0.isNumber }
            if let n = Int32(digits), codes.contains(n) { return n }
            rest = rest[r.upperBound...]
        }
        for code in codes where text.contains(String(cString: strerror(code))) { return code }
        return nil
    }

    /// Confirms a suspected environment failure when an error's text says nothing useful: writes
    /// and syncs a small file in `folder`. Returns the errno if that fails for an environment reason.
    public static func probe(_ folder: URL, bytes: Int = 1 << 20) -> Int32? {
        let path = folder.appendingPathComponent(".probe.tmp-\(getpid())").path
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        if fd < 0 { let e = errno; return codes.contains(e) ? e : nil }
        defer { close(fd); unlink(path) }
        var block = [UInt8](repeating: 0x5A, count: 64 << 10)
        var left = bytes
        while left > 0 {
            let n = block.withUnsafeMutableBytes { write(fd, $0.baseAddress, min(left, $0.count)) }
            if n < 0 { let e = errno; return codes.contains(e) ? e : nil }
            left -= n
        }
        if fsync(fd) != 0 { let e = errno; return codes.contains(e) ? e : nil }
        return nil
    }
}
