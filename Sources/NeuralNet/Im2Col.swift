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
        let (s, ow) = (g.stride, g.outWidth)
        walk(g) { colOffset, inputOffset, lo, hi in
            let dst = col + colOffset
            guard let inputOffset else {
                dst.update(repeating: 0, count: ow)
                return
            }
            if lo > 0 { dst.update(repeating: 0, count: lo) }
            let src = x + inputOffset
            if s == 1 {
                (dst + lo).update(from: src, count: hi - lo)
            } else {
                for j in 0..<(hi - lo) { dst[lo + j] = src[j * s] }
            }
            if hi < ow { (dst + hi).update(repeating: 0, count: ow - hi) }
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
        let s = g.stride
        x.update(repeating: 0, count: g.channels * g.height * g.width)
        walk(g) { colOffset, inputOffset, lo, hi in
            guard let inputOffset else { return }
            let src = col + colOffset + lo
            let dst = x + inputOffset
            if s == 1 {
                for j in 0..<(hi - lo) { dst[j] += src[j] }
            } else {
                for j in 0..<(hi - lo) { dst[j * s] += src[j] }
            }
        }
    }

    /// The general geometry's walk that `unfold` and `fold` share: for each column-matrix row
    /// (c, kh, kw) and output row oh, `segment` gets where that row segment starts in col, where
    /// its first valid input element is in x (nil when input row oh·s − p + kh is padding), and
    /// the output columns lo..<hi whose input lies inside the image (`validColumns`).
    @inline(__always)
    private static func walk(_ g: Geometry, segment: (_ colOffset: Int, _ inputOffset: Int?, _ lo: Int, _ hi: Int) -> Void) {
        let (h, w, s, p, k, ow) = (g.height, g.width, g.stride, g.padding, g.kernel, g.outWidth)
        var row = 0
        for c in 0..<g.channels {
            for kh in 0..<k {
                for kw in 0..<k {
                    let (lo, hi) = g.validColumns(kw: kw)
                    for oh in 0..<g.outHeight {
                        let ih = oh * s - p + kh
                        let inside = ih >= 0 && ih < h
                        segment(row + oh * ow, inside ? c * h * w + ih * w + (lo * s - p + kw) : nil, lo, hi)
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
        let plane = g.height * g.width
        walkSameSize(g) { rowOffset, planeOffset, r in
            let row = col + rowOffset, src = x + planeOffset
            if r.first > 0 { row.update(repeating: 0, count: r.first) }
            if r.last > r.first { (row + r.first).update(from: src + (r.first + r.shift), count: r.last - r.first) }
            if r.last < plane { (row + r.last).update(repeating: 0, count: plane - r.last) }
            r.zeroWrapped(row, width: g.width)
        }
    }

    /// `fold` for size-preserving geometry: zero the column entries that read padding, then one
    /// block add per column-matrix row.
    private static func foldSameSize(_ col: UnsafeMutablePointer<Float>, _ g: Geometry, into x: UnsafeMutablePointer<Float>) {
        x.update(repeating: 0, count: g.channels * g.height * g.width)
        walkSameSize(g) { rowOffset, planeOffset, r in
            let row = col + rowOffset
            r.zeroWrapped(row, width: g.width)
            if r.last > r.first {
                let s = row + r.first, t = x + planeOffset + (r.first + r.shift)
                for j in 0..<(r.last - r.first) { t[j] += s[j] }
            }
        }
    }

    /// One column-matrix row (kh, kw) of a size-preserving geometry: output rows `top..<bottom` lie
    /// inside the image, d = kw − p, output index + `shift` is the input index, and the flat output
    /// indices [first, last) read inside the plane (the rest is padding).
    struct SameSizeRow {
        let top: Int, bottom: Int, d: Int, shift: Int, first: Int, last: Int

        /// Sets to 0 the entries whose input column wraps a row end (|d| per image row).
        @inline(__always) func zeroWrapped(_ row: UnsafeMutablePointer<Float>, width w: Int) {
            guard d != 0 else { return }
            let width = abs(d), start = d < 0 ? 0 : w - d
            for r in top..<max(top, bottom) { (row + r * w + start).update(repeating: 0, count: width) }
        }
    }

    /// The size-preserving walk that `unfoldSameSize` and `foldSameSize` share: for each
    /// column-matrix row (c, kh, kw), where it starts in col, where channel c starts in x, and its
    /// `SameSizeRow`.
    @inline(__always)
    private static func walkSameSize(_ g: Geometry, _ body: (_ rowOffset: Int, _ planeOffset: Int, _ r: SameSizeRow) -> Void) {
        let (h, w, p, k) = (g.height, g.width, g.padding, g.kernel)
        let plane = h * w
        var row = 0
        for c in 0..<g.channels {
            for kh in 0..<k {
                let top = max(0, p - kh), bottom = min(h, h + p - kh)  // output rows inside the image
                for kw in 0..<k {
                    let d = kw - p
                    let first = min(plane, top * w + max(0, -d)), last = max(first, bottom * w - max(0, d))
                    body(row, c * plane, SameSizeRow(top: top, bottom: bottom, d: d, shift: (kh - p) * w + d, first: first, last: last))
                    row += plane
                }
            }
        }
    }
}
