/// Why a benchmark group could not produce its figures.
enum BenchError: Error, CustomStringConvertible {
    /// A computation gave a wrong answer, so its speed means nothing.
    case wrongResult(String, hint: String)
    /// A program or file the group needs is missing.
    case missingInput(String, hint: String)
    /// A program the group runs failed or did not do its job.
    case toolFailed(String, hint: String)
    /// Several groups failed; each was logged when it did.
    case groupsFailed([BenchmarkGroup])

    var description: String {
        switch self {
        case let .wrongResult(what, hint), let .missingInput(what, hint), let .toolFailed(what, hint):
            return what + (hint.isEmpty ? "" : "\nhint: \(hint)")
        case let .groupsFailed(groups):
            return "benchmark group(s) failed: \(groups.map(\.rawValue).joined(separator: ", ")) (the errors are logged above)"
        }
    }
}
