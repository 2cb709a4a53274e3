import Foundation
import TesseraCore

/// Timing helpers. Every figure is a median over several samples, because the machines Tessera is
/// benchmarked on are shared and noisy: a median ignores the sample that a neighbour's build slowed.
enum Measure {
    /// Wall-clock seconds that `body` takes, on the monotonic clock.
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try body()
        return (clock.now - start).seconds
    }

    /// Wall-clock seconds that `body` takes; adds what this process did meanwhile to `use`.
    static func seconds(_ body: () throws -> Void, accountingTo use: inout CPUUse) rethrows -> Double {
        let before = ResourceUsage.ofThisProcess()
        let wall = try seconds(body)
        use.add(wallSeconds: wall, from: before, to: ResourceUsage.ofThisProcess())
        return wall
    }

    /// The 1-minute load average (runnable processes), when /proc/loadavg exists: above the core count,
    /// other processes are competing with the bench and its figures are low.
    static func loadAverage() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        return text.split(separator: " ").first.flatMap { Double($0) }
    }

    /// Operations per second of `operation`: one untimed warm-up call, then `samples` timed batches,
    /// each of enough calls to last at least `minSampleSeconds` (so the clock's resolution and the
    /// loop's overhead do not matter).
    static func rate(samples: Int, minSampleSeconds: Double, _ operation: () throws -> Void) rethrows -> Samples {
        precondition(samples >= 1 && minSampleSeconds > 0)
        try operation()
        let once = try seconds(operation)
        let batch = max(1, Int((minSampleSeconds / max(once, 1e-9)).rounded(.up)))
        var rates: [Double] = []
        var use = CPUUse()
        for _ in 0..<samples {
            let t = try seconds({ for _ in 0..<batch { try operation() } }, accountingTo: &use)
            rates.append(Double(batch) / t)
        }
        return Samples(rates, cpu: use)
    }
}

/// Repeated measurements of one quantity (a rate: larger is better).
struct Samples {
    let values: [Double]
    /// What the process did while measuring, when known.
    let cpu: CPUUse?

    init(_ values: [Double], cpu: CPUUse? = nil) {
        precondition(!values.isEmpty, "no samples")
        self.values = values
        self.cpu = cpu
    }

    var median: Double {
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    /// "median 97.3 GFLOP/s (91.0–101.2 over 7 samples; 0.99 cores busy, …)", for the log.
    func summary(_ unit: String) -> String {
        let cpu = self.cpu.map { "; \($0.summary)" } ?? ""
        return "median \(Figure.format(median)) \(unit) (\(Figure.format(values.min()!))–\(Figure.format(values.max()!)) over \(values.count) samples\(cpu))"
    }

    func scaled(by factor: Double) -> Samples { Samples(values.map { $0 * factor }, cpu: cpu) }
}

/// How busy this process kept the cores while measuring, to judge a figure by on a shared machine.
///
/// Fewer cores busy than threads used means the threads were off a core: *preempted* (the kernel
/// gave the core to another process: a busy machine, and low figures) or *waiting* (for a lock or
/// for I/O: a bottleneck in the code measured). The context-switch counts tell which.
struct CPUUse: Codable {
    private(set) var wallSeconds = 0.0
    private(set) var cpuSeconds = 0.0
    private(set) var waits = 0
    private(set) var preemptions = 0

    var coresBusy: Double { wallSeconds > 0 ? cpuSeconds / wallSeconds : 0 }

    mutating func add(wallSeconds wall: Double, from before: ResourceUsage, to after: ResourceUsage) {
        wallSeconds += wall
        cpuSeconds += after.cpuSeconds - before.cpuSeconds
        waits += after.voluntarySwitches - before.voluntarySwitches
        preemptions += after.involuntarySwitches - before.involuntarySwitches
    }

    /// The CPU time and context switches summed with the other ranks' by `allreduceSum`; the wall
    /// time stays this rank's.
    func summedOverRanks(_ allreduceSum: (inout [Double]) -> Void) -> CPUUse {
        var counts = [cpuSeconds, Double(waits), Double(preemptions)]
        allreduceSum(&counts)
        var total = self
        (total.cpuSeconds, total.waits, total.preemptions) = (counts[0], Int(counts[1]), Int(counts[2]))
        return total
    }

    /// "0.99 cores busy, 3 preemptions/s, 0 waits/s".
    var summary: String {
        let perSecond = { (n: Int) in Figure.format(wallSeconds > 0 ? Double(n) / wallSeconds : 0) }
        return "\(Figure.format(coresBusy)) cores busy, \(perSecond(preemptions)) preemptions/s, \(perSecond(waits)) waits/s"
    }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) * 1e-18
    }
}

/// One benchmark figure: one stdout line, `name value unit`, so that scripts can collect figures with
/// `awk` and compare runs. Everything else the bench says goes to standard error.
struct Figure {
    let name: String
    let value: String
    let unit: String

    init(_ name: String, _ value: Double, _ unit: String) {
        self.init(name, text: Figure.format(value), unit)
    }

    init(_ name: String, text: String, _ unit: String) {
        precondition(!name.contains(" ") && !text.contains(" ") && !name.isEmpty && !text.isEmpty,
                     "figure name and value must be single words: '\(name)' '\(text)'")
        self.name = name
        self.value = text
        self.unit = unit
    }

    var line: String { "\(name) \(value) \(unit)" }

    /// Three significant digits or one decimal, whichever is more: 97.3, 1234.5, 0.852.
    static func format(_ value: Double) -> String {
        abs(value) >= 100 ? String(format: "%.1f", value) : String(format: "%.3g", value)
    }

    /// Writes the line to standard output at once (unbuffered), so that figures appear as they are
    /// measured even when stdout is a pipe.
    func emit() {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
