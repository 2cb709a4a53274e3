import TesseraCore
import Tiling

extension SlideTiler {
    /// The tissue mask of the slide, read through `reader` (the slide's own reader, so a damaged
    /// mask level fails the same way as a damaged tile), in strips so that no read buffer spans the
    /// level: from the coarsest suitable pyramid level (`maskLevel`), or — for a slide without one,
    /// e.g. a single-level tiled TIFF — from level 0 reduced ⅛ in the JPEG decoder and then
    /// block-averaged (`streamedReduction`). nil when masking is off or neither applies (every
    /// position is then read). By `rule` (the spec's when nil); `thumbnail` (the smallest level,
    /// when it was read already) is reused when the mask is built on that level.
    public func tissueMask(for source: any SlideSource, reader: any RegionReader, plan: TilingPlan, rule slideRule: BackgroundRule? = nil,
                           thumbnail: RGBImage? = nil) throws -> TissueMask? {
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
              let image = try Self.blockAveraged(reader, size: g.levelSizes[0], block: block) else { return nil }
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

    /// Level 0 reduced ⅛ in the decoder, strip by strip, each `block`² of reduced pixels averaged
    /// into one; nil when the reader cannot reduce in the decoder.
    static func blockAveraged(_ reader: any RegionReader, size: (width: Int, height: Int), block: Int) throws -> RGBImage? {
        let reducedWidth = (size.width + 7) / 8, reducedHeight = (size.height + 7) / 8
        let width = (reducedWidth + block - 1) / block, height = (reducedHeight + block - 1) / block
        var out = [UInt8](repeating: 255, count: width * height * 3)
        let stripRows = 8 * block
        var row = 0
        while row < height {
            let y = row * block
            let rows = min(stripRows, reducedHeight - y)
            guard let strip = try reader.readRegion(x: 0, y: 8 * y, level: 0, width: reducedWidth, height: rows, scale: 8) else { return nil }
            let maskRows = (rows + block - 1) / block
            for my in 0..<maskRows {
                for mx in 0..<width {
                    var sum = (0, 0, 0), n = 0
                    for sy in (my * block)..<min((my + 1) * block, rows) {
                        for sx in (mx * block)..<min((mx + 1) * block, reducedWidth) {
                            let i = (sy * reducedWidth + sx) * 3
                            sum = (sum.0 + Int(strip.pixels[i]), sum.1 + Int(strip.pixels[i + 1]), sum.2 + Int(strip.pixels[i + 2]))
                            n += 1
                        }
                    }
                    let o = ((row + my) * width + mx) * 3
                    out[o] = UInt8(sum.0 / n)
                    out[o + 1] = UInt8(sum.1 / n)
                    out[o + 2] = UInt8(sum.2 / n)
                }
            }
            row += maskRows
        }
        return RGBImage(width: width, height: height, pixels: out)
    }
}
