import Foundation
import JPEG
import OpenSlide
import TesseraCore

/// TurboJPEG on one 512² H&E tile, single thread: encoding at quality 90 (what the tiler writes into
/// the tile store), decoding at full size, and decoding at scale 4 (512 → 128, what the trainer reads).
struct JPEGBenchmark: Benchmark {
    static let tileSize = 512
    static let quality = 90
    static let sourceSlide = "cmu-1-small-region.svs"

    func run(in context: BenchContext) throws {
        let tile = try Self.sampleTile(context)
        let encoder = try JPEGEncoder(quality: Self.quality)
        let decoder = try JPEGDecoder()
        let jpeg = try encoder.encode(tile)
        let full = try decoder.decode(jpeg, scale: 1)
        let quarter = try decoder.decode(jpeg, scale: 4)
        guard full.width == tile.width, full.height == tile.height,
              quarter.width == tile.width / 4, quarter.height == tile.height / 4 else {
            throw BenchError.wrongResult("JPEG round trip of a \(tile.width)² tile gave \(full.width)×\(full.height) and, at scale 4, \(quarter.width)×\(quarter.height)", hint: "")
        }
        let psnr = Self.psnr(tile, full)
        Log.info("JPEG q\(Self.quality) tile: \(jpeg.count) bytes, PSNR \(Figure.format(psnr)) dB")
        Figure("jpeg_tile_q90_size", Double(jpeg.count) / 1024, "KiB").emit()

        let samples = context.count(7, quick: 3)
        let minSeconds = context.quick ? 0.1 : 0.3
        let measurements: [(name: String, label: String, operation: () throws -> Void)] = [
            ("jpeg_encode_q90", "encode q\(Self.quality)", { _ = try encoder.encode(tile) }),
            ("jpeg_decode", "decode", { _ = try decoder.decode(jpeg, scale: 1) }),
            ("jpeg_decode_scale4", "decode at scale 4", { _ = try decoder.decode(jpeg, scale: 4) }),
        ]
        for m in measurements {
            let rate = try Measure.rate(samples: samples, minSampleSeconds: minSeconds, m.operation)
            Log.info("JPEG \(m.label), \(Self.tileSize)² RGB, 1 thread: \(rate.summary("tiles/s"))")
            Figure(m.name, rate.median, "tiles/s").emit()
        }
    }

    /// A 512² tile of real tissue from the CMU slide (the grid cell with the most tissue), or a
    /// synthetic H&E-like texture when the slides folder is absent.
    static func sampleTile(_ context: BenchContext) throws -> RGBImage {
        guard let path = context.referenceSlide(sourceSlide, for: "the real tissue tile of jpeg_* (a synthetic texture stands in)") else {
            return SyntheticTile.render(width: tileSize, height: tileSize, seed: 42)
        }
        let slide = try Slide(path: path)
        let (w, h) = slide.dimensions(level: 0)
        var best: (tile: RGBImage, tissue: Double)?
        for y in stride(from: 0, through: h - tileSize, by: tileSize) {
            for x in stride(from: 0, through: w - tileSize, by: tileSize) {
                let tile = try slide.readRegion(x: x, y: y, level: 0, width: tileSize, height: tileSize)
                let tissue = TileSample.tissueFraction(tile)
                if tissue > (best?.tissue ?? -1) { best = (tile, tissue) }
            }
        }
        guard let best else {
            throw BenchError.missingInput("\(path) is smaller than one \(tileSize)² tile", hint: "pass a --slides folder with the reference slides")
        }
        Log.info("JPEG figures use a \(tileSize)² tile of \(sourceSlide) with \(Int(best.tissue * 100))% tissue")
        return best.tile
    }

    /// Peak signal-to-noise ratio in dB between two images of the same size.
    static func psnr(_ a: RGBImage, _ b: RGBImage) -> Double {
        var squares = 0.0
        for i in 0..<a.pixels.count {
            let d = Double(a.pixels[i]) - Double(b.pixels[i])
            squares += d * d
        }
        let mse = squares / Double(a.pixels.count)
        return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }
}
