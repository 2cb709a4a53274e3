import Foundation
import XCTest

/// A real single-node Slurm for end-to-end tests, run by the project's `Tests/Slurm/local-cluster` script
/// in its own folder (or, from `twoNode()`, the two-node cluster of `Tests/Slurm/two-node-cluster`).
/// One instance of each per test process: brought up by the first `shared()` / `twoNode()` call and
/// taken down when the test bundle finishes. A run that crashed leaves daemons behind; the next
/// test process tears them down before it starts its own.
///
///     let slurm = try LocalSlurm.shared()
///     let id = try slurm.submit(script: "#!/bin/bash\nexit 3\n", arguments: ["--output=\(dir.path)/%j.out"])
///     let jobs = try slurm.waitForJobs([id], timeout: 30)   // [SlurmJob] with state and exit code
///
/// Job states come from `scontrol show job -o` (finished jobs stay there for MinJobAge = 300 s), and
/// from the jobcomp file for a job the controller has already forgotten. `sacct` needs slurmdbd,
/// which this cluster does not run. `sbatch --wait` is not used: it notices the end of a job only
/// after 2, 10, 42 s… (shared/notes/slurm-local.md, pitfall 15).
public final class LocalSlurm: @unchecked Sendable {
    /// The instance's folder: configuration, state, logs, sockets. Removed when it is taken down.
    public let directory: URL
    /// The `SLURM_CONF` every client command needs.
    public let configPath: String
    /// `Tests/Slurm/local-cluster` (or `two-node-cluster`) in this checkout.
    public let script: URL
    /// What the script is told about its instance (folder; for two nodes: names, addresses, port).
    let scriptEnvironment: [String: String]

    /// Where the test cluster lives: not the script's default, so a developer's own instance in
    /// /tmp/tessera-slurm is not wiped by a test run (the two cannot run at once: same ports).
    public static let testDirectory = URL(fileURLWithPath: "/tmp/tessera-slurm-tests")

    /// What the clients need in their environment.
    public var environment: [String: String?] { ["SLURM_CONF": configPath] }

    /// The two-node test cluster's folder, namespace prefix, addresses and port: none of them the
    /// script's defaults, so a developer's own two-node instance runs beside the tests'.
    public static let twoNodeTestDirectory = URL(fileURLWithPath: "/tmp/tessera-slurm2-tests")
    /// The compute nodes of the two-node test cluster, as Slurm and `hostname` name them.
    public static let twoNodeNames = ["tst-node1", "tst-node2"]

    private init(directory: URL, script: String, scriptEnvironment: [String: String]) {
        self.directory = directory
        self.configPath = directory.appendingPathComponent("etc/slurm.conf").path
        self.script = TestEnvironment.packageRoot.appendingPathComponent("Tests/Slurm/\(script)")
        self.scriptEnvironment = scriptEnvironment
    }

    private static let single = LocalSlurm(directory: testDirectory, script: "local-cluster",
                                           scriptEnvironment: ["TESSERA_SLURM_DIR": testDirectory.path])
    private static let twoNodes = LocalSlurm(directory: twoNodeTestDirectory, script: "two-node-cluster", scriptEnvironment: [
        "TESSERA_SLURM2_DIR": twoNodeTestDirectory.path, "TESSERA_SLURM2_PREFIX": "tst", "TESSERA_SLURM2_NET": "10.213.1",
        "TESSERA_SLURM2_PORT": "6837",
    ])

    // MARK: The shared instance

    private final class Shared: @unchecked Sendable {
        let lock = NSLock()
        /// By script: the clusters that are up, and why one could not be brought up.
        var clusters: [String: LocalSlurm] = [:]
        var failures: [String: String] = [:]
        var observer: TeardownObserver?
    }
    private static let state = Shared()

    /// The test process's cluster, brought up on first use. Fails the calling test with a plain
    /// message (and throws) when Slurm is not installed or does not start; a failed start is not
    /// retried by later tests, which fail at once with the same message.
    public static func shared(file: StaticString = #filePath, line: UInt = #line) throws -> LocalSlurm {
        try up(single, file: file, line: line)
    }

    /// The test process's two-node cluster (Tests/Slurm/two-node-cluster: a slurmd in each of two
    /// network namespaces), brought up on first use. Where namespaces cannot be made (not root) the
    /// calling test is skipped, saying why, unless `TESSERA_REQUIRE_TWO_NODE=1` (CI) makes it a failure.
    public static func twoNode(file: StaticString = #filePath, line: UInt = #line) throws -> LocalSlurm {
        if geteuid() != 0 {
            let why = "the two-node Slurm cluster needs root to create network namespaces (this is UID \(geteuid()))"
            if ProcessInfo.processInfo.environment["TESSERA_REQUIRE_TWO_NODE"] == "1" {
                XCTFail(why + "; CI requires it (TESSERA_REQUIRE_TWO_NODE=1)", file: file, line: line)
                throw LocalSlurmError(why)
            }
            throw XCTSkip(why, file: file, line: line)
        }
        return try up(twoNodes, file: file, line: line)
    }

    private static func up(_ cluster: LocalSlurm, file: StaticString, line: UInt) throws -> LocalSlurm {
        state.lock.lock()
        defer { state.lock.unlock() }
        let key = cluster.script.lastPathComponent
        if let cluster = state.clusters[key] { return cluster }
        if state.failures[key] == nil, let failure = bringUp(cluster) { state.failures[key] = failure }
        if let failure = state.failures[key] {
            XCTFail(failure, file: file, line: line)
            throw LocalSlurmError(failure)
        }
        return state.clusters[key]!
    }

    /// Takes the shared clusters down (cancels every job, stops the daemons, removes their
    /// folders). Called when the test bundle finishes; harmless when none is up.
    public static func tearDownShared() {
        state.lock.lock()
        defer { state.lock.unlock() }
        for (key, cluster) in state.clusters {
            state.clusters[key] = nil
            do {
                let result = try cluster.runScript("down", timeout: 120)
                if result.status != 0 {
                    FileHandle.standardError.write(Data("LocalSlurm: Tests/Slurm/\(key) down failed:\n\(result.output)\n".utf8))
                }
            } catch {
                FileHandle.standardError.write(Data("LocalSlurm: Tests/Slurm/\(key) down: \(error)\n".utf8))
            }
        }
    }

    /// Returns nil when the cluster is up, else the reason it is not. Caller holds the lock.
    private static func bringUp(_ cluster: LocalSlurm) -> String? {
        for program in ["/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged", "/usr/bin/sbatch"]
        where !FileManager.default.isExecutableFile(atPath: program) {
            return """
                Slurm is not installed here (\(program) is missing), so the Slurm tests cannot run. \
                Install it with: bash Jobs/install-deps slurm
                """
        }
        // Whatever is in the folder belongs to an earlier test process that crashed (a finished one
        // takes its cluster down), even if it still looks healthy: start afresh, with no old jobs.
        for subcommand in ["down", "up"] {
            let result: CommandResult
            do {
                result = try cluster.runScript(subcommand, timeout: 120)
            } catch {
                return "Tests/Slurm/\(cluster.script.lastPathComponent) \(subcommand) did not finish: \(error)"
            }
            guard result.status == 0 else {
                return "Tests/Slurm/\(cluster.script.lastPathComponent) \(subcommand) failed with status \(result.status):\n\(result.output)"
            }
        }
        state.clusters[cluster.script.lastPathComponent] = cluster
        if state.observer == nil {
            let observer = TeardownObserver()
            XCTestObservationCenter.shared.addTestObserver(observer)
            state.observer = observer
        }
        return nil
    }

    private final class TeardownObserver: NSObject, XCTestObservation {
        func testBundleDidFinish(_ testBundle: Bundle) { LocalSlurm.tearDownShared() }
    }

    // MARK: Commands

    /// Runs `Tests/Slurm/local-cluster <subcommand>` (or two-node-cluster's) for this instance.
    public func runScript(_ subcommand: String, _ arguments: [String] = [], timeout: TimeInterval = 60) throws -> CommandResult {
        try runCommand(URL(fileURLWithPath: "/bin/bash"), [script.path, subcommand] + arguments,
                       environment: scriptEnvironment, timeout: timeout)
    }

    /// Runs a Slurm client (`squeue`, `scancel`, `srun`…) against this cluster.
    public func run(_ client: String, _ arguments: [String], timeout: TimeInterval = 30) throws -> CommandResult {
        try runCommand(URL(fileURLWithPath: "/usr/bin/\(client)"), arguments, environment: environment, timeout: timeout)
    }

    /// Submits a batch script (its text, `#!` line first) with extra `sbatch` options, and returns
    /// the job ID (for an array, the array's job ID).
    public func submit(script text: String, arguments: [String] = []) throws -> Int {
        let scripts = directory.appendingPathComponent("scripts")
        try FileManager.default.createDirectory(at: scripts, withIntermediateDirectories: true)
        let file = scripts.appendingPathComponent("job-\(UUID().uuidString.prefix(8)).sh")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let result = try run("sbatch", ["--parsable"] + arguments + [file.path])
        // --parsable prints "ID" or "ID;CLUSTER".
        let first = result.stdout.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard result.status == 0, let first, let id = Int(first) else {
            throw LocalSlurmError("sbatch \(arguments.joined(separator: " ")) failed with status \(result.status):\n\(result.output)")
        }
        return id
    }

    /// Cancels jobs (`scancel`).
    public func cancel(_ ids: [Int]) throws {
        let result = try run("scancel", ids.map(String.init))
        guard result.status == 0 else { throw LocalSlurmError("scancel \(ids) failed:\n\(result.output)") }
    }

    // MARK: Job states

    /// Every job and array task the controller remembers (`scontrol show job -o`).
    public func controllerJobs() throws -> [SlurmJob] {
        let result = try run("scontrol", ["show", "job", "-o"])
        guard result.status == 0 else { throw LocalSlurmError("scontrol show job failed:\n\(result.output)") }
        return result.stdout.split(separator: "\n").compactMap { SlurmJob(record: String($0)) }
    }

    /// Every finished job recorded in the jobcomp file (one line per job, written when it ends,
    /// kept after the controller has forgotten the job).
    public func completedJobs() -> [SlurmJob] {
        let path = directory.appendingPathComponent("log/jobcomp.txt").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { SlurmJob(record: String($0)) }
    }

    /// The job or array task with this Slurm job ID, from the controller or else the jobcomp file;
    /// nil if neither knows it.
    public func jobState(_ id: Int) throws -> SlurmJob? {
        if let job = try controllerJobs().first(where: { $0.jobID == id }) { return job }
        return completedJobs().last(where: { $0.jobID == id })
    }

    /// Waits until every job (and every task of every array) in `ids` has ended, and returns their
    /// records: in the order of `ids`, an array's tasks by task ID. Throws, with the states seen
    /// and the controller's log, if they have not all ended within `timeout` seconds.
    public func waitForJobs(_ ids: [Int], timeout: TimeInterval) throws -> [SlurmJob] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let known = try controllerJobs()
            var completed: [SlurmJob]? = nil
            var all: [SlurmJob] = []
            var done = true
            for id in ids {
                var group = known.filter { $0.jobID == id || $0.arrayJobID == id }
                if group.isEmpty {
                    // Forgotten by the controller (MinJobAge): the jobcomp file still has it.
                    completed = completed ?? completedJobs()
                    group = completed!.filter { $0.jobID == id || $0.arrayJobID == id }
                }
                // An array's not-yet-started tasks are one record with a task range, still pending.
                if group.isEmpty || !group.allSatisfy(\.state.isTerminal) { done = false }
                all += group.sorted { ($0.arrayTaskID ?? -1) < ($1.arrayTaskID ?? -1) }
            }
            if done { return all }
            if Date() >= deadline {
                throw LocalSlurmError("""
                    jobs \(ids) did not all end within \(timeout) s. Seen: \
                    \(all.isEmpty ? "none" : all.map(\.description).joined(separator: ", "))
                    \(diagnostics())
                    """)
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// Waits until the job is running (or has already ended); returns its record.
    @discardableResult
    public func waitUntilRunning(_ id: Int, timeout: TimeInterval) throws -> SlurmJob {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let job = try jobState(id), job.state == .running || job.state.isTerminal { return job }
            if Date() >= deadline {
                let seen = try jobState(id).map(\.description) ?? "unknown to the controller"
                throw LocalSlurmError("job \(id) did not start within \(timeout) s (\(seen))\n\(diagnostics())")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// PIDs of the processes still running for a job: those whose environment has its
    /// `SLURM_JOB_ID` and this cluster's `SLURM_CONF`.
    public func processes(ofJob id: Int) -> [Int32] {
        let wanted: Set<String> = ["SLURM_JOB_ID=\(id)", "SLURM_CONF=\(configPath)"]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            let environment = Set(data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) })
            guard wanted.isSubset(of: environment),
                  let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
            // A zombie has exited; it only waits to be reaped.
            return !status.contains("State:\tZ")
        }
    }

    /// The queue and the end of the daemons' logs, for failure messages.
    public func diagnostics() -> String {
        var lines: [String] = []
        if let queue = try? run("squeue", ["-t", "all"], timeout: 10) { lines.append("squeue -t all:\n\(queue.output)") }
        let logs = (try? FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("log").path)) ?? []
        for log in logs.filter({ $0.hasPrefix("slurm") && $0.hasSuffix(".log") }).sorted() {
            let path = directory.appendingPathComponent("log/\(log)").path
            if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                lines.append("last lines of \(path):\n" + text.split(separator: "\n").suffix(15).joined(separator: "\n"))
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// One job or array task, as `scontrol show job -o` or the jobcomp file records it.
public struct SlurmJob: Equatable, CustomStringConvertible, Sendable {
    /// Slurm's ID of this job; every array task has its own.
    public let jobID: Int
    /// For an array task: the array's job ID (what `sbatch` returned) and the task's index. A
    /// pending record standing for several tasks not yet started has no single index (nil).
    public let arrayJobID: Int?
    public let arrayTaskID: Int?
    public let state: State
    /// The exit status of the batch script, and the signal that ended it (0 if none).
    public let exitCode: Int32
    public let signal: Int32
    /// Why it is pending or ended as it did, e.g. `DependencyNeverSatisfied`, `NonZeroExitCode`.
    public let reason: String
    /// The ID as Slurm shows it: "12", or "12_3" for an array task ("12_[4-7]" for pending tasks).
    public let displayID: String
    /// The nodes it ran on, as Slurm writes them (`tst-node1`, `tst-node[1-2]`); empty before it started.
    public let nodeList: String

    public struct State: RawRepresentable, Hashable, CustomStringConvertible, Sendable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let pending = State(rawValue: "PENDING")
        public static let running = State(rawValue: "RUNNING")
        public static let completing = State(rawValue: "COMPLETING")
        public static let completed = State(rawValue: "COMPLETED")
        public static let failed = State(rawValue: "FAILED")
        public static let cancelled = State(rawValue: "CANCELLED")
        public static let timeout = State(rawValue: "TIMEOUT")

        /// The job has ended for good; anything else (pending, running, completing, requeued,
        /// suspended…) may still change.
        public var isTerminal: Bool {
            ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE",
             "OUT_OF_MEMORY"].contains(rawValue)
        }
    }

    /// Parses one `Key=Value Key=Value …` record; nil if it has no job ID or state.
    public init?(record: String) {
        var fields: [String: String] = [:]
        for token in record.split(separator: " ") {
            guard let equals = token.firstIndex(of: "=") else { continue }
            let key = String(token[..<equals])
            // The first occurrence wins: a job name with spaces cannot shadow the real fields.
            if fields[key] == nil { fields[key] = String(token[token.index(after: equals)...]) }
        }
        guard let id = fields["JobId"].flatMap({ Int($0) }), let state = fields["JobState"] else { return nil }
        jobID = id
        self.state = State(rawValue: state)
        reason = fields["Reason"] ?? ""
        nodeList = fields["NodeList"].map { $0 == "(null)" ? "" : $0 } ?? ""
        let exit = (fields["ExitCode"] ?? "0:0").split(separator: ":").map { Int32($0) ?? 0 }
        exitCode = exit.first ?? 0
        signal = exit.count > 1 ? exit[1] : 0
        // Non-array jobs have no ArrayJobId (scontrol) or ArrayJobId=0 / NO_VAL task (jobcomp).
        if let array = fields["ArrayJobId"].flatMap({ Int($0) }), array > 0, let task = fields["ArrayTaskId"],
           Int(task).map({ $0 < 4_294_967_294 }) ?? true {
            arrayJobID = array
            arrayTaskID = Int(task)
            displayID = arrayTaskID != nil ? "\(array)_\(task)" : "\(array)_[\(task)]"
        } else {
            arrayJobID = nil
            arrayTaskID = nil
            displayID = "\(id)"
        }
    }

    public var description: String {
        "\(displayID) \(state) exit \(exitCode):\(signal)" + (reason.isEmpty || reason == "None" ? "" : " (\(reason))")
    }
}

/// A local-Slurm failure, with what happened and what the cluster showed.
public struct LocalSlurmError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
