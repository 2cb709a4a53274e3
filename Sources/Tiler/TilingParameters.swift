import Foundation
import TaskRunner
import Tiling

/// Everything that decides what a tiling task writes. Stored in each task's status file: a re-run
/// with other parameters into the same store is refused (mixing would corrupt it) unless forced.
public struct TilingParameters: Codable, Equatable, Sendable {
    public var manifestDigest: String
    public var classes: [String]
    public var targetMPP: Double?
    public var targetMagnification: Double?
    public var level: Int?
    public var assumeMPP: Double?
    public var tileSize: Int
    public var overlap: Int
    public var backgroundThreshold: Double
    public var maxBackground: Double
    public var encoding: String
    public var quality: Int
    public var splitFractions: [Double]
    public var splitSeed: UInt64
    public var shards: Int
    public var tissueMask: Bool

    public var target: TilingTarget {
        if let level { return .level(level) }
        if let targetMPP { return .mpp(targetMPP) }
        return .magnification(targetMagnification ?? 20)
    }

    /// Lines "name: was → now" for every parameter that differs.
    public func differences(from other: TilingParameters) -> [String] {
        let a = Mirror(reflecting: self).children, b = Mirror(reflecting: other).children
        return zip(a, b).compactMap { x, y in
            let l = "\(x.value)", r = "\(y.value)"
            return l == r ? nil : "\(x.label ?? "?"): \(r) → \(l)"
        }
    }
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
