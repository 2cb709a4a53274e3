import ArgumentParser

/// The learning-rate decay after warm-up: `cosine`, or `step:E1,E2` (divide by 10 at those epochs).
/// Its `description` is the text `TrainingConfig.schedule` holds.
public enum ScheduleOption: Equatable, Sendable, CustomStringConvertible, ExpressibleByArgument {
    case cosine
    case step(epochs: [Int])

    public init?(argument: String) {
        if argument == "cosine" {
            self = .cosine
            return
        }
        guard argument.hasPrefix("step:") else { return nil }
        let fields = argument.dropFirst(5).split(separator: ",")
        let epochs = fields.compactMap { Int($0) }
        guard epochs.count == fields.count else { return nil }
        self = .step(epochs: epochs)
    }

    public static func parse(_ text: String) throws -> ScheduleOption {
        guard let schedule = ScheduleOption(argument: text) else {
            throw ValidationError("--schedule must be cosine or step:E1,E2 (e.g. step:6,9)")
        }
        return schedule
    }

    public var description: String {
        switch self {
        case .cosine: return "cosine"
        case let .step(epochs): return "step:" + epochs.map(String.init).joined(separator: ",")
        }
    }

    public var defaultValueDescription: String { description }
}
