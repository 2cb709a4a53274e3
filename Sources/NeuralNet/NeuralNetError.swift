/// Conditions a caller can run into with valid code: a model name or input size from the command
/// line, a checkpoint that does not fit. Each says what, and how to fix it.
public enum NeuralNetError: Error, Equatable, CustomStringConvertible {
    case unknownModel(name: String, known: [String])
    case invalidConfiguration(model: String, message: String, hint: String)
    case sizeMismatch(what: String, expected: Int, got: Int, hint: String)
    case layoutMismatch(what: String, message: String, hint: String)

    public var description: String {
        switch self {
        case let .unknownModel(name, known):
            return "unknown model \"\(name)\"\nhint: choose one of \(known.joined(separator: ", "))"
        case let .invalidConfiguration(model, message, hint):
            return "\(model): \(message)\nhint: \(hint)"
        case let .sizeMismatch(what, expected, got, hint):
            return "\(what): expected \(expected) values, got \(got)\nhint: \(hint)"
        case let .layoutMismatch(what, message, hint):
            return "\(what): \(message)\nhint: \(hint)"
        }
    }
}
