/// How an array task's files are named: `task-0003-of-0008`, `part-0003-of-0008`, `plan-of-0008`.
/// Numbers are zero-padded to at least four digits (and to the task count's width), so that the
/// names sort in task order; the tiler, the store's audit and the predictor all name them here.
public enum ShardName {
    /// `<prefix>-0003-of-0008` for task 3 of 8.
    public static func of(_ prefix: String, task: Int, taskCount: Int) -> String {
        precondition(task >= 0 && task < taskCount, "task \(task) outside 0..<\(taskCount)")
        return "\(prefix)-\(padded(task, taskCount))-of-\(padded(taskCount, taskCount))"
    }

    /// `<prefix>-of-0008`: what all the tasks of an 8-task run share.
    public static func ofAll(_ prefix: String, taskCount: Int) -> String {
        "\(prefix)-of-\(padded(taskCount, taskCount))"
    }

    static func padded(_ n: Int, _ count: Int) -> String {
        let width = max(4, String(count).count)
        let digits = String(n)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
