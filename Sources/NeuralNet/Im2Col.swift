/// Unfolding of one image for convolution as GEMM (darknet's `im2col_cpu` / `col2im_cpu`), as
/// tight row copies: for each (channel, kernel row, kernel column) one column-matrix row is the input
/// plane shifted, so a stride-1 row is one memcpy plus zeroed padding at its ends.
///
/// The column matrix is K × P, K = channels·kernel², P = outHeight·outWidth, row-major:
/// `col[(c·k + kh)·k + kw][oh·outWidth + ow] = x[c][oh·s − p + kh][ow·s − p + kw]`, 0 outside.
enum Im2Col {
    struct Geometry {
        let channels: Int, height: Int, width: Int
        let kernel: Int, stride: Int, padding: Int
        let outHeight: Int, outWidth: Int

        var rows: Int { channels * kernel * kernel }
        var columns: Int { outHeight * outWidth }

        /// Stride 1 and "same" padding (3×3 pad 1): the output grid is the input grid, so a column-matrix
        /// row is the input plane shifted by a constant offset, except where the shift wraps a row end.
        var preservesSize: Bool { stride == 1 && outHeight == height && outWidth == width }

        /// Output columns `lo..<hi` whose input column `ow·s − p + kw` lies inside the image.
        @inline(__always) func validColumns(kw: Int) -> (lo: Int, hi: Int) {
            let first = padding - kw  // input column of ow = 0 is −first
            let lo = first <= 0 ? 0 : min(outWidth, (first + stride - 1) / stride)
            let last = width - 1 + padding - kw
            let hi = last < 0 ? 0 : min(outWidth, last / stride + 1)
            return (lo, max(lo, hi))
        }
    }

    /// x: channels × height × width → col: K × P (every element written).
    static func unfold(_ x: UnsafePointer<Float>, _ g: Geometry, into col: UnsafeMutablePointer<Float>) {
        if g.preservesSize {
            unfoldSameSize(x, g, into: col)
            return
        }
        let (h, w, s, p, k, ow) = (g.height, g.width, g.stride, g.padding, g.kernel, g.outWidth)
        var row = col
        for c in 0..<g.channels {
            let plane = x + c * h * w
            for kh in 0..<k {
                for kw in 0..<k {
                    let (lo, hi) = g.validColumns(kw: kw)
                    for oh in 0..<g.outHeight {
                        let dst = row + oh * ow
                        let ih = oh * s - p + kh
                        guard ih >= 0 && ih < h else {
                            dst.update(repeating: 0, count: ow)
                            continue
                        }
                        if lo > 0 { dst.update(repeating: 0, count: lo) }
                        let src = plane + ih * w + (lo * s - p + kw)
                        if s == 1 {
                            (dst + lo).update(from: src, count: hi - lo)
                        } else {
                            for j in 0..<(hi - lo) { dst[lo + j] = src[j * s] }
                        }
                        if hi < ow { (dst + hi).update(repeating: 0, count: ow - hi) }
                    }
                    row += g.columns
                }
            }
        }
    }

    /// col: K × P → x: channels × height × width, overwritten with the sum of every column entry
    /// that reads each input element (the adjoint of `unfold`). `col` is scratch: entries that read
    /// padding may be zeroed.
    static func fold(_ col: UnsafeMutablePointer<Float>, _ g: Geometry, into x: UnsafeMutablePointer<Float>) {
        if g.preservesSize {
            foldSameSize(col, g, into: x)
            return
        }
        let (h, w, s, p, k, ow) = (g.height, g.width, g.stride, g.padding, g.kernel, g.outWidth)
        var row = col
        for c in 0..<g.channels {
            let plane = x + c * h * w
            plane.update(repeating: 0, count: h * w)
            for kh in 0..<k {
                for kw in 0..<k {
                    let (lo, hi) = g.validColumns(kw: kw)
                    for oh in 0..<g.outHeight {
                        let ih = oh * s - p + kh
                        guard ih >= 0 && ih < h else { continue }
                        let src = row + oh * ow + lo
                        let dst = plane + ih * w + (lo * s - p + kw)
                        if s == 1 {
                            for j in 0..<(hi - lo) { dst[j] += src[j] }
                        } else {
                            for j in 0..<(hi - lo) { dst[j * s] += src[j] }
                        }
                    }
                    row += g.columns
                }
            }
        }
    }

    /// `unfold` for size-preserving geometry: per column-matrix row, one block copy of the whole valid
    /// band (the plane shifted by (kh − p)·W + (kw − p)), then the few wrapped entries at row ends
    /// and the rows above/below the image set to 0.
    private static func unfoldSameSize(_ x: UnsafePointer<Float>, _ g: Geometry, into col: UnsafeMutablePointer<Float>) {
        let (h, w, p, k) = (g.height, g.width, g.padding, g.kernel)
        let plane = h * w
        var row = col
        for c in 0..<g.channels {
            let src = x + c * plane
            for kh in 0..<k {
                let top = max(0, p - kh), bottom = min(h, h + p - kh)  // output rows inside the image
                for kw in 0..<k {
                    let d = kw - p
                    let shift = (kh - p) * w + d
                    // Flat output indices [first, last) read inside the plane; the rest is padding.
                    let first = min(plane, top * w + max(0, -d)), last = max(first, bottom * w - max(0, d))
                    if first > 0 { row.update(repeating: 0, count: first) }
                    if last > first { (row + first).update(from: src + (first + shift), count: last - first) }
                    if last < plane { (row + last).update(repeating: 0, count: plane - last) }
                    if d != 0 {
                        let width = abs(d), start = d < 0 ? 0 : w - d
                        for r in top..<max(top, bottom) { (row + r * w + start).update(repeating: 0, count: width) }
                    }
                    row += plane
                }
            }
        }
    }

    /// `fold` for size-preserving geometry: zero the column entries that read padding, then one
    /// block add per column-matrix row.
    private static func foldSameSize(_ col: UnsafeMutablePointer<Float>, _ g: Geometry, into x: UnsafeMutablePointer<Float>) {
        let (h, w, p, k) = (g.height, g.width, g.padding, g.kernel)
        let plane = h * w
        var row = col
        for c in 0..<g.channels {
            let dst = x + c * plane
            dst.update(repeating: 0, count: plane)
            for kh in 0..<k {
                let top = max(0, p - kh), bottom = min(h, h + p - kh)
                for kw in 0..<k {
                    let d = kw - p
                    let shift = (kh - p) * w + d
                    if d != 0 {
                        let width = abs(d), start = d < 0 ? 0 : w - d
                        for r in top..<max(top, bottom) { (row + r * w + start).update(repeating: 0, count: width) }
                    }
                    let first = min(plane, top * w + max(0, -d)), last = max(first, bottom * w - max(0, d))
                    if last > first {
                        let s = row + first, t = dst + (first + shift)
                        for j in 0..<(last - first) { t[j] += s[j] }
                    }
                    row += plane
                }
            }
        }
    }
}
