import COpenBLAS

/// Single-precision matrix multiply on OpenBLAS, row-major: C ← α·op(A)·op(B) + β·C,
/// op(A) is m×k, op(B) is k×n, C is m×n.
///
/// Shapes are checked before the call: a wrong leading dimension in BLAS silently reads the wrong
/// memory, which is the worst kind of bug in a training loop.
public enum BLAS {
    public static func sgemm(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative shape m=\(m) n=\(n) k=\(k)")
        precondition(lda >= max(1, transA ? m : k), "sgemm: lda=\(lda) too small for op(A) \(m)×\(k) (transA=\(transA))")
        precondition(ldb >= max(1, transB ? k : n), "sgemm: ldb=\(ldb) too small for op(B) \(k)×\(n) (transB=\(transB))")
        precondition(ldc >= max(1, n), "sgemm: ldc=\(ldc) too small for C \(m)×\(n)")
        guard m > 0 && n > 0 else { return }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// Array form with full size checks: A is stored as op(A)'s source (m×k, or k×m when transposed),
    /// densely packed; likewise B; C is m×n.
    public static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: [Float], b: [Float], beta: Float = 0, c: inout [Float]) {
        precondition(a.count == m * k, "sgemm: A has \(a.count) elements, op(A) is \(m)×\(k)")
        precondition(b.count == k * n, "sgemm: B has \(b.count) elements, op(B) is \(k)×\(n)")
        precondition(c.count == m * n, "sgemm: C has \(c.count) elements, needs \(m)×\(n)")
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                          a: pa.baseAddress!, lda: transA ? m : k,
                          b: pb.baseAddress!, ldb: transB ? k : n,
                          beta: beta, c: pc.baseAddress!, ldc: n)
                }
            }
        }
    }
}
