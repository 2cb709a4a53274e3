import Foundation
import NeuralNet
import TesseraCore

/// Inference throughput of a network on synthetic data, for `tessera-bench` (training is timed
/// through the shipped `DataParallelStep`, see SyntheticTraining.swift) (tests never time anything).
/// Run it with OpenBLAS's fast kernels (`BLASRuntime.ensureFastKernels()`) and an explicit thread
/// count (`BLASRuntime.setThreads`); report medians, the machines are shared. On a busy machine the
/// `.processCPU` clock (CPU seconds of all this process's threads) shows what the code costs when
/// it gets the cores, wall time what it got.
enum NetworkBenchmark {
    public enum Clock: Sendable {
        case wall
        case processCPU
    }

    /// Images per second of inference forwards (`training: false`), one figure per sample.
    public static func inferenceRates(network: Network, batch: Int, batches: Int, samples: Int, clock: Clock = .wall) -> [Double] {
        let (images, _) = syntheticBatch(network: network, batch: batch)
        let run = { _ = network.forward(images, batch: batch, training: false) }
        run()
        return (0..<samples).map { _ in Double(batch * batches) / seconds(clock) { for _ in 0..<batches { run() } } }
    }

    static func syntheticBatch(network: Network, batch: Int) -> ([Float], [Int]) {
        var rng = SeededGenerator(seed: 7)
        let images = (0..<(batch * network.inputShape.count)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let labels = (0..<batch).map { _ in Int(rng.next() % UInt64(network.classes)) }
        return (images, labels)
    }

    static func seconds(_ clock: Clock, _ body: () -> Void) -> Double {
        let id = clock == .wall ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID
        var start = timespec(), end = timespec()
        clock_gettime(id, &start)
        body()
        clock_gettime(id, &end)
        return Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) * 1e-9
    }
}
