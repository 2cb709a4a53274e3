import BLAS
import Foundation
import Model
import NeuralNet
import Prediction
import TesseraCore

/// Prediction end to end from a tile store, through the predictor's own code path
/// (`PredictionBenchmark.storeInference`): HDF5 read, JPEG decode at reduced scale, resampling and
/// normalisation on a background thread, overlapped with refnet-s 128² forwards on one OpenBLAS
/// thread. The store is the gigapixel slide tiled at 20×; the network has random weights (its
/// speed does not depend on them).
struct StoreInferenceBenchmark: Benchmark {
    static let batchSize = 64
    /// Typical H&E channel statistics on 0–255 values; any would do for speed.
    static let normalization = Normalization(mean: [180, 135, 180], std: [45, 55, 40])
    static let perCore = Target.atLeast(150, "tiles per CPU second", "end to end, decoding overlapped with compute")

    func run(in context: BenchContext) throws {
        guard context.gigapixelSize != nil else {
            context.skip("predict_*, embed_*", because: "--skip-gigapixel (the store to score is the gigapixel slide, tiled)")
            return
        }
        let storeFile = try context.gigapixelStoreFile()
        let network = try TrainingBenchmark.makeNetwork()
        let threadsBefore = BLASRuntime.threads
        defer { BLASRuntime.setThreads(threadsBefore) }
        BLASRuntime.setThreads(1)

        var use = CPUUse()
        var passes: [PredictionBenchmark.Figure] = []
        _ = try Measure.seconds({
            passes = try PredictionBenchmark.storeInference(network: network, normalization: Self.normalization, storeFile: storeFile,
                                                            batchSize: Self.batchSize, repeats: context.count(3, quick: 1))
        }, accountingTo: &use)
        let wall = Samples(passes.map(\.tilesPerSecond), cpu: use)
        let perCPU = Samples(passes.map(\.tilesPerCPUSecond))
        let coresBusy = Samples(passes.map { $0.cpuSeconds / $0.wallSeconds })
        Log.info("prediction with \(TrainingBenchmark.model) \(TrainingBenchmark.inputSize)², batch \(Self.batchSize), 1 OpenBLAS thread plus the decoding thread, "
                 + "\(passes[0].tiles) tiles of \(storeFile.path) per pass: \(wall.summary("tiles/s")); \(perCPU.summary("tiles per CPU second")); "
                 + "\(coresBusy.summary("cores busy")) (above 1: decoding overlapped with the forwards); \(Self.perCore.verdict(perCPU.median))")
        Figure("predict_refnet_s128_tiles_per_s_t1", wall.median, "tiles/s").emit()
        Figure("predict_refnet_s128_tiles_per_cpu_s_t1", perCPU.median, "tiles/CPU-s").emit()
        try embed(network: network, storeFile: storeFile, context: context)
    }

    static let embedPerCore = Target.atLeast(200, "tiles per CPU second", "embeddings from a store (tessera-predict embed)")

    /// The same pass with the embedding output (the classifier's input): what `tessera-predict
    /// embed` computes before writing the feature files.
    private func embed(network: Network, storeFile: URL, context: BenchContext) throws {
        var use = CPUUse()
        var passes: [PredictionBenchmark.Figure] = []
        _ = try Measure.seconds({
            passes = try PredictionBenchmark.storeInference(network: network, normalization: Self.normalization, storeFile: storeFile,
                                                            batchSize: Self.batchSize, repeats: context.count(3, quick: 1), output: .embeddings)
        }, accountingTo: &use)
        let wall = Samples(passes.map(\.tilesPerSecond), cpu: use)
        let perCPU = Samples(passes.map(\.tilesPerCPUSecond))
        Log.info("embedding with \(TrainingBenchmark.model) \(TrainingBenchmark.inputSize)² (\(network.embeddingWidth) values a tile), "
                 + "1 OpenBLAS thread plus the decoding thread: \(wall.summary("tiles/s")); \(perCPU.summary("tiles per CPU second")); "
                 + Self.embedPerCore.verdict(perCPU.median))
        Figure("embed_refnet_s128_tiles_per_s_t1", wall.median, "tiles/s").emit()
        Figure("embed_refnet_s128_tiles_per_cpu_s_t1", perCPU.median, "tiles/CPU-s").emit()
    }
}
