import StainKernels

/// Reinhard's kernels compiled for x86-64-v3 (AVX2, FMA, BMI2: Package.swift's flag for this
/// target): each entry point is the `@inlinable` kernel of `StainKernels` inlined here, so the
/// compiler emits its AVX2 copy in this module. Not inlinable themselves (`@inline(never)`), so
/// no caller copies them back into baseline code; call only where `Stain` chose this path (the
/// CPU and the OS support it). Macenko's and HED's table loops are not here: their v3 copies
/// ran 3–4 % slower (one pixel at a time, with nothing for eight lanes to do).
public enum StainKernelsV3 {
    @inline(never)
    public static func reinhardForward(pixels: UnsafePointer<UInt8>, count: Int, rowLength: Int, terms: UnsafePointer<SIMD4<Int32>>,
                                       shift: Int32, cube: UnsafePointer<Float>, planes: UnsafeMutablePointer<Float>,
                                       sums: UnsafeMutablePointer<Double>) -> Int {
        StainKernels.reinhardForward(pixels: pixels, count: count, rowLength: rowLength, terms: terms, shift: shift, cube: cube,
                                     planes: planes, sums: sums)
    }

    @inline(never)
    public static func reinhardBack(planes: UnsafePointer<Float>, count: Int, map: StainKernels.ReinhardMap, indices: UnsafeMutablePointer<Int32>,
                                    block: Int, toByte: UnsafePointer<UInt8>, pixels: UnsafeMutablePointer<UInt8>) {
        StainKernels.reinhardBack(planes: planes, count: count, map: map, indices: indices, block: block, toByte: toByte, pixels: pixels)
    }
}
