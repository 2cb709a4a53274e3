import Foundation
import XCTest

@testable import Stain

/// The choice of the stain kernels' copy from /proc/cpuinfo and `TESSERA_SIMD`, on sample text.
final class StainKernelPathTests: XCTestCase {
    // Abridged flags lines of real CPUs (the order and the neighbours as Linux prints them).
    let xeon = "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology nonstop_tsc cpuid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch invpcid_single ssbd ibrs ibpb fsgsbase tsc_adjust bmi1 hle avx2 smep bmi2 erms invpcid rtm avx512f avx512dq rdseed adx smap clflushopt clwb avx512cd avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves arat md_clear arch_capabilities"
    let epyc = "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc cpuid extd_apicid aperfmperf pni pclmulqdq monitor ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand lahf_lm cmp_legacy svm extapic cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw skinit wdt tce topoext perfctr_core perfctr_nb bpext perfctr_llc mwaitx cpb cat_l3 cdp_l3 hw_pstate ssbd mba ibrs ibpb stibp vmmcall fsgsbase bmi1 avx2 smep bmi2 cqm rdt_a rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 xsaves"
    /// Sandy Bridge: AVX but no AVX2, FMA, BMI.
    let sandyBridge = "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx rdtscp lm constant_tsc pni pclmulqdq ssse3 cx16 sse4_1 sse4_2 x2apic popcnt aes xsave avx lahf_lm"

    func testARecentXeonAndEPYCRunTheV3Path() {
        for line in [xeon, epyc] {
            let choice = StainKernelPath.choose(simd: nil, cpuinfo: "processor\t: 0\nvendor_id\t: X\n" + line + "\nbogomips\t: 4000\n")
            XCTAssertEqual(choice.path, .avx2, choice.reason)
        }
    }

    func testTheEnvironmentForcesTheBaseline() {
        let choice = StainKernelPath.choose(simd: "baseline", cpuinfo: xeon)
        XCTAssertEqual(choice.path, .baseline)
        XCTAssertEqual(choice.reason, "TESSERA_SIMD=baseline")
        // `auto` and empty are the default; another value is named in the reason and does not force anything.
        XCTAssertEqual(StainKernelPath.choose(simd: "auto", cpuinfo: xeon).path, .avx2)
        XCTAssertEqual(StainKernelPath.choose(simd: "", cpuinfo: xeon).path, .avx2)
        let unknown = StainKernelPath.choose(simd: "avx512", cpuinfo: sandyBridge)
        XCTAssertEqual(unknown.path, .baseline)
        XCTAssertTrue(unknown.reason.contains("TESSERA_SIMD=avx512 not understood"), unknown.reason)
    }

    func testAnOlderCPUOrAnOSWithoutAVXRunsTheBaselineAndSaysWhatIsMissing() {
        let old = StainKernelPath.choose(simd: nil, cpuinfo: sandyBridge)
        XCTAssertEqual(old.path, .baseline)
        XCTAssertEqual(old.reason, "the CPU or OS lacks avx2, fma, bmi1, bmi2, f16c, movbe, lzcnt")
        // An OS that does not save the YMM registers: Linux then drops avx, avx2, fma and f16c from the flags.
        let noOSSupport = xeon.replacingOccurrences(of: " avx ", with: " ").replacingOccurrences(of: " avx2 ", with: " ")
        XCTAssertEqual(StainKernelPath.choose(simd: nil, cpuinfo: noOSSupport).reason, "the CPU or OS lacks avx, avx2")
        // Flags are whole words: avx512f is not avx.
        XCTAssertEqual(StainKernelPath.missingV3Flags(" avx512f avx2 fma bmi1 bmi2 f16c movbe lzcnt"), ["avx"])
    }

    func testNoFlagsLineOrNoFileRunsTheBaseline() {
        // An ARM /proc/cpuinfo names its features `Features`; a `flags` prefix of another key is not the line.
        let arm = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32\nflagsmore\t: avx\n"
        XCTAssertEqual(StainKernelPath.choose(simd: nil, cpuinfo: arm).path, .baseline)
        XCTAssertNil(StainKernelPath.flagsLine(arm))
        XCTAssertEqual(StainKernelPath.choose(simd: nil, cpuinfo: nil).path, .baseline)
        XCTAssertEqual(StainKernelPath.choose(simd: nil, cpuinfo: "").path, .baseline)
    }

    func testTheFirstFlagsLineIsRead() {
        let two = "processor\t: 0\n" + sandyBridge + "\n\nprocessor\t: 1\n" + xeon + "\n"
        XCTAssertEqual(StainKernelPath.choose(simd: nil, cpuinfo: two).path, .baseline)
    }
}
