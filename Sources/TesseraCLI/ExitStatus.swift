import ArgumentParser

/// The exit statuses of every Tessera program and script, documented in the README. Slurm scripts
/// treat 3 as success with warnings; 64 is BSD's EX_USAGE, what swift-argument-parser gives a
/// `ValidationError`, so a script's usage error and a program's say the same.
public enum ExitStatus: Int32, Sendable, CaseIterable {
    /// Everything done.
    case success = 0
    /// A fatal error (also: a failed check, a task already running elsewhere, a full file system).
    case failure = 1
    /// Done, but some slides failed (they are listed in the run's failures file).
    case doneWithFailedSlides = 3
    /// Bad options or a bad job file: nothing was started.
    case usage = 64

    public var exitCode: ExitCode { ExitCode(rawValue) }
}
