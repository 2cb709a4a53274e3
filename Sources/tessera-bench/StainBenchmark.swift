import Foundation
import JPEG
import Model
import Stain
import TesseraCore

/// Stain normalisation and HED augmentation on one 256² tile of real tissue, single thread, and
/// what each adds to the input pipeline (a stored JPEG tile → the network input, as training reads
/// a store). Each rate is given per wall second and per CPU second (the log has the cores busy).
struct StainBenchmark: Benchmark {
    static let tileSize = 256

    func run(in context: BenchContext) throws {
        let source = try JPEGBenchmark.sampleTile(context)
        let tile = Self.crop(source, size: Self.tileSize)
        let samples = context.count(7, quick: 3)
        let minSeconds = context.quick ? 0.1 : 0.3
        var reinhard = ReinhardNormalizer(reference: .builtIn)
        var macenko = MacenkoNormalizer(reference: .builtIn)
        var probe = tile
        let reinhardApplied = reinhard.normalize(&probe)
        probe = tile
        let macenkoApplied = macenko.normalize(&probe)
        guard reinhardApplied && macenkoApplied else {
            throw BenchError.wrongResult("the sample tile fell back to the identity (Reinhard \(reinhardApplied), Macenko \(macenkoApplied))",
                                         hint: "the tile has too little tissue; pass a --slides folder with the reference slides")
        }
        var rng = SeededGenerator(seed: 1)
        let hed = HEDAugmentation.draw(sigma: 0.05, rng: &rng)
        try Self.checkKernelPaths(tile)
        let measurements: [(name: String, label: String, operation: () -> Void)] = [
            ("stain_reinhard_256", "Reinhard", { var t = tile; reinhard.normalize(&t) }),
            ("stain_macenko_256", "Macenko", { var t = tile; macenko.normalize(&t) }),
            ("stain_hed_256", "HED augmentation", { var t = tile; HEDAugmentation.apply(&t, alpha: hed.alpha, beta: hed.beta) }),
        ]
        for m in measurements {
            let rate = Measure.rate(samples: samples, minSampleSeconds: minSeconds, m.operation)
            Log.info("\(m.label), \(Self.tileSize)² RGB, 1 thread: \(rate.summary("tiles/s"))")
            Figure(m.name, rate.median, "tiles/s").emit()
            if let cpu = rate.cpu, cpu.coresBusy > 0 { Figure(m.name + "_per_cpu_s", rate.median / cpu.coresBusy, "tiles/s").emit() }
        }

        // The input pipeline as the trainer runs it, with each method on: from the stores' 512² tiles
        // to the default 128² input (a ¼ JPEG decode) and to 256² (tcga-lung.env), and from 256² tiles.
        for (tileSize, inputSize) in Self.pipelineSizes {
            try measurePipeline(source: source, tileSize: tileSize, inputSize: inputSize, samples: samples, minSeconds: minSeconds)
        }
    }

    /// (stored tile, network input) sizes of the pipeline figures.
    static let pipelineSizes = [(512, 128), (512, 256), (256, 128)]

    private func measurePipeline(source: RGBImage, tileSize: Int, inputSize: Int, samples: Int, minSeconds: Double) throws {
        let jpeg = [UInt8](try JPEGEncoder(quality: 90).encode(Self.crop(source, size: tileSize)))
        let input = UnsafeMutablePointer<Float>.allocate(capacity: 3 * inputSize * inputSize)
        defer { input.deallocate() }
        var baseline: Double?
        let plain = Normalization(mean: [128, 128, 128], std: [64, 64, 64])
        var augmented = Augmentation()
        augmented.hed = 0.05
        let prefix = "input_pipeline_\(tileSize)_to_\(inputSize)"
        let variants: [(name: String, label: String, stain: StainNormalization?, augmentation: Augmentation)] = [
            (prefix, "input pipeline", nil, Augmentation()),
            (prefix + "_reinhard", "input pipeline + Reinhard", .builtIn(.reinhard), Augmentation()),
            (prefix + "_macenko", "input pipeline + Macenko", .builtIn(.macenko), Augmentation()),
            (prefix + "_hed", "input pipeline + HED 0.05", nil, augmented),
            (prefix + "_macenko_hed", "input pipeline + Macenko + HED 0.05", .builtIn(.macenko), augmented),
        ]
        for v in variants {
            var normalization = plain
            normalization.stain = v.stain
            let pipeline = try InputPipeline(tileSize: tileSize, inputSize: inputSize, normalization: normalization,
                                             augmentation: v.augmentation, seed: 1)
            var index = 0
            let rate = try Measure.rate(samples: samples, minSampleSeconds: minSeconds) {
                index += 1
                try pipeline.prepare(.jpeg(jpeg), globalIndex: index, epoch: 0, augment: true, source: "bench tile", into: input)
            }
            // Compared per CPU second when the cores-busy figure exists: wall rates on a loaded machine vary by ±30 %.
            let perCPU = rate.cpu.flatMap { $0.coresBusy > 0 ? rate.median / $0.coresBusy : nil }
            let comparable = perCPU ?? rate.median
            let drop = baseline.map { String(format: "; %.1f%% below the plain pipeline per %@", 100 * (1 - comparable / $0), perCPU == nil ? "wall second" : "CPU second") } ?? ""
            Log.info("\(v.label), \(tileSize)² JPEG → \(inputSize)² input, 1 thread: \(rate.summary("tiles/s"))\(drop)")
            Figure(v.name, rate.median, "tiles/s").emit()
            if let perCPU { Figure(v.name + "_per_cpu_s", perCPU, "tiles/s").emit() }
            if baseline == nil { baseline = comparable }
        }
    }

    /// Reinhard's x86-64-v3 kernels against the baseline ones on the tile, in this (release) build:
    /// the same bytes, or the figures would compare different work. Logs which path the figures are of.
    static func checkKernelPaths(_ tile: RGBImage) throws {
        Log.info(StainKernelPath.summary)
        guard StainKernelPath.hardware.path == .avx2 else { return }
        let outputs = [StainKernelPath.baseline, .avx2].map { kernels in
            var (t, reinhard) = (tile, ReinhardNormalizer(reference: .builtIn, kernels: kernels))
            reinhard.normalize(&t)
            return t.pixels
        }
        guard outputs[0] == outputs[1] else {
            throw BenchError.wrongResult("Reinhard's x86-64-v3 kernels give other bytes than the baseline ones on the sample tile",
                                         hint: "run StainKernelEquivalenceTests; set TESSERA_SIMD=baseline until fixed")
        }
        Log.info("Reinhard's x86-64-v3 and baseline kernels give the same bytes on the sample tile")
    }

    /// The centre size×size of `image`.
    static func crop(_ image: RGBImage, size: Int) -> RGBImage {
        let x0 = (image.width - size) / 2, y0 = (image.height - size) / 2
        var pixels = [UInt8]()
        pixels.reserveCapacity(size * size * 3)
        for y in 0..<size {
            let start = ((y0 + y) * image.width + x0) * 3
            pixels += image.pixels[start..<start + size * 3]
        }
        return RGBImage(width: size, height: size, pixels: pixels)
    }
}
