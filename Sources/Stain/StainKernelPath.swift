import Foundation

/// Which copy of the stain kernels (`StainKernels`: Reinhard's) a process runs: the baseline
/// x86-64 one (SSE2, four float lanes, no gather), or the x86-64-v3 one of `StainKernelsV3`
/// (AVX2, eight lanes), which gives the same bytes faster but faults on a CPU or OS without AVX2. Chosen once per
/// process from the CPU's flags (Linux: /proc/cpuinfo, where the kernel lists AVX only when the
/// OS saves its registers) and `TESSERA_SIMD` (`baseline` forces the baseline copy).
public enum StainKernelPath: String, Sendable {
    /// Baseline x86-64 (SSE2), and every other architecture.
    case baseline
    /// x86-64-v3: AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE.
    case avx2 = "x86-64-v3"

    /// The flags of /proc/cpuinfo that x86-64-v3 needs (LZCNT is `abm` on older kernels).
    static let v3Flags = ["avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe"]
    static let lzcntFlags = ["lzcnt", "abm"]

    /// This process's path and why, for the start-up log.
    public static let selection = detect(simd: ProcessInfo.processInfo.environment["TESSERA_SIMD"])

    /// The path this CPU and OS allow, whatever `TESSERA_SIMD` says (what tests and tessera-bench
    /// need to compare the two), and why.
    public static let hardware = detect(simd: nil)

    private static func detect(simd: String?) -> (path: StainKernelPath, reason: String) {
        #if arch(x86_64)
        return choose(simd: simd, cpuinfo: cpuinfo)
        #else
        return (.baseline, "not an x86-64 CPU")
        #endif
    }

    private static let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)

    /// This process's path.
    public static var selected: StainKernelPath { selection.path }

    /// One line for a log: the path and why.
    public static var summary: String { "Reinhard's stain kernels: \(selection.path.rawValue) (\(selection.reason))" }

    /// The path for a `TESSERA_SIMD` value and the text of /proc/cpuinfo (nil: unreadable).
    static func choose(simd: String?, cpuinfo: String?) -> (path: StainKernelPath, reason: String) {
        if simd == "baseline" { return (.baseline, "TESSERA_SIMD=baseline") }
        let note = simd.map { $0.isEmpty || $0 == "auto" ? "" : "; TESSERA_SIMD=\($0) not understood (baseline or auto)" } ?? ""
        guard let cpuinfo else { return (.baseline, "no /proc/cpuinfo to read the CPU's flags from" + note) }
        guard let flags = flagsLine(cpuinfo) else { return (.baseline, "no flags line in /proc/cpuinfo" + note) }
        let missing = missingV3Flags(flags)
        if missing.isEmpty { return (.avx2, "the CPU has AVX2 and FMA; TESSERA_SIMD=baseline for the other" + note) }
        return (.baseline, "the CPU or OS lacks " + missing.joined(separator: ", ") + note)
    }

    /// The value of the first `flags` line of /proc/cpuinfo text (`flags<tabs>: fpu vme …`).
    static func flagsLine(_ cpuinfo: String) -> Substring? {
        for line in cpuinfo.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":"),
                  line[..<colon].trimmingCharacters(in: .whitespaces) == "flags" else { continue }
            return line[line.index(after: colon)...]
        }
        return nil
    }

    /// The x86-64-v3 flags missing from a flags value (empty: the v3 path may run).
    static func missingV3Flags(_ flags: Substring) -> [String] {
        let have = Set(flags.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init))
        var missing = v3Flags.filter { !have.contains($0) }
        if !lzcntFlags.contains(where: have.contains) { missing.append("lzcnt") }
        return missing
    }
}
