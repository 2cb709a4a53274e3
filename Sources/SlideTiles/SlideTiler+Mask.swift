import Foundation
import TesseraCore
import Tiling

extension SlideTiler {
    /// The tissue mask of the slide, read through `reader` (the slide's own reader, so a damaged
    /// mask level fails the same way as a damaged tile), in strips so that no read buffer spans the
    /// level: from the coarsest suitable pyramid level (`maskLevel`), or — for a slide without one,
    /// e.g. a single-level tiled TIFF — from level 0 reduced ⅛ in the JPEG decoder and then
    /// block-averaged (`streamedReduction`). nil when masking is off or neither applies (every
    /// position is then read). By `rule` (the spec's when nil); `thumbnail` (the smallest level,
    /// when it was read already) is reused when the mask is built on that level. `readers`: one per
    /// worker; the block-averaged pass over level 0 (a whole level's decode) shares its strips among them.
    public func tissueMask(for source: any SlideSource, readers: [any RegionReader], plan: TilingPlan, rule slideRule: BackgroundRule? = nil,
                           thumbnail: RGBImage? = nil) throws -> TissueMask? {
        let reader = readers[0]
        guard useTissueMask else { return nil }
        let rule = slideRule ?? spec.rule
        let g = SlideTiler.geometry(of: source.slide)
        if let level = SlideTiler.maskLevel(geometry: g, plan: plan) {
            let image = try level == g.levelSizes.count - 1 ? thumbnail ?? Self.readInStrips(reader, level: level, size: g.levelSizes[level],
                                                                                              levelDownsample: g.levelDownsamples[level])
                : Self.readInStrips(reader, level: level, size: g.levelSizes[level], levelDownsample: g.levelDownsamples[level])
            return TissueMask(image: image, downsample: g.levelDownsamples[level], rule: rule)
        }
        guard g.levelSizes.count == 1, let block = Self.streamedReduction(plan: plan),
              let image = try Self.blockAveraged(readers, size: g.levelSizes[0], block: block) else { return nil }
        return TissueMask(image: image, downsample: Double(8 * block), rule: rule)
    }

    /// For a single-level slide: the block (1…16) by which the ⅛ decoder reduction is averaged
    /// further, the largest with a tile still ≥ 4 mask pixels across; nil when a tile is too small.
    static func streamedReduction(plan: TilingPlan) -> Int? {
        let tileSpan = Double(plan.tileSize) * plan.downsample
        return [16, 8, 4, 2, 1].first { tileSpan / Double(8 * $0) >= 4 }
    }

    /// The whole level, read 256 rows at a time.
    static func readInStrips(_ reader: any RegionReader, level: Int, size: (width: Int, height: Int), levelDownsample: Double) throws -> RGBImage {
        var pixels: [UInt8] = []
        pixels.reserveCapacity(size.width * size.height * 3)
        var y = 0
        while y < size.height {
            let rows = min(256, size.height - y)
            let y0 = Int((Double(y) * levelDownsample).rounded())
            pixels += try reader.readRegion(x: 0, y: y0, level: level, width: size.width, height: rows).pixels
            y += rows
        }
        return RGBImage(width: size.width, height: size.height, pixels: pixels)
    }

    /// Level 0 reduced ⅛ in the decoder, strip by strip (strips shared among the readers, each
    /// on its own thread), each `block`² of reduced pixels averaged into one; nil when the reader
    /// cannot reduce in the decoder.
    static func blockAveraged(_ readers: [any RegionReader], size: (width: Int, height: Int), block: Int) throws -> RGBImage? {
        let pass = BlockAveragedPass(readers: readers, size: size, block: block)
        DispatchQueue.concurrentPerform(iterations: min(readers.count, pass.strips)) { pass.run(worker: $0) }
        return try pass.result()
    }
}

/// The block-averaged pass's shared state: strip k (mask rows 8k..<8k+8, from reduced row
/// 8k·block on) is read by worker k mod workers with its own reader; strips write disjoint rows.
private final class BlockAveragedPass: @unchecked Sendable {
    let readers: [any RegionReader]
    let block: Int, reducedWidth: Int, reducedHeight: Int, width: Int, height: Int, strips: Int
    /// Allocated once: the workers write disjoint rows through it (an array property would be one
    /// exclusive access per write, which two threads may not hold at once).
    private let out: UnsafeMutableBufferPointer<UInt8>
    private let lock = NSLock()
    private var failure: Error?
    private var unreduced = false

    init(readers: [any RegionReader], size: (width: Int, height: Int), block: Int) {
        self.readers = readers
        self.block = block
        reducedWidth = (size.width + 7) / 8
        reducedHeight = (size.height + 7) / 8
        width = (reducedWidth + block - 1) / block
        height = (reducedHeight + block - 1) / block
        strips = (height + 7) / 8
        out = .allocate(capacity: width * height * 3)
        out.initialize(repeating: 255)
    }

    deinit { out.deallocate() }

    private var stopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return failure != nil || unreduced
    }

    func run(worker: Int) {
        for k in stride(from: worker, to: strips, by: readers.count) where !stopped {
            do {
                let y = 8 * k * block, rows = min(8 * block, reducedHeight - 8 * k * block)
                guard let strip = try readers[worker].readRegion(x: 0, y: 8 * y, level: 0, width: reducedWidth, height: rows, scale: 8) else {
                    lock.lock(); unreduced = true; lock.unlock()
                    return
                }
                average(strip.pixels, rows: rows, maskRow: 8 * k)
            } catch {
                lock.lock(); failure = failure ?? error; lock.unlock()
                return
            }
        }
    }

    func result() throws -> RGBImage? {
        if let failure { throw failure }
        return unreduced ? nil : RGBImage(width: width, height: height, pixels: Array(out))
    }

    /// The `block`² means of a strip of `rows` reduced rows, into mask rows from `maskRow` on.
    private func average(_ strip: [UInt8], rows: Int, maskRow row: Int) {
        for my in 0..<((rows + block - 1) / block) {
            for mx in 0..<width {
                var sum = (0, 0, 0), n = 0
                for sy in (my * block)..<min((my + 1) * block, rows) {
                    for sx in (mx * block)..<min((mx + 1) * block, reducedWidth) {
                        let i = (sy * reducedWidth + sx) * 3
                        sum = (sum.0 + Int(strip[i]), sum.1 + Int(strip[i + 1]), sum.2 + Int(strip[i + 2]))
                        n += 1
                    }
                }
                let o = ((row + my) * width + mx) * 3
                out[o] = UInt8(sum.0 / n)
                out[o + 1] = UInt8(sum.1 / n)
                out[o + 2] = UInt8(sum.2 / n)
            }
        }
    }
}
