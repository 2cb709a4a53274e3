import BLAS
import TesseraCore

/// OpenBLAS sgemm throughput on the two shapes that matter to Tessera: a square 1024³ (the library's
/// best case) and the GEMM of a 3×3 convolution by im2col (64 output channels, 32 input channels
/// × 9 taps = K 288, a 128² feature map = N 16384), at 1 and 2 threads.
struct SgemmBenchmark: Benchmark {
    struct Shape {
        let name: String
        let m: Int, n: Int, k: Int
        var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    }

    static let shapes = [
        Shape(name: "1024", m: 1024, n: 1024, k: 1024),
        Shape(name: "conv3x3", m: 64, n: 16384, k: 288),
    ]
    static let threadCounts = [1, 2]

    func run(in context: BenchContext) throws {
        let core = BLASRuntime.coreName
        if BLASRuntime.isFallback(core: core, cpuFlags: BLASRuntime.cpuFlags()) {
            Log.warning("OpenBLAS runs its slow generic \(core) kernels on this CPU; the sgemm figures are not representative (is OPENBLAS_CORETYPE set to a generic core?)")
        }
        Figure("openblas_core", text: core, "core").emit()

        let samples = context.count(7, quick: 3)
        let minSeconds = context.quick ? 0.1 : 0.25
        for shape in Self.shapes {
            for threads in Self.threadCounts {
                let gflops = try Self.measure(shape, threads: threads, samples: samples, minSampleSeconds: minSeconds)
                Figure("sgemm_\(shape.name)_t\(threads)", gflops.median, "GFLOP/s").emit()
                if shape.name == Self.peakShape.name { context.sgemmPeak[threads] = gflops.median }
            }
        }
    }

    /// The square shape whose speed is the peak other figures are compared with.
    static var peakShape: Shape { shapes[0] }

    /// GFLOP/s of one shape on `threads` OpenBLAS threads, checked against a reference first and
    /// logged; the thread count is restored afterwards.
    static func measure(_ shape: Shape, threads: Int, samples: Int, minSampleSeconds: Double) throws -> Samples {
        let threadsBefore = BLASRuntime.threads
        defer { BLASRuntime.setThreads(threadsBefore) }
        BLASRuntime.setThreads(threads)
        var rng = SeededGenerator(seed: 2024)
        // A: M×K, B: K×N, C: M×N, row-major.
        let a = (0..<shape.m * shape.k).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let b = (0..<shape.k * shape.n).map { _ in Float(rng.nextUnit() * 2 - 1) }
        var c = [Float](repeating: 0, count: shape.m * shape.n)
        BLAS.sgemm(m: shape.m, n: shape.n, k: shape.k, a: a, b: b, c: &c)
        try check(c, a: a, b: b, shape: shape, threads: threads, rng: &rng)
        let calls = Measure.rate(samples: samples, minSampleSeconds: minSampleSeconds) {
            BLAS.sgemm(m: shape.m, n: shape.n, k: shape.k, a: a, b: b, c: &c)
        }
        let gflops = calls.scaled(by: shape.flops / 1e9)
        Log.info("sgemm \(shape.m)×\(shape.n)×\(shape.k), \(threads) thread\(threads == 1 ? "" : "s"), core \(BLASRuntime.coreName): \(gflops.summary("GFLOP/s"))")
        return gflops
    }

    /// Compares sampled entries of C with a double-precision dot product: a kernel chosen for the
    /// wrong CPU can be fast and wrong.
    static func check(_ c: [Float], a: [Float], b: [Float], shape: Shape, threads: Int,
                      rng: inout SeededGenerator) throws {
        var worst = 0.0
        for _ in 0..<64 {
            let i = Int(rng.next() % UInt64(shape.m)), j = Int(rng.next() % UInt64(shape.n))
            var ref = 0.0, magnitude = 0.0
            for p in 0..<shape.k {
                let term = Double(a[i * shape.k + p]) * Double(b[p * shape.n + j])
                ref += term
                magnitude += abs(term)
            }
            // Rounding gives ~1e-7 of the sum of |terms|; a wrong kernel gives errors of order 1.
            let error = abs(Double(c[i * shape.n + j]) - ref) / max(magnitude, 1e-30)
            worst = max(worst, error)
        }
        guard worst < 1e-5 else {
            throw BenchError.wrongResult(
                "sgemm \(shape.m)×\(shape.n)×\(shape.k) on \(threads) thread(s), core \(BLASRuntime.coreName): relative error \(worst) against a double-precision reference",
                hint: "OpenBLAS's kernels for this CPU compute wrong results; try another OPENBLAS_CORETYPE")
        }
    }
}
