import Foundation

/// A task's resume state as `ResumableTask` needs to see it: the parameters that decide the output,
/// whether the task is complete, and which items (slides) were recorded as failed.
public protocol ResumableStatus: Codable {
    associatedtype Parameters: TaskParameters
    var parameters: Parameters { get }
    /// Set once the task's final outputs are written.
    var complete: Bool { get set }
    /// Items recorded as failed, sorted.
    var failedItems: [String] { get }
    init(parameters: Parameters)
    /// Forgets an item, so that it is done again.
    mutating func forget(_ item: String)
}
