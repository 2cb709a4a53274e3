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
}
