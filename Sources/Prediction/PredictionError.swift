/// Errors of the prediction stage that end a task or a merge (a slide's own failure is not one:
/// it is recorded and skipped). Each says what, where, and how to fix it.
public enum PredictionError: Error, CustomStringConvertible, Equatable {
    case mismatch(model: String, store: String, differences: [String])
    case parametersChanged(statusFile: String, differences: [String])
    case unfinishedTasks(out: String, tasks: [Int], taskCount: Int)
    case inconsistentParts(out: String, problems: [String])
    case noParts(out: String, message: String)

    public var description: String {
        switch self {
        case let .mismatch(model, store, differences):
            return "\(store): the model \(model) was trained on other tiles; refusing to predict:\n  "
                + differences.joined(separator: "\n  ")
                + "\nhint: predict with a model trained on this store's tiling, or re-tile the slides with the model's parameters (or give --manifest to let tessera-predict tile them)"
        case let .parametersChanged(statusFile, differences):
            return "\(statusFile): this task ran before with other parameters:\n  " + differences.joined(separator: "\n  ")
                + "\nhint: use another --out folder, or --force to redo this task with the new parameters (all tasks must use the same ones)"
        case let .unfinishedTasks(out, tasks, count):
            let list = tasks.prefix(20).map(String.init).joined(separator: ", ") + (tasks.count > 20 ? ", …" : "")
            return "\(out): \(tasks.count) of \(count) prediction tasks have not finished (task \(list))"
                + "\nhint: run them (--shard I --shards \(count), or the Slurm array again) and merge again"
        case let .inconsistentParts(out, problems):
            let shown = problems.prefix(30).joined(separator: "\n  ") + (problems.count > 30 ? "\n  … (\(problems.count - 30) more)" : "")
            return "\(out): the task outputs do not fit together:\n  \(shown)"
                + "\nhint: re-run the tasks named (with --force), or predict into a fresh --out folder"
        case let .noParts(out, message):
            return "\(out): \(message)"
        }
    }
}
