/// Where an item (a slide) of a resumable task failed: recorded in status and failures files as
/// its raw value, so the strings stay stable (`open`, `metadata`, `read`, `decode`, `encode`, `write`).
public enum FailureStage: String, Codable, Sendable, CaseIterable {
    /// The input could not be opened (missing, not a slide, not a store file).
    case open
    /// The input opened but lacks what is needed to plan it (e.g. no MPP nor objective power).
    case metadata
    /// Reading the input's pixels or tiles failed.
    case read
    /// Decoding tiles (JPEG, store data) failed.
    case decode
    /// Encoding tiles failed.
    case encode
    /// Writing the item's own output failed for a reason of the item (environment failures of the
    /// output folder are not item failures: they stop the task, see `EnvironmentFailure`).
    case write
}
