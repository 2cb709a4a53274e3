import ArgumentParser

/// The exit statuses of every Tessera program and script, documented in the README. Slurm scripts
/// treat 3 as success with warnings and requeue on 75; 64 is BSD's EX_USAGE, what swift-argument-parser gives a
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
    /// Stopped cleanly on a stop request (SIGUSR1, `StopRequest`) before finishing: run it again to
    /// resume. 75 is BSD's EX_TEMPFAIL ("try again later"); the Slurm scripts requeue the job on it.
    case stoppedOnRequest = 75

    public var exitCode: ExitCode { ExitCode(rawValue) }
}
