import Foundation

/// CPU time, peak memory and context switches from `getrusage`.
struct ResourceUsage {
    /// User plus system CPU seconds.
    let cpuSeconds: Double
    /// Peak resident set size.
    let maxRSSBytes: Int
    /// Context switches because a thread waited (for a lock, I/O, a sleep).
    let voluntarySwitches: Int
    /// Context switches because the kernel gave the core to another thread or process.
    let involuntarySwitches: Int

    /// This process so far, all threads.
    static func ofThisProcess() -> ResourceUsage { usage(RUSAGE_SELF) }

    /// This process's finished (waited-for) child processes: CPU times add up over all of them,
    /// `maxRSSBytes` is the largest peak of any one. The bench starts one child (tessera-synth) per
    /// run, so that peak is tessera-synth's.
    static func ofChildren() -> ResourceUsage { usage(RUSAGE_CHILDREN) }

    private static func usage(_ who: __rusage_who) -> ResourceUsage {
        var usage = rusage()
        // Glibc imports RUSAGE_SELF/RUSAGE_CHILDREN as enum cases; getrusage takes the raw Int32.
        getrusage(__rusage_who_t(who.rawValue), &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
        // Linux reports ru_maxrss in KiB.
        return ResourceUsage(cpuSeconds: seconds(usage.ru_utime) + seconds(usage.ru_stime),
                             maxRSSBytes: Int(usage.ru_maxrss) * 1024,
                             voluntarySwitches: Int(usage.ru_nvcsw), involuntarySwitches: Int(usage.ru_nivcsw))
    }
}
