import Foundation

/// A request to stop at the next safe point and exit so that a re-run resumes: SIGUSR1, which the
/// Slurm scripts forward when Slurm warns of the time limit (`--signal=B:USR1@SECONDS`). The tiler
/// and the predictor stop between slides, the trainer after the step all ranks agree on (with a
/// checkpoint); each then exits with `ExitStatus.stoppedOnRequest` and the script requeues the job.
///
/// SIGTERM is left as it is (the task lock removes itself and the process dies): Slurm sends it at
/// the limit itself, and a slide may take longer than Slurm's grace period before SIGKILL.
public enum StopRequest {
    /// The signal that asks for a stop.
    public static let signalNumber = SIGUSR1

    /// Installs the handler (once; later calls do nothing). Call it first thing in a program that
    /// can stop cleanly: until then SIGUSR1 ends the process, which the scripts treat alike.
    public static func install() {
        guard flag == nil else { return }
        let pointer = UnsafeMutablePointer<sig_atomic_t>.allocate(capacity: 1)
        pointer.initialize(to: 0)
        flag = pointer
        // A plain handler: it only stores to memory allocated beforehand (async-signal-safe).
        signal(signalNumber) { _ in StopRequest.flag?.pointee = 1 }
    }

    /// Whether a stop was asked for since `install()`.
    public static var isRequested: Bool { (flag?.pointee ?? 0) != 0 }

    /// Asks for a stop as the signal would (tests, and a program that decides to stop itself).
    public static func request() {
        install()
        flag?.pointee = 1
    }

    /// What a program logs when it stops on the request.
    public static func message(_ done: String) -> String {
        "stopping on SIGUSR1 (a stop request, e.g. Slurm's warning before the time limit): \(done); run again to resume"
    }

    nonisolated(unsafe) private static var flag: UnsafeMutablePointer<sig_atomic_t>?
}
