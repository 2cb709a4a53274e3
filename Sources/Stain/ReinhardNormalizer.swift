import StainKernels
import StainKernelsV3
import TesseraCore

/// Reinhard et al. 2001 colour transfer in CIE L*a*b*: each channel of the tile shifted and scaled
/// so that its mean and standard deviation over the tile become the reference's.
///
/// Two passes over the pixels (`StainKernels.reinhardForward` and `reinhardBack`): the first
/// converts to L*a*b* (keeping f(X), f(Y), f(Z) in a scratch buffer) and sums the moments, the
/// second maps each channel affinely and converts back. Each pass splits its table lookups (one
/// pixel at a time: SSE2 has no gather) from its arithmetic, which runs over planes of floats a
/// register of pixels at a time. A tile with too little tissue
/// (its statistics would be the glass's, and a speck's colours stretched to a whole tile's) or
/// whose L* hardly varies is left as it is.
public struct ReinhardNormalizer {
    public let reference: ReinhardReference
    /// Below this L* standard deviation a tile is left unchanged.
    public static let minimumLightnessStd: Float = 1
    /// Tissue: a pixel with OD ≥ β (0.15, as Macenko's) in some channel, i.e. a byte ≤ 205.
    public static let tissueByte: UInt8 = 205
    /// Below this share of tissue pixels a tile is left unchanged (as Macenko's minimum).
    public static let minimumTissueFraction = MacenkoNormalizer.minimumTissueFraction
    /// Tissue pixels of the last `statistics` call.
    public private(set) var tissuePixels = 0
    /// f(X/Xₙ), f(Y/Yₙ), f(Z/Zₙ) per pixel, from `statistics`, as three planes (so that the way back
    /// runs over contiguous floats and the compiler vectorises it).
    private var scratch: [Float] = []
    /// The way back's byte-table indices of one block of pixels, three planes of `block`.
    private var indices: [Int32] = []
    static let block = 256
    /// Which copy of the kernels runs (the process's choice; tests and tessera-bench compare both).
    public let kernels: StainKernelPath

    public init(reference: ReinhardReference) {
        self.init(reference: reference, kernels: .selected)
    }

    /// With a given copy of the kernels: the x86-64-v3 one only where `StainKernelPath.selection` allows it.
    public init(reference: ReinhardReference, kernels: StainKernelPath) {
        self.reference = reference
        self.kernels = kernels
    }

    /// Mean and standard deviation of L*, a*, b* over the pixels, with each pixel's f(X/Xₙ),
    /// f(Y/Yₙ), f(Z/Zₙ) kept in the scratch buffer for `normalize`.
    ///
    /// In fixed point up to the cube root: X, Y, Z of a pixel are sums of one table term per
    /// channel (`LabColor.xyzTerms`), already in steps of the cube-root table, so no float → integer
    /// conversion is needed per pixel.
    public mutating func statistics(_ image: RGBImage) -> ReinhardReference {
        let n = image.width * image.height
        if scratch.count < 3 * n { scratch = [Float](repeating: 0, count: 3 * n) }
        var sums = [Double](repeating: 0, count: 6)
        var glassPixels = 0
        let (kernels, rowLength) = (self.kernels, image.width)
        LabColor.xyzTerms.withUnsafeBufferPointer { terms in
            LabColor.cubeRootTable.withUnsafeBufferPointer { cube in
                image.pixels.withUnsafeBufferPointer { px in
                    scratch.withUnsafeMutableBufferPointer { out in
                        sums.withUnsafeMutableBufferPointer { sums in
                            let (px, terms, cube, out, sums) = (px.baseAddress!, terms.baseAddress!, cube.baseAddress!, out.baseAddress!, sums.baseAddress!)
                            let shift = LabColor.xyzFractionBits
                            switch kernels {
                            case .baseline:
                                glassPixels = StainKernels.reinhardForward(pixels: px, count: n, rowLength: rowLength, terms: terms, shift: shift,
                                                                           cube: cube, planes: out, sums: sums)
                            case .avx2:
                                glassPixels = StainKernelsV3.reinhardForward(pixels: px, count: n, rowLength: rowLength, terms: terms, shift: shift,
                                                                             cube: cube, planes: out, sums: sums)
                            }
                        }
                    }
                }
            }
        }
        let tissue = n - glassPixels
        tissuePixels = tissue
        let count = Double(max(n, 1))
        let mean = (0..<3).map { sums[$0] / count }
        let std = (0..<3).map { max(0, sums[3 + $0] / count - mean[$0] * mean[$0]).squareRoot() }
        return ReinhardReference(mean: mean.map(Float.init), std: std.map(Float.init))
    }

    /// Whether the last `statistics` describe enough tissue to match.
    func matchable(_ s: ReinhardReference, pixels: Int) -> Bool {
        s.std[0] >= Self.minimumLightnessStd && tissuePixels >= max(64, Int(Self.minimumTissueFraction * Double(pixels)))
    }

    /// Normalises `image` in place; false (and unchanged) when the tile has too little tissue or is too flat.
    @discardableResult
    public mutating func normalize(_ image: inout RGBImage) -> Bool {
        let source = statistics(image)
        guard matchable(source, pixels: image.width * image.height) else { return false }
        // Per channel y = x·scale + offset; a channel with no spread keeps its values and is moved to the mean.
        let scale = (0..<3).map { source.std[$0] > 1e-3 ? reference.std[$0] / source.std[$0] : 1 }
        let offset = (0..<3).map { reference.mean[$0] - source.mean[$0] * scale[$0] }
        // In f-space the per-channel L*a*b* maps are one affine map: L = 116·fy − 16,
        // a = 500·(fx − fy), b = 200·(fy − fz), so fy' = s_L·fy + c_y and
        // fx' = s_a·fx + (s_L − s_a)·fy + c_x, fz' = s_b·fz + (s_L − s_b)·fy + c_z.
        let cy = (offset[0] + 16 - 16 * scale[0]) / 116
        let map = StainKernels.ReinhardMap(scale: (scale[1], scale[0], scale[2]), cross: (scale[0] - scale[1], scale[0] - scale[2]),
                                           offset: (cy + offset[1] / 500, cy, cy - offset[2] / 200), inverse: LabColor.inverse,
                                           steps: Float(LabColor.byteSteps))
        let n = image.width * image.height
        let (block, kernels) = (Self.block, self.kernels)
        if indices.count < 3 * block { indices = [Int32](repeating: 0, count: 3 * block) }
        LabColor.byteFromLinear.withUnsafeBufferPointer { toByte in
            image.pixels.withUnsafeMutableBufferPointer { px in
                scratch.withUnsafeBufferPointer { f in
                    indices.withUnsafeMutableBufferPointer { ix in
                        let (toByte, px, f, ix) = (toByte.baseAddress!, px.baseAddress!, f.baseAddress!, ix.baseAddress!)
                        switch kernels {
                        case .baseline:
                            StainKernels.reinhardBack(planes: f, count: n, map: map, indices: ix, block: block, toByte: toByte, pixels: px)
                        case .avx2:
                            StainKernelsV3.reinhardBack(planes: f, count: n, map: map, indices: ix, block: block, toByte: toByte, pixels: px)
                        }
                    }
                }
            }
        }
        return true
    }
}
