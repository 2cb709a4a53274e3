import Foundation

/// What a task records of one slide; a slide recorded as a failure is tried again by the next run.
public protocol SlideRecord: Codable, Equatable, Sendable {
    var isFailure: Bool { get }
}

/// A slide task's resume state (`…/task-I-of-N.json` or `…/status.json`), rewritten atomically
/// after every slide: the parameters that decide its output, what happened to each slide done so
/// far, and whether its final outputs are written. Tiling and prediction record different things
/// per slide (`Slide`); the rest is this one type.
public struct SlideTaskStatus<Parameters: TaskParameters, Slide: SlideRecord>: ResumableStatus, Equatable, Sendable {
    public var parameters: Parameters
    /// Slide id → how it ended, for the slides done so far.
    public var slides: [String: Slide] = [:]
    /// Set once the task's final outputs are written.
    public var complete = false

    public init(parameters: Parameters) { self.parameters = parameters }

    public var failedItems: [String] { slides.filter { $0.value.isFailure }.map(\.key).sorted() }
    public mutating func forget(_ item: String) { slides[item] = nil }
}

/// How a slide task ended; the programs map it to their exit status.
public enum TaskOutcome: Equatable, Sendable {
    case allDone(slides: Int, tiles: Int)
    case doneWithFailures(slides: Int, tiles: Int, failed: Int)
    /// Stopped on request before the end (for testing resume).
    case stopped(slides: Int)

    /// A finished task: `slides` went through with `tiles` tiles in all, `failed` did not.
    public init(slides: Int, tiles: Int, failed: Int) {
        self = failed == 0 ? .allDone(slides: slides, tiles: tiles)
            : .doneWithFailures(slides: slides, tiles: tiles, failed: failed)
    }
}
