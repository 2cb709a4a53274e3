import Foundation

/// CPU time and context switches from `getrusage` (for a child's peak memory see `ChildProcess`).
struct ResourceUsage {
    /// User plus system CPU seconds.
    let cpuSeconds: Double
    /// Context switches because a thread waited (for a lock, I/O, a sleep).
    let voluntarySwitches: Int
    /// Context switches because the kernel gave the core to another thread or process.
    let involuntarySwitches: Int

    /// This process so far, all threads.
    static func ofThisProcess() -> ResourceUsage { usage(RUSAGE_SELF) }

    /// From `getrusage`, or from `wait4` for one child (see `ChildProcess`).
    init(_ usage: rusage) {
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
        cpuSeconds = seconds(usage.ru_utime) + seconds(usage.ru_stime)
        voluntarySwitches = Int(usage.ru_nvcsw)
        involuntarySwitches = Int(usage.ru_nivcsw)
    }

    private static func usage(_ who: __rusage_who) -> ResourceUsage {
        var usage = rusage()
        // Glibc imports RUSAGE_SELF as an enum case; getrusage takes the raw Int32.
        getrusage(__rusage_who_t(who.rawValue), &usage)
        return ResourceUsage(usage)
    }
}
