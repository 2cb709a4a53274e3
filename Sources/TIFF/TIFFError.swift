/// A libtiff failure: which file, which operation, libtiff's own message, and how to fix it.
public struct TIFFError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The TIFF file being written.
    public let path: String
    /// What the wrapper was doing, e.g. "writing tile 3 of level 0".
    public let operation: String
    /// libtiff's last error message ("" when libtiff said nothing).
    public let message: String
    public let hint: String

    public var description: String {
        let detail = message.isEmpty ? "libtiff reported no message" : message
        return "\(path): libtiff failed \(operation): \(detail)" + (hint.isEmpty ? "" : "\nhint: \(hint)")
    }
}
