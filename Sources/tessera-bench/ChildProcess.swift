import Foundation

/// Runs another program to completion and measures it from outside: wall time, the CPU time and
/// context switches of that one child (with everything it waited for, e.g. the ranks under
/// `mpirun`) from `wait4`, and its peak resident memory from `/proc/PID/status`.
///
/// Why not `getrusage(RUSAGE_CHILDREN)`, or even `wait4`, for the peak memory: on Linux a child
/// started by `posix_spawn` (or `Foundation.Process`, which uses it) runs on the parent's memory
/// until it executes the program, and the kernel carries that memory's high-water mark over into
/// the child's `ru_maxrss` — so every child would weigh at least what the bench itself has weighed
/// so far (135 MiB after the OpenSlide group, seen on the small TCGA slide's tiler). The program's
/// own high-water mark (`VmHWM`) starts afresh at `exec`; it is sampled every 10 ms while the child
/// runs (it only grows, so the last sample misses at most the last 10 ms).
struct ChildProcess {
    let executable: URL
    let arguments: [String]
    /// Added to (or replacing entries of) this process's environment.
    var environmentOverrides: [String: String] = [:]

    /// How the child ended and what it used.
    struct Outcome {
        let command: String
        /// The exit status, or nil when a signal killed the child.
        let exitStatus: Int32?
        let signal: Int32?
        let wallSeconds: Double
        /// CPU time and context switches.
        let usage: ResourceUsage
        /// The child program's own peak resident memory, without the processes it started.
        let peakRSSBytes: Int

        var succeeded: Bool { exitStatus == 0 }

        /// "exited with status 3" / "was killed by signal 9".
        var ending: String {
            if let exitStatus { return "exited with status \(exitStatus)" }
            return "was killed by signal \(signal ?? -1)"
        }

        /// "CPU 12.3 s (1.87 cores busy), 4 preemptions/s".
        var cpuSummary: String {
            let perSecond = wallSeconds > 0 ? Double(usage.involuntarySwitches) / wallSeconds : 0
            return "CPU \(Figure.format(usage.cpuSeconds)) s (\(Figure.format(usage.cpuSeconds / max(wallSeconds, 1e-9))) cores busy), "
                + "\(Figure.format(perSecond)) preemptions/s"
        }

        /// "CPU 12.3 s (1.87 cores busy), 4 preemptions/s, peak RSS 231 MiB".
        var usageSummary: String {
            cpuSummary + ", peak RSS \(Figure.format(Double(peakRSSBytes) / 1_048_576)) MiB"
        }
    }

    var commandLine: String { ([executable.path] + arguments).joined(separator: " ") }

    /// Starts the child with its standard output sent to our standard error (so that it cannot mix
    /// with the figures) and waits for it.
    func run() throws -> Outcome {
        var environment = ProcessInfo.processInfo.environment
        environment.merge(environmentOverrides) { $1 }
        let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO)

        let clock = ContinuousClock()
        let start = clock.now
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable.path, &actions, nil, argv, envp)
        guard spawned == 0 else {
            throw BenchError.toolFailed("cannot start \(executable.path): \(String(cString: strerror(spawned)))",
                                        hint: "check that it exists and is executable")
        }
        let watcher = PeakRSSWatcher(pid: pid)
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else {
                throw BenchError.toolFailed("waiting for \(executable.lastPathComponent) (pid \(pid)) failed: \(String(cString: strerror(errno)))", hint: "")
            }
        }
        let wall = (clock.now - start).seconds
        let peak = watcher.stop()
        // The <sys/wait.h> macros do not import into Swift: low 7 bits = terminating signal (0 when
        // the child exited), bits 8–15 = exit status.
        let signal = status & 0x7f
        return Outcome(command: commandLine, exitStatus: signal == 0 ? (status >> 8) & 0xff : nil,
                       signal: signal == 0 ? nil : signal, wallSeconds: wall, usage: ResourceUsage(usage), peakRSSBytes: peak)
    }

    /// An executable of the same build as this one (SwiftPM puts products side by side).
    static func sibling(_ name: String) throws -> URL {
        let url = currentExecutable.deletingLastPathComponent().appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw BenchError.missingInput("no \(name) next to tessera-bench (looked for \(url.path))",
                                          hint: "build everything with swift build -c release (a repeated --product builds only the last one)")
        }
        return url
    }

    /// This executable, resolved (for re-launching it under `mpirun`).
    static var currentExecutable: URL {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        return URL(fileURLWithPath: path)
    }

    /// The first executable called `name` on `PATH`.
    static func onPath(_ name: String, hint: String) throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let url = URL(fileURLWithPath: String(folder)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw BenchError.missingInput("no \(name) on PATH (\(path))", hint: hint)
    }
}

/// Samples a running process's `VmHWM` (its peak resident memory since `exec`) on a thread of its
/// own until stopped, keeping the largest value read.
private final class PeakRSSWatcher: @unchecked Sendable {
    static let interval: useconds_t = 10_000

    private let pid: pid_t
    private let lock = NSLock()
    private var peakBytes = 0
    private var stopped = false

    init(pid: pid_t) {
        self.pid = pid
        Thread.detachNewThread { self.watch() }
    }

    /// Stops sampling (call once the child has been waited for) and returns the peak seen.
    func stop() -> Int {
        lock.lock(); defer { lock.unlock() }
        stopped = true
        return peakBytes
    }

    private func watch() {
        while true {
            // Absent once the child has exited (a zombie has no memory): nothing to record then.
            let sample = Self.highWaterMark(of: pid)
            lock.lock()
            if stopped { lock.unlock(); return }
            if let sample { peakBytes = max(peakBytes, sample) }
            lock.unlock()
            usleep(Self.interval)
        }
    }

    /// The `VmHWM:   123456 kB` line of /proc/PID/status, in bytes.
    static func highWaterMark(of pid: pid_t) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kib = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        return kib * 1024
    }
}
