import CHDF5

/// A failed HDF5 call: which call, on which file/object, and HDF5's own error stack (outermost API
/// call first, innermost cause last — the top says what was attempted, the root says why).
public struct HDF5Error: Error, CustomStringConvertible, Sendable {
    public let call: String
    public let path: String
    public let stack: [String]
    public var hint: String?

    /// A read that failed because a chunk's Fletcher-32 checksum did not match its bytes: the data
    /// on disk was damaged after it was written.
    public var isChecksumMismatch: Bool { stack.contains { $0.contains("Fletcher32") || $0.contains("fletcher32") } }

    public var description: String {
        var s = "\(path): HDF5 \(call) failed"
        if let top = stack.first { s += ": \(top)" }
        if stack.count > 1, let root = stack.last { s += " (cause: \(root))" }
        if let hint { s += "\nhint: \(hint)" }
        return s
    }
}

/// HDF5's error machinery, turned from printing into values.
enum HDF5Errors {
    /// HDF5 prints its error stack to stderr by default; Tessera reports errors itself.
    nonisolated(unsafe) private static var silenced = false
    static func silenceAutoPrinting() {
        if silenced { return }
        HDF5Library.prepare()
        H5Eset_auto2(ch5_e_default(), nil, nil)
        silenced = true
    }

    /// The current thread's error stack, outermost first, as "function: description" lines.
    static func currentStack() -> [String] {
        final class Box { var lines: [String] = [] }
        let box = Box()
        let ctx = Unmanaged.passUnretained(box).toOpaque()
        H5Ewalk2(ch5_e_default(), H5E_WALK_DOWNWARD, { _, err, client in
            guard let err, let client else { return 0 }
            let box = Unmanaged<Box>.fromOpaque(client).takeUnretainedValue()
            let fn = err.pointee.func_name.map { String(cString: $0) } ?? "?"
            let desc = err.pointee.desc.map { String(cString: $0) } ?? ""
            box.lines.append("\(fn): \(desc)")
            return 0
        }, ctx)
        H5Eclear2(ch5_e_default())
        return box.lines
    }

    /// Checks a status return (`herr_t` < 0 is failure).
    @discardableResult
    static func check(_ status: herr_t, _ call: String, _ path: String) throws -> herr_t {
        if status < 0 { throw HDF5Error(call: call, path: path, stack: currentStack()) }
        return status
    }

    /// Checks an identifier return (negative is failure).
    static func check(id: hid_t, _ call: String, _ path: String) throws -> hid_t {
        if id < 0 { throw HDF5Error(call: call, path: path, stack: currentStack()) }
        return id
    }
}
