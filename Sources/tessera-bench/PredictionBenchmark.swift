import Foundation
import Model
import NeuralNet
import Prediction
import TileStore

/// Speed of prediction for `tessera-bench` (tests never time anything): tiles per second end to
/// end from a store file — HDF5 read, JPEG decode at reduced scale, area resample, normalise, and
/// the network's forward — through the predictor's own code path (`TileScorer.score`).
enum PredictionBenchmark {
    public struct Figure: Sendable, Equatable {
        public var tiles: Int
        public var wallSeconds: Double
        /// CPU seconds of all this process's threads (decoding thread included).
        public var cpuSeconds: Double
        public var tilesPerSecond: Double { Double(tiles) / wallSeconds }
        /// Tiles per CPU-second: the figure per core when the process gets whole cores.
        public var tilesPerCPUSecond: Double { Double(tiles) / cpuSeconds }
    }

    /// Scores every tile of `storeFile` `repeats` times (after one warm-up pass), one figure per
    /// pass. Set OpenBLAS's kernels and threads first (`BLASRuntime`).
    public static func storeInference(network: Network, normalization: Normalization, storeFile: URL, batchSize: Int = 64,
                                      repeats: Int = 3, output: TileScorer.Output = .probabilities) throws -> [Figure] {
        let reader = try TileStoreReader(url: storeFile)
        defer { try? reader.close() }
        let scorer = try TileScorer(network: network, normalization: normalization, tileSize: reader.attributes.tileSize, batchSize: batchSize,
                                    output: output)
        _ = try scorer.run(reader)
        return try (0..<repeats).map { _ in
            let wall0 = now(CLOCK_MONOTONIC), cpu0 = now(CLOCK_PROCESS_CPUTIME_ID)
            let (values, _) = try scorer.run(reader)
            return Figure(tiles: values.count / scorer.valuesPerTile, wallSeconds: now(CLOCK_MONOTONIC) - wall0,
                          cpuSeconds: now(CLOCK_PROCESS_CPUTIME_ID) - cpu0)
        }
    }

    private static func now(_ clock: clockid_t) -> Double {
        var t = timespec()
        clock_gettime(clock, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
