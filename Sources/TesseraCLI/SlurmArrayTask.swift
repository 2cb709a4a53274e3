import Foundation

/// Which share of the work this process is, for programs run as Slurm array tasks: options given
/// on the command line win, else Slurm's variables, else one task doing everything.
public enum SlurmArrayTask {
    static func int(_ name: String) -> Int? { ProcessInfo.processInfo.environment[name].flatMap { Int($0) } }

    /// `--shards`, else `SLURM_ARRAY_TASK_COUNT`, else 1.
    public static func shards(_ given: Int?) -> Int { given ?? int("SLURM_ARRAY_TASK_COUNT") ?? 1 }

    /// `--shard`, else `SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN` (arrays need not start at 0), else 0.
    public static func shard(_ given: Int?) -> Int {
        if let given { return given }
        if let id = int("SLURM_ARRAY_TASK_ID") { return id - (int("SLURM_ARRAY_TASK_MIN") ?? 0) }
        return 0
    }

    /// `--threads`, else `SLURM_CPUS_PER_TASK`, else every core.
    public static func threads(_ given: Int?) -> Int {
        given ?? int("SLURM_CPUS_PER_TASK") ?? ProcessInfo.processInfo.activeProcessorCount
    }
}
