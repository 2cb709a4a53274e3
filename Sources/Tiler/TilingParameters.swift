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
    /// Tiles dropped by reason (`TileDropReason` raw values); nil in status files written before.
    public var tilesDropped: [String: Int]?
    public var stage: FailureStage?
    public var message: String?
}

/// A tiling task's resume state, `STORE/status/task-I-of-N.json`. A slide counts as done only once
/// its fragment was completed and renamed into place; `complete` is set when the task's part files
/// were written and its work folder removed.
public typealias TaskStatus = SlideTaskStatus<TilingParameters, SlideStatus>

extension SlideStatus: SlideRecord {
    public var isFailure: Bool { state == .failed }
}
