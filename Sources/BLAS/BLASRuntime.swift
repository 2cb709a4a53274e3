import COpenBLAS
import Foundation

/// OpenBLAS's run-time state: which kernels it chose, and how many threads it uses.
///
/// Debian's OpenBLAS 0.3.21 picks its kernels in the library constructor from the CPU id. On CPUs
/// newer than it knows (this project's machines: AVX-512 Xeons) it silently falls back to the
/// `Prescott` SSE3 kernels, 4–5× slower. The choice cannot be changed once the library is loaded,
/// so `ensureFastKernels()` re-executes the process once with `OPENBLAS_CORETYPE` set.
public enum BLASRuntime {
    /// The kernel family in use, e.g. "SkylakeX", "Haswell", "Prescott".
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    public static var config: String {
        guard let p = openblas_get_config() else { return "unknown" }
        return String(cString: p)
    }

    public static var threads: Int { Int(openblas_get_num_threads()) }

    public static func setThreads(_ n: Int) {
        precondition(n >= 1, "OpenBLAS thread count must be ≥ 1, got \(n)")
        openblas_set_num_threads(Int32(n))
    }

    /// Kernel families that mean "OpenBLAS did not recognise this CPU".
    static let fallbackCores: Set<String> = ["prescott", "katmai", "core2", "penryn", "dunnington", "nehalem", "atom", "unknown"]

    /// The OPENBLAS_CORETYPE that fits a CPU with these /proc/cpuinfo flags, or nil if none is better
    /// than what a generic x86-64 build gives.
    public static func recommendedCore(cpuFlags: Set<String>) -> String? {
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"].allSatisfy(cpuFlags.contains) {
            return "SkylakeX"
        }
        if cpuFlags.contains("avx2") && cpuFlags.contains("fma") { return "Haswell" }
        if cpuFlags.contains("avx") { return "Sandybridge" }
        return nil
    }

    /// True when `core` is a fallback while the CPU supports a better one.
    public static func isFallback(core: String, cpuFlags: Set<String>) -> Bool {
        fallbackCores.contains(core.lowercased()) && recommendedCore(cpuFlags: cpuFlags) != nil
    }

    public static func cpuFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    static let reexecMarker = "TESSERA_OPENBLAS_REEXEC"

    /// Call first thing in `main` of every executable that computes (before MPI_Init and before any
    /// thread starts). If OpenBLAS fell back to slow kernels, re-executes this process once with
    /// `OPENBLAS_CORETYPE` set; returns a line for the log saying which core is in use.
    /// A user's own `OPENBLAS_CORETYPE` is respected.
    @discardableResult
    public static func ensureFastKernels() -> String {
        let env = ProcessInfo.processInfo.environment
        let flags = cpuFlags()
        let core = coreName
        if env["OPENBLAS_CORETYPE"] == nil, env[reexecMarker] == nil,
           isFallback(core: core, cpuFlags: flags), let better = recommendedCore(cpuFlags: flags) {
            setenv("OPENBLAS_CORETYPE", better, 1)
            setenv(reexecMarker, core, 1)
            let argv = CommandLine.unsafeArgv
            execv("/proc/self/exe", argv)
            // execv returned: keep running on the slow kernels, but say so.
            return "OpenBLAS core \(core) (slow fallback: re-exec with OPENBLAS_CORETYPE=\(better) failed: \(String(cString: strerror(errno))))"
        }
        if let was = env[reexecMarker] {
            return "OpenBLAS core \(core) (OpenBLAS chose \(was) for this CPU; Tessera set OPENBLAS_CORETYPE=\(env["OPENBLAS_CORETYPE"] ?? "?"))"
        }
        if isFallback(core: core, cpuFlags: flags) {
            return "OpenBLAS core \(core) (warning: slow generic kernels; this CPU supports \(recommendedCore(cpuFlags: flags) ?? "better"))"
        }
        return "OpenBLAS core \(core)"
    }
}
