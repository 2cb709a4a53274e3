import Foundation

/// Progress of a long loop as log lines: "done/total (pct%), rate/s, ETA". Prints at most every
/// `interval` seconds and always on completion, so a Slurm output file stays readable.
public final class ProgressLog: @unchecked Sendable {
    private let label: String
    private let unit: String
    private let total: Int
    private let interval: Double
    private let start = Date()
    private var lastPrint = Date.distantPast
    private var done = 0
    private let lock = NSLock()

    public init(_ label: String, total: Int, unit: String = "items", interval: Double = 5) {
        self.label = label
        self.total = total
        self.unit = unit
        self.interval = interval
    }

    /// Adds `count` finished items; `note` is appended to the line (e.g. "tiles kept 1234").
    public func advance(by count: Int = 1, note: String = "") {
        lock.lock()
        done += count
        let now = Date()
        let finished = done >= total
        guard finished || now.timeIntervalSince(lastPrint) >= interval else { lock.unlock(); return }
        lastPrint = now
        let line = ProgressLog.format(label: label, done: done, total: total, unit: unit,
                                   elapsed: now.timeIntervalSince(start), note: note)
        lock.unlock()
        Log.info(line)
    }

    /// The text of one progress line; pure, for tests.
    public static func format(label: String, done: Int, total: Int, unit: String,
                              elapsed: Double, note: String = "") -> String {
        let pct = total > 0 ? 100.0 * Double(done) / Double(total) : 100
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        var s = "\(label): \(done)/\(total) \(unit) (\(String(format: "%.1f", pct))%)"
        s += ", \(String(format: "%.1f", rate)) \(unit)/s"
        if done < total {
            s += rate > 0 ? ", ETA \(formatDuration(Double(total - done) / rate))" : ", ETA unknown"
        } else {
            s += ", took \(formatDuration(elapsed))"
        }
        if !note.isEmpty { s += ", \(note)" }
        return s
    }

    public static func formatDuration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m"
    }
}
