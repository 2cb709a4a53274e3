import Foundation
import TaskRunner
import Tiling

/// Everything that decides what a tiling task writes. Stored in each task's status file: a re-run
/// with other parameters into the same store is refused (mixing would corrupt it) unless forced.
public struct TilingParameters: TaskParameters {
    public var manifestDigest: String
    public var classes: [String]
    /// How tiles are cut: what the store files record.
    public var tiling: TilingSpec
    public var assumeMPP: Double?
    public var overlap: Int
    public var splitFractions: [Double]
    public var splitSeed: UInt64
    public var shards: Int
    public var tissueMask: Bool
}

/// State of one slide in a task's status file.
public struct SlideStatus: Codable, Equatable, Sendable {
    public enum State: String, Codable, Sendable { case done, failed }
    public var state: State
    public var split: Split
    public var tilesKept: Int
    public var tilesConsidered: Int
    public var stage: FailureStage?
    public var message: String?
}

/// A task's resume state, `STORE/status/task-I-of-N.json`, rewritten atomically after every slide.
/// A slide counts as done only once its fragment was completed and renamed into place.
public struct TaskStatus: Codable, Equatable, Sendable {
    public var parameters: TilingParameters
    public var slides: [String: SlideStatus] = [:]
    /// Set when the task's part files were written and its work folder removed.
    public var complete = false

    public init(parameters: TilingParameters) { self.parameters = parameters }
}

extension TaskStatus: ResumableStatus {
    public var failedItems: [String] { slides.filter { $0.value.state == .failed }.map(\.key).sorted() }
    public mutating func forget(_ item: String) { slides[item] = nil }
}
