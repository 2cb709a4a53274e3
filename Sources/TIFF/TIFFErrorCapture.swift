import CTIFF
import Foundation

// libtiff reports errors through one process-wide variadic handler that prints to stderr by default.
// Tessera installs a handler that keeps the last message so a thrown TIFFError can carry it.
// (This lives in Swift rather than in the C shim: a system-library module cannot define storage.)

private let lastErrorLock = NSLock()
nonisolated(unsafe) private var lastErrorMessage = ""

func installTIFFErrorHandlers() {
    TIFFSetErrorHandler { module, format, arguments in
        var buffer = [CChar](repeating: 0, count: 512)
        if let format, let arguments { _ = vsnprintf(&buffer, buffer.count, format, arguments) }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let origin = module.map { String(cString: $0) } ?? "libtiff"
        lastErrorLock.lock()
        lastErrorMessage = "\(origin): \(text)"
        lastErrorLock.unlock()
    }
    TIFFSetWarningHandler(nil)
}

func clearLastTIFFError() {
    lastErrorLock.lock()
    lastErrorMessage = ""
    lastErrorLock.unlock()
}

/// The last message libtiff reported (empty if none since the last clear).
func takeLastTIFFError() -> String {
    lastErrorLock.lock()
    defer { lastErrorLock.unlock() }
    return lastErrorMessage
}
