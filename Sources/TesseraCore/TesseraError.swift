/// Errors of Tessera's own logic (the wrappers have their own error types for C failures).
/// Each says what went wrong, where, and how to fix it.
public enum TesseraError: Error, CustomStringConvertible, Equatable {
    case io(path: String, message: String, hint: String)
    case invalidInput(path: String, message: String, hint: String)

    public var description: String {
        switch self {
        case let .io(path, message, hint), let .invalidInput(path, message, hint):
            return "\(path): \(message)" + (hint.isEmpty ? "" : "\nhint: \(hint)")
        }
    }
}
