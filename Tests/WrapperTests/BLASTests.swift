import BLAS
import Foundation
import TesseraCore
import TesseraTestSupport
import XCTest

final class BLASTests: XCTestCase {
    /// C = op(A)·op(B) in Double, the reference.
    static func naive(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: [Float], b: [Float]) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * m + i] : a[i * k + p]
                    let bv = transB ? b[j * k + p] : b[p * n + j]
                    s += Double(av) * Double(bv)
                }
                c[i * n + j] = s
            }
        }
        return c
    }

    /// Whatever kernels OpenBLAS chose in this process, results must match the reference. The shapes
    /// cover the edge cases of blocked kernels (1, primes, just over a block) and the conv shapes.
    func testSgemmMatchesNaiveReferenceOnManyShapes() {
        var rng = SeededGenerator(seed: 42)
        let shapes: [(Int, Int, Int)] = [(1, 1, 1), (1, 17, 3), (7, 1, 5), (3, 5, 1), (13, 29, 31), (64, 64, 64),
                                         (65, 33, 129), (32, 100, 27), (64, 256, 288), (127, 61, 300), (200, 3, 75)]
        var worst = 0.0
        for threads in [1, 2] {
            BLASRuntime.setThreads(threads)
            for (m, n, k) in shapes {
                for transA in [false, true] {
                    for transB in [false, true] {
                        let a = (0..<(m * k)).map { _ in Float(rng.nextUnit() * 2 - 1) }
                        let b = (0..<(k * n)).map { _ in Float(rng.nextUnit() * 2 - 1) }
                        var c = (0..<(m * n)).map { _ in Float(rng.nextUnit()) }
                        let c0 = c
                        BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, b: b, beta: 2, c: &c)
                        let ref = BLASTests.naive(transA: transA, transB: transB, m: m, n: n, k: k, a: a, b: b)
                        for i in 0..<(m * n) {
                            let expected = 0.5 * ref[i] + 2 * Double(c0[i])
                            // float32 accumulation over k terms of magnitude ≤ 1: error grows like √k·ε.
                            let tol = 1e-5 * Double(k).squareRoot() * 4 + 1e-6
                            let err = abs(Double(c[i]) - expected)
                            worst = max(worst, err)
                            if err > tol {
                                XCTFail("sgemm m=\(m) n=\(n) k=\(k) tA=\(transA) tB=\(transB) threads=\(threads) core=\(BLASRuntime.coreName): |\(c[i]) - \(expected)| = \(err) > \(tol)")
                                return
                            }
                        }
                    }
                }
            }
        }
        print("sgemm vs naive: largest error \(worst) on core \(BLASRuntime.coreName)")
    }

    func testThreadControl() {
        BLASRuntime.setThreads(1)
        XCTAssertEqual(BLASRuntime.threads, 1)
        BLASRuntime.setThreads(2)
        XCTAssertEqual(BLASRuntime.threads, 2)
    }

    func testCoreChoiceForCPUFlags() {
        let avx512: Set<String> = ["sse3", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]
        XCTAssertEqual(BLASRuntime.recommendedCore(cpuFlags: avx512), "SkylakeX")
        XCTAssertEqual(BLASRuntime.recommendedCore(cpuFlags: ["avx", "avx2", "fma"]), "Haswell")
        XCTAssertNil(BLASRuntime.recommendedCore(cpuFlags: ["sse3"]))
        XCTAssertTrue(BLASRuntime.isFallback(core: "Prescott", cpuFlags: avx512))
        XCTAssertFalse(BLASRuntime.isFallback(core: "SkylakeX", cpuFlags: avx512))
        XCTAssertFalse(BLASRuntime.isFallback(core: "Prescott", cpuFlags: ["sse3"]))
    }

    /// A Tessera executable that computes re-executes itself onto the fast kernels and says so.
    func testExecutablesUseTheFastKernels() throws {
        let flags = BLASRuntime.cpuFlags()
        let result = try runCommand(TestEnvironment.executable("tessera-bench"), ["--only", "sgemm", "--quick"],
                                    environment: ["OPENBLAS_CORETYPE": nil, "TESSERA_OPENBLAS_REEXEC": nil])
        XCTAssertEqual(result.status, 0, result.output)
        let line = try XCTUnwrap(result.stdout.split(separator: "\n").first { $0.hasPrefix("openblas_core ") },
                                 "no openblas_core line in:\n\(result.output)")
        let core = String(line.split(separator: " ")[1])
        // Which fast kernel OpenBLAS (or the re-exec) picks depends on the CPU model (SkylakeX,
        // Cooperlake, Zen, Haswell…); all that holds on every CPU is "not a slow fallback". Speed is
        // the benchmark's to report, not a test's.
        XCTAssertFalse(BLASRuntime.isFallback(core: core, cpuFlags: flags),
                       "executable used the fallback kernel \(core) on a CPU that supports \(BLASRuntime.recommendedCore(cpuFlags: flags) ?? "?")")
    }
}
