/// Tessera's version, recorded in every store, checkpoint, model and report for provenance, and
/// printed by every program's `--version`.
public enum TesseraVersion {
    /// The release.
    public static let release = "0.1.0"
    /// The commit the build was made from (`-dirty` with uncommitted changes), or `unknown` when
    /// built outside a git checkout; written at build time by `GitCommitPlugin`.
    public static let commit = gitCommit
    /// Release and commit, e.g. `0.1.0 (commit abc1234)`.
    public static let current = "\(release) (commit \(commit))"
}
