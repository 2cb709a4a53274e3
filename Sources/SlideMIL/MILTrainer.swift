import BLAS
import Foundation
import MPI
import NeuralNet
import TesseraCore

/// Gated attention MIL trained data-parallel: every rank holds the whole network and all bags; at
/// each step it takes its equal share of the step's bags (`BagEpochPlan`), accumulates their
/// class-weighted loss gradients (each scaled by 1/bags-per-step), and one in-place allreduce sums
/// the shares into the step's mean gradient before the same AdamW update on every rank.
///
/// Everything random is a function of (seed, epoch, bag) — the bag order, the capped tiles, the
/// dropout mask — so a bag is treated the same on whichever rank takes it: 2 ranks and 1 rank
/// with the same bags per step agree to rounding, and a run resumed from a checkpoint (written
/// by rank 0 after every epoch) is bit-identical to one that was not stopped.
public final class MILTrainer {
    public struct Options: Sendable {
        public var features: URL
        public var output: URL
        public var configuration: MILConfiguration
        public var threads = 1
        public var resume = false
        /// Stop after this many epochs of this run, as if killed there (for testing resume).
        public var stopAfterEpochs: Int?

        public init(features: URL, output: URL, configuration: MILConfiguration) {
            self.features = features
            self.output = output
            self.configuration = configuration
        }
    }

    public struct Summary: Sendable {
        public var history: [MILEpochRecord]
        public var model: MILModel
        public var stopped: Bool
    }

    public static let modelFile = "mil-model.json"
    public static let checkpointFile = "mil-checkpoint.json"
    public static let metricsFile = "mil-metrics.csv"

    let options: Options
    let collectives: Collectives
    let rank: Int

    public init(collectives: Collectives, rank: Int, options: Options) {
        self.options = options
        self.collectives = collectives
        self.rank = rank
    }

    public func run() throws -> Summary {
        BLASRuntime.setThreads(options.threads)
        var c = options.configuration
        c.ranks = collectives.size
        let train = try BagSet.load(store: options.features, split: "train", classes: c.classes.isEmpty ? nil : c.classes)
        guard train.count > 0 else {
            throw TesseraError.invalidInput(path: options.features.appendingPathComponent("train").path,
                                            message: "no labelled slides with tiles", hint: "run tessera-predict embed on the tile store first")
        }
        if c.classes.isEmpty { c.classes = train.classNames }
        guard c.classes.count >= 2 else {
            throw TesseraError.invalidInput(path: options.features.path, message: "the training slides have one class (\(c.classes.joined()))",
                                            hint: "MIL needs slides of at least two classes")
        }
        c.features = train.slides[0].width
        let validation = try BagSet.load(store: options.features, split: "validation", classes: c.classes, width: c.features)
        let digest = train.slides[0].provenance.modelDigest
        let net = MILModel.network(c)
        let adam = Adam(parameterInfo: net.parameterInfo, weightDecay: c.weightDecay)
        let weights = balancedClassWeights(labels: train.labels, classes: c.classes.count)
        var history: [MILEpochRecord] = [], best: MILModel?, start = 0
        let checkpointURL = options.output.appendingPathComponent(Self.checkpointFile)
        if options.resume, FileManager.default.fileExists(atPath: checkpointURL.path) {
            let saved = try JSONFile.read(MILCheckpoint.self, from: checkpointURL, hint: "remove it to start over")
            guard saved.configuration == c else {
                throw TesseraError.invalidInput(path: checkpointURL.path, message: "was written with other settings",
                                                hint: "resume with the settings of the run that wrote it, or remove it to start over")
            }
            try net.loadParameters(saved.parameters.values)
            try adam.loadState(OptimizerState(kind: "adam", stepCount: saved.adamStep,
                                              buffers: [.init(name: "firstMoment", values: saved.firstMoment.values),
                                                        .init(name: "secondMoment", values: saved.secondMoment.values)]))
            (start, best, history) = (saved.epochsDone, saved.best, saved.history)
            if rank == 0 { Log.info("resuming after epoch \(start) of \(c.epochs)") }
        }
        if rank == 0 {
            try FileManager.default.createDirectory(at: options.output, withIntermediateDirectories: true)
            Log.info("attention MIL: \(train.count) training and \(validation.count) validation slides, classes \(c.classes.joined(separator: ",")), "
                + "\(c.features) features → \(c.hidden) hidden, \(c.epochs) epochs of \(BagEpochPlan(bags: train.count, bagsPerStep: c.bagsPerStep, ranks: c.ranks, seed: c.seed, epoch: 0).steps) steps "
                + "(\(c.bagsPerStep) bags a step over \(c.ranks) rank\(c.ranks == 1 ? "" : "s")), bag cap \(c.bagCap == 0 ? "none" : String(c.bagCap)) tiles")
        }
        var epochsThisRun = 0
        for epoch in start..<c.epochs {
            if let stop = options.stopAfterEpochs, epochsThisRun >= stop {
                return Summary(history: history, model: best ?? snapshot(net, c, epoch: epoch, loss: nil, digest: digest), stopped: true)
            }
            let started = Date()
            let trainLoss = trainEpoch(epoch, net: net, adam: adam, bags: train, weights: weights, c: c)
            let (validationLoss, accuracy) = Self.evaluate(net, validation)
            let record = MILEpochRecord(epoch: epoch + 1, trainLoss: trainLoss, validationLoss: validationLoss, validationAccuracy: accuracy,
                                        seconds: Date().timeIntervalSince(started))
            history.append(record)
            // The best model by validation loss (the last without validation slides).
            if validationLoss == nil || best?.validationLoss == nil || validationLoss! < best!.validationLoss! {
                best = snapshot(net, c, epoch: epoch + 1, loss: validationLoss, digest: digest)
            }
            epochsThisRun += 1
            if rank == 0 {
                Log.info("epoch \(epoch + 1)/\(c.epochs): train loss \(String(format: "%.4f", trainLoss))"
                    + (validationLoss.map { String(format: ", validation loss %.4f, accuracy %.3f", $0, accuracy ?? 0) } ?? "")
                    + String(format: "; %.2f s", record.seconds))
                let moments = adam.stateBuffers
                try JSONFile.write(MILCheckpoint(configuration: c, epochsDone: epoch + 1, parameters: FloatData(Array(net.parameters)),
                                                adamStep: adam.stepCount, firstMoment: FloatData(Array(moments[0].values)),
                                                secondMoment: FloatData(Array(moments[1].values)), best: best, history: history),
                                  to: checkpointURL)
            }
        }
        let model = best ?? snapshot(net, c, epoch: c.epochs, loss: nil, digest: digest)
        if rank == 0 {
            try JSONFile.write(model, to: options.output.appendingPathComponent(Self.modelFile))
            try writeMetrics(history)
            Log.info("model: epoch \(model.epoch)\(model.validationLoss.map { String(format: " (validation loss %.4f)", $0) } ?? "") → "
                + options.output.appendingPathComponent(Self.modelFile).path)
        }
        return Summary(history: history, model: model, stopped: false)
    }

    /// One epoch of steps; returns the mean class-weighted training loss over all ranks' bags.
    func trainEpoch(_ epoch: Int, net: Network, adam: Adam, bags: BagSet, weights: [Float], c: MILConfiguration) -> Double {
        let plan = BagEpochPlan(bags: bags.count, bagsPerStep: c.bagsPerStep, ranks: c.ranks, seed: c.seed, epoch: epoch)
        var lossSum = 0.0
        for step in 0..<plan.steps {
            net.zeroGradients()
            for b in plan.bags(step: step, rank: rank) {
                let tiles = BagSet.cappedTiles(count: bags.slides[b].tileCount, cap: c.bagCap, seed: c.seed, epoch: epoch, slide: b)
                let x = bags.bag(b, tiles: tiles)
                let label = bags.labels[b]
                net.setDropoutSeed(mixHash(c.seed, UInt64(epoch), UInt64(b)))
                let loss = x.withUnsafeBufferPointer {
                    net.accumulateBagGradients(bag: $0.baseAddress!, tiles: tiles.count, label: label, weight: weights[label] / Float(c.bagsPerStep))
                }
                lossSum += loss * Double(weights[label])
            }
            collectives.allreduceSum(net.gradients)
            adam.step(net, learningRate: c.learningRate)
        }
        var sums = [lossSum]
        collectives.allreduceSum(&sums)
        return sums[0] / Double(plan.steps * c.bagsPerStep)
    }

    /// Class-balanced mean loss and balanced accuracy over every tile of every bag (nil: no bags).
    static func evaluate(_ net: Network, _ bags: BagSet) -> (loss: Double?, accuracy: Double?) {
        guard bags.count > 0 else { return (nil, nil) }
        let classes = net.classes
        let weights = balancedClassWeights(labels: bags.labels, classes: classes)
        var loss = 0.0
        var correct = [Int](repeating: 0, count: classes), seen = [Int](repeating: 0, count: classes)
        for (b, slide) in bags.slides.enumerated() {
            let z = net.forward(slide.features, batch: slide.tileCount, training: false)
            let label = bags.labels[b]
            loss += SoftmaxCrossEntropy.lossAndGradient(logits: z, labels: [label], classes: classes).loss * Double(weights[label])
            seen[label] += 1
            if z.indices.max(by: { z[$0] < z[$1] }) == label { correct[label] += 1 }
        }
        let recalls = (0..<classes).filter { seen[$0] > 0 }.map { Double(correct[$0]) / Double(seen[$0]) }
        return (loss / Double(bags.count), recalls.reduce(0, +) / Double(recalls.count))
    }

    private func snapshot(_ net: Network, _ c: MILConfiguration, epoch: Int, loss: Double?, digest: String) -> MILModel {
        MILModel(configuration: c, parameters: FloatData(Array(net.parameters)), epoch: epoch, validationLoss: loss, embeddingModelDigest: digest)
    }

    private func writeMetrics(_ history: [MILEpochRecord]) throws {
        let rows = history.map { r in
            [String(r.epoch), String(format: "%.6f", r.trainLoss), r.validationLoss.map { String(format: "%.6f", $0) } ?? "",
             r.validationAccuracy.map { String(format: "%.4f", $0) } ?? "", String(format: "%.3f", r.seconds)]
        }
        try AtomicFile.write(Data(CSV.document(header: ["epoch", "train_loss", "validation_loss", "validation_balanced_accuracy", "seconds"], rows: rows).utf8),
                             to: options.output.appendingPathComponent(Self.metricsFile))
    }
}
