/// A failed MPI call (only seen when the communicator returns errors instead of aborting).
public struct MPIError: Error, CustomStringConvertible, Sendable {
    public let call: String
    public let code: Int32
    public let message: String
    public var description: String { "\(call) failed (MPI error \(code)): \(message)" }
}
