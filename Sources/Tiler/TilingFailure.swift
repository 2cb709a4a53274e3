import TaskRunner

/// A slide that could not be tiled: recorded in `failures/task-I-of-N.csv` and skipped.
public struct TilingFailure: Sendable, Equatable {
    public let slideID: String
    public let slidePath: String
    public let stage: FailureStage
    public let message: String
}
