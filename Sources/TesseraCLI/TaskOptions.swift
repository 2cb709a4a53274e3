import ArgumentParser
import TaskRunner
import TesseraCore

/// The options of a resumable sharded task (`tessera-tile`, `tessera-predict`): which share of the
/// work this process is, how many threads it uses, and what it does with earlier runs and failed
/// slides. Shard and threads default to the Slurm array task (`SlurmArrayTask`).
public struct TaskOptions: ParsableArguments {
    @Option(help: "This task's shard, 0-based (default: $SLURM_ARRAY_TASK_ID − $SLURM_ARRAY_TASK_MIN, else 0).")
    public var shard: Int?

    @Option(help: "Number of shards (default: $SLURM_ARRAY_TASK_COUNT, else 1).")
    public var shards: Int?

    @Option(help: "Threads of this task, 1…1024 (default: $SLURM_CPUS_PER_TASK, else the number of cores).")
    public var threads: Int?

    @Flag(help: "Exit 1 if any slide failed.")
    public var strict = false

    @Flag(help: "Keep the slides an earlier run recorded as failed as they are (default: try them again).")
    public var noRetryFailed = false

    @Flag(help: "Redo this task from scratch, discarding its earlier output and resume state.")
    public var force = false

    public init() {}

    /// The job-file keys of these options in a program whose array size and threads are
    /// `<stage>_SHARDS` and `<stage>_THREADS` (TILE, PREDICT: a job sizes each stage's array apart);
    /// STRICT and NO_RETRY_FAILED hold for every stage. `--shard` and `--force` are per run, not per job.
    public static func jobKeys(stage: String) -> [JobFile.Mapping] {
        [.option("\(stage)_SHARDS", "--shards"), .option("\(stage)_THREADS", "--threads"),
         .flag("STRICT", "--strict"), .flag("NO_RETRY_FAILED", "--no-retry-failed")]
    }

    public var resolvedShards: Int { SlurmArrayTask.shards(shards) }
    public var resolvedShard: Int { SlurmArrayTask.shard(shard) }
    public var resolvedThreads: Int { SlurmArrayTask.threads(threads) }

    /// What a re-run does with the earlier run of the task.
    public var policy: TaskPolicy { TaskPolicy(force: force, retryFailed: !noRetryFailed) }

    /// This process's share of the task, as a stage's job options hold it.
    public var share: TaskShare { TaskShare(shard: resolvedShard, shards: resolvedShards, threads: resolvedThreads, policy: policy) }

    /// `program[shard/shards]`, the name log lines carry.
    public func logName(_ program: String) -> String { "\(program)[\(resolvedShard)/\(resolvedShards)]" }

    /// How a task that finished with failed slides exits: 3, or 1 with `--strict`.
    public var doneWithFailedSlides: ExitStatus { strict ? .failure : .doneWithFailedSlides }

    /// Logs how a task ended and exits as every task program does: 0 when all is done; 3 (1 with
    /// `--strict`) with failed items; 75 when a stop was requested (SIGUSR1 before a time limit),
    /// else 0 for a test stop. `item` names what failed ("slide", "store file"); `failures` says
    /// where they are listed.
    public func finish(_ outcome: TaskOutcome, item: String = "slide", failures: String) throws {
        switch outcome {
        case let .allDone(slides, tiles):
            Log.info("done: \(slides) slides, \(tiles) tiles")
        case let .doneWithFailures(slides, tiles, failed):
            Log.warning("done with \(failed) failed \(item)\(failed == 1 ? "" : "s") (see \(failures)): \(slides) slides, \(tiles) tiles")
            throw doneWithFailedSlides.exitCode
        case let .stopped(done):
            Log.info("stopped with \(done) \(item)s done; run again to resume")
            if StopRequest.isRequested { throw ExitStatus.stoppedOnRequest.exitCode }
        }
    }

    public func validate() throws {
        let n = resolvedShards, i = resolvedShard
        guard n >= 1 else { throw ValidationError("--shards must be ≥ 1") }
        guard i >= 0 && i < n else {
            throw ValidationError("--shard \(i) is outside 0…\(n - 1) (from --shard/--shards or SLURM_ARRAY_TASK_ID/MIN/COUNT)")
        }
        if let problem = OptionCheck.integer("--threads", resolvedThreads, in: 1...1024) { throw ValidationError(problem) }
    }
}
