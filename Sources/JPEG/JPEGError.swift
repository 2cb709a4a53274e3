/// A failure reported by libjpeg-turbo.
public struct JPEGError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Operation: String, Sendable { case encode, decode, header, initialise }
    public let operation: Operation
    public let message: String
    /// Where the bytes came from (a store path and tile index), when the caller knows.
    public var source: String?

    public var description: String {
        let at = source.map { " (\($0))" } ?? ""
        return "JPEG \(operation.rawValue) failed\(at): \(message)"
    }
}
