/// What became of one slide (or patient), the `status` column of slides.csv and patients.csv.
public enum PredictionOutcome: String, Sendable, Codable, CaseIterable {
    /// Predicted from at least one tissue tile.
    case ok
    /// Read fine, but no tile passed the background rule: nothing to predict from.
    case noTissueTiles = "no tissue tiles"
    /// Could not be read or predicted; `message` says why (also listed in failures.csv).
    case failed
}
