import Foundation
import NeuralNet
import TesseraCore

/// Throughput of a network on synthetic data, for `tessera-bench` (tests never time anything).
/// Run it with OpenBLAS's fast kernels (`BLASRuntime.ensureFastKernels()`) and an explicit thread
/// count (`BLASRuntime.setThreads`); report medians, the machines are shared. On a busy machine the
/// `.processCPU` clock (CPU seconds of all this process's threads) shows what the code costs when
/// it gets the cores, wall time what it got.
enum NetworkBenchmark {
    public enum Clock: Sendable {
        case wall
        case processCPU
    }

    /// Images per second of full training steps (zero gradients, forward, softmax cross-entropy,
    /// backward, SGD update), one figure per sample of `steps` steps, after one warm-up step.
    public static func trainingRates(network: Network, batch: Int, steps: Int, samples: Int, clock: Clock = .wall) -> [Double] {
        let (images, labels) = syntheticBatch(network: network, batch: batch)
        let sgd = SGD(parameterInfo: network.parameterInfo, momentum: 0.9, weightDecay: 5e-5)
        let step = {
            network.zeroGradients()
            network.accumulateGradients(images: images, labels: labels)
            sgd.step(network, learningRate: 1e-3)
        }
        step()
        return (0..<samples).map { _ in Double(batch * steps) / seconds(clock) { for _ in 0..<steps { step() } } }
    }

    /// Images per second of inference forwards (`training: false`), one figure per sample.
    public static func inferenceRates(network: Network, batch: Int, batches: Int, samples: Int, clock: Clock = .wall) -> [Double] {
        let (images, _) = syntheticBatch(network: network, batch: batch)
        let run = { _ = network.forward(images, batch: batch, training: false) }
        run()
        return (0..<samples).map { _ in Double(batch * batches) / seconds(clock) { for _ in 0..<batches { run() } } }
    }

    /// Seconds per layer of one training step (forward, backward), for finding the hot spot.
    public static func layerProfile(network: Network, batch: Int, repeats: Int = 3, clock: Clock = .wall) -> [(name: String, forward: Double, backward: Double)] {
        let (images, _) = syntheticBatch(network: network, batch: batch)
        var forward = [Double](repeating: .infinity, count: network.layers.count)
        var backward = forward
        let dLogits = [Float](repeating: 1 / Float(batch * network.classes), count: batch * network.classes)
        images.withUnsafeBufferPointer { x in
            for _ in 0..<repeats {
                var t: Tensor = Tensor(data: UnsafeMutablePointer(mutating: x.baseAddress!), shape: TensorShape(batch: batch, image: network.inputShape))
                for (i, layer) in network.layers.enumerated() {
                    forward[i] = min(forward[i], seconds(clock) { t = layer.forward(t, training: true) })
                }
                dLogits.withUnsafeBufferPointer { d in
                    var g: Tensor? = Tensor(data: UnsafeMutablePointer(mutating: d.baseAddress!), shape: t.shape)
                    for (i, layer) in network.layers.enumerated().reversed() {
                        backward[i] = min(backward[i], seconds(clock) { g = layer.backward(g!, needsInputGradient: i > 0) })
                    }
                }
            }
        }
        return network.layers.indices.map { (network.layers[$0].name, forward[$0], backward[$0]) }
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
