import TesseraCore

/// This process's share of a sharded, resumable task (one Slurm array task): which shard of how
/// many, its threads, and what a re-run does with an earlier run. Tiling, prediction and embedding
/// hold one each; `TesseraCLI`'s `TaskOptions` makes it from the command line.
public struct TaskShare: Equatable, Sendable {
    /// 0-based, below `shards`.
    public var shard: Int
    public var shards: Int
    public var threads: Int
    /// `--force` and `--no-retry-failed`.
    public var policy: TaskPolicy
    /// Stop after this many items of this run, as if killed there: the hook that tests resume
    /// (`--stop-after-slides`, `--stop-after-files`); nil runs to the end.
    public var stopAfter: Int?

    public init(shard: Int = 0, shards: Int = 1, threads: Int = 1, policy: TaskPolicy = TaskPolicy()) {
        self.shard = shard
        self.shards = shards
        self.threads = threads
        self.policy = policy
    }

    /// Whether the share is one of its shards and has a thread to run on.
    public var isValid: Bool { shards >= 1 && (0..<shards).contains(shard) && threads >= 1 }

    /// `task-0003-of-0008`: names the task's status, lock, work folder, failures and log lines.
    public var taskName: String { ShardName.of("task", task: shard, taskCount: shards) }

    /// For messages: "task 3 of 8".
    public var label: String { "task \(shard) of \(shards)" }

    /// Whether a run that has done `done` items stops before the next, as `stopAfter` asks; logs
    /// "stopping after N <unit> as asked (<option>)" when it does.
    public func stops(after done: Int, unit: String, option: String) -> Bool {
        guard let stopAfter, done >= stopAfter else { return false }
        Log.info("stopping after \(stopAfter) \(unit) as asked (\(option))")
        return true
    }
}
