import BLAS
import Foundation
import HDF5
import MPI
import Model
import NeuralNet
import Stain
import TesseraCore
import TileStore
import Tiling

/// Data-parallel training over MPI: every rank holds the whole network, trains on its own equal
/// shard of each global batch, and the ranks average their gradients with one in-place allreduce
/// per step. Only rank 0 prints and writes files.
///
/// Collective discipline: every rank makes the same sequence of collective calls (open, allreduce,
/// broadcast, close), because every count that decides the sequence (tiles, steps, epochs) is
/// computed identically on all ranks — and checked to agree before the first step. A rank that
/// hits an error aborts the whole job (`MPIWorld.abort`), so no rank is left waiting.
///
/// A run is a `TrainingState` (what the checkpoint holds) advanced by a `DataParallelStep` (the
/// step tessera-bench times), with validation, metrics and checkpoints at the epoch boundaries.
public final class DataParallelTrainer {
    public struct Options {
        public var store: URL
        public var output: URL
        public var config: TrainingConfig
        public var threads: Int
        /// Also write a checkpoint every this many steps (besides every epoch).
        public var checkpointEvery: Int?
        public var resume: Bool
        /// Stop after this many global steps, as if killed right after a checkpoint there
        /// (for testing resume; the checkpoint is written first).
        public var stopAfterSteps: Int?
        public var progressInterval: Double = 10
        /// Go on when files the tiler's status records are missing from train/ or validation/ (logged).
        public var allowPartialStore = false
        /// Cuts the reference slide's tiles for `--stain-reference slide:…`, given the store's
        /// tiling; called on every rank of a fresh run before the first step.
        public var stainReferenceTiles: ((TilingSpec) throws -> StainReferenceTiles)?

        public init(store: URL, output: URL, config: TrainingConfig, threads: Int, resume: Bool = false) {
            self.store = store
            self.output = output
            self.config = config
            self.threads = threads
            self.resume = resume
        }
    }

    public struct Summary: Equatable {
        public var epochs: Int
        public var steps: Int
        public var metrics: [EpochMetrics]
        public var stoppedEarly: Bool
        /// Stopped early because a rank was asked to (`StopRequest`, SIGUSR1): resume to finish.
        public var stoppedOnRequest = false
    }

    let world: MPIWorld
    let options: Options
    var config: TrainingConfig { options.config }

    public init(world: MPIWorld, options: Options) {
        self.world = world
        self.options = options
    }

    public var checkpointURL: URL { options.output.appendingPathComponent("checkpoint.tsc") }
    public var modelURL: URL { options.output.appendingPathComponent(ModelFile.lastFileName) }
    /// The model of the epoch with the best validation accuracy so far (runs with a validation split).
    public var bestModelURL: URL { options.output.appendingPathComponent(ModelFile.bestFileName) }
    public var metricsURL: URL { options.output.appendingPathComponent("metrics.csv") }
    public var curvesURL: URL { options.output.appendingPathComponent("training-curves.svg") }

    func log(_ message: String) { if world.isRoot { Log.info(message) } }

    public func run() throws -> Summary {
        BLASRuntime.setThreads(options.threads)
        let (train, validation) = try openStore()
        let attributes = train.attributes
        let classes = attributes.classes
        let stepsPerEpoch = EpochPlan(tiles: train.count, ranks: world.size, batch: config.batch, seed: config.seed, epoch: 0).stepsPerEpoch
        let schedule = try config.schedule(stepsPerEpoch: stepsPerEpoch)
        var state = try startingState(train: train, stepsPerEpoch: stepsPerEpoch)
        let network = state.network
        if world.isRoot { try FileManager.default.createDirectory(at: options.output, withIntermediateDirectories: true) }
        // A run killed while writing a checkpoint or metrics left `.name.tmp-PID` files; they are never completed.
        if world.isRoot {
            let stale = AtomicFile.removeStaleTemporaries(in: options.output)
            if !stale.isEmpty { log("removed \(stale.count) temporary file\(stale.count == 1 ? "" : "s") of a killed run: \(stale.joined(separator: ", "))") }
        }
        log("\(config.model) (\(network.parameterCount) parameters), input \(config.inputSize)², \(classes.count) classes \(classes.joined(separator: ",")); "
            + "\(world.size) rank\(world.size == 1 ? "" : "s") × batch \(config.batch) × \(options.threads) BLAS thread\(options.threads == 1 ? "" : "s") (\(BLASRuntime.coreName)); "
            + "\(train.count) training tiles → \(stepsPerEpoch) steps per epoch, \(validation?.count ?? 0) validation tiles; "
            + "learning rate \(String(format: "%.4g", config.scaledLearningRate())) for global batch \(config.globalBatch())")

        let workers = try (0..<2).map { _ in
            try InputPipeline(tileSize: attributes.tileSize, inputSize: config.inputSize, normalization: state.normalization,
                              augmentation: config.augmentation, seed: config.seed)
        }
        let loader = BatchLoader(index: train, pipeline: workers[0], batch: config.batch, inputSize: config.inputSize)
        let imageCount = config.batch * 3 * config.inputSize * config.inputSize
        let step = DataParallelStep(network: network, optimizer: state.optimizer, collectives: world, batch: config.batch)
        let totalSteps = config.epochs * stepsPerEpoch
        let writeCheckpoint = { (state: TrainingState) in
            guard self.world.isRoot else { return }
            try state.checkpoint(config: self.config, classes: classes, storeTiling: attributes.tiling, trainingTiles: train.count)
                .write(to: self.checkpointURL)
        }
        var stoppedEarly = false
        var stopHere = false

        epochs: while state.epoch < config.epochs {
            let plan = EpochPlan(tiles: train.count, ranks: world.size, batch: config.batch, seed: config.seed, epoch: state.epoch)
            var lastLog = Date()
            var stepStart = Date()
            if state.step < stepsPerEpoch { try loader.prefetch(plan.batch(rank: world.rank, step: state.step), epoch: state.epoch) }
            while state.step < stepsPerEpoch {
                let (images, labels) = try loader.take()
                if state.step + 1 < stepsPerEpoch { try loader.prefetch(plan.batch(rank: world.rank, step: state.step + 1), epoch: state.epoch) }
                precondition(images.count == imageCount)
                let rate = schedule.rate(atStep: state.globalStep)
                let sums = try step.run(images: images.baseAddress!, labels: labels, learningRate: rate, stepNumber: state.globalStep + 1)
                state.epochTotals.add(sums, seconds: Date().timeIntervalSince(stepStart))
                stepStart = Date()
                state.step += 1
                state.globalStep += 1

                if world.isRoot && (Date().timeIntervalSince(lastLog) >= options.progressInterval || state.step == stepsPerEpoch) {
                    lastLog = Date()
                    let totals = state.epochTotals
                    let remaining = Double(totalSteps - state.globalStep) * Double(config.globalBatch()) / max(totals.imagesPerSecond, 1e-9)
                    Log.info(String(format: "epoch %d/%d step %d/%d: loss %.4f, accuracy %.3f, lr %.4g, %.1f images/s, ETA %@",
                                    state.epoch + 1, config.epochs, state.step, stepsPerEpoch, totals.meanLoss,
                                    totals.accuracy, rate, totals.imagesPerSecond, ProgressLog.formatDuration(remaining)))
                }
                stopHere = options.stopAfterSteps == state.globalStep || stopRequestedOnAnyRank()
                if let every = options.checkpointEvery, (state.globalStep % every == 0 || stopHere), state.step < stepsPerEpoch {
                    averageBatchNormState(network)
                    try writeCheckpoint(state)
                }
                if stopHere && state.step < stepsPerEpoch {
                    logStop(state)
                    stoppedEarly = true
                    break epochs
                }
            }

            reportStainFallbacks(workers[0], state.normalization, what: "training tiles this epoch")
            state.history.append(try endOfEpoch(state, classes: classes, schedule: schedule, validation: validation, pipeline: workers[1]))
            reportStainFallbacks(workers[1], state.normalization, what: "validation tiles")
            state.epoch += 1
            state.step = 0
            state.epochTotals = .init()
            if world.isRoot {
                try writeMetrics(state.history, classes: classes)
                // Before the checkpoint: a checkpoint implies model-best.tsm is up to date.
                if Self.isBestEpoch(state.history) { try writeModel(state, attributes: attributes, selection: .bestValidation) }
            }
            try writeCheckpoint(state)
            if stopHere && state.epoch < config.epochs {
                logStop(state)
                stoppedEarly = true
                break
            }
        }

        if !stoppedEarly && world.isRoot { try writeModel(state, attributes: attributes, selection: .last) }
        try validation?.close()
        try train.close()
        return Summary(epochs: state.epoch, steps: state.globalStep, metrics: state.history, stoppedEarly: stoppedEarly,
                       stoppedOnRequest: stoppedEarly && options.stopAfterSteps != state.globalStep)
    }

    /// Whether any rank was asked to stop (`StopRequest`). Every rank calls it once per step, so
    /// all agree and stop after the same step, where the checkpoint is written.
    private func stopRequestedOnAnyRank() -> Bool {
        var flag: [Int64] = [StopRequest.isRequested ? 1 : 0]
        world.allreduceMax(&flag)
        return flag[0] != 0
    }

    private func logStop(_ state: TrainingState) {
        if options.stopAfterSteps == state.globalStep {
            log("stopping after step \(state.globalStep) as asked (--stop-after-steps); resume with --resume")
        } else {
            log(StopRequest.message("checkpoint written after step \(state.globalStep)"))
        }
    }

    // MARK: Start and end

    /// The epoch's metrics row: one set of BatchNorm statistics for all ranks, then validation.
    private func endOfEpoch(_ state: TrainingState, classes: [String], schedule: LearningRateSchedule, validation: TileIndex?, pipeline: InputPipeline) throws -> EpochMetrics {
        averageBatchNormState(state.network)
        let totals = state.epochTotals
        var row = EpochMetrics(epoch: state.epoch + 1, step: state.globalStep, trainLoss: totals.meanLoss,
                               trainAccuracy: totals.accuracy, validationLoss: nil,
                               validationAccuracy: nil, validationClassAccuracy: nil,
                               learningRate: Double(schedule.rate(atStep: max(state.globalStep - 1, 0))),
                               imagesPerSecond: totals.imagesPerSecond, seconds: totals.seconds)
        if let validation {
            let v = try evaluate(network: state.network, index: validation, pipeline: pipeline, classes: classes.count)
            row.validationLoss = v.loss
            row.validationAccuracy = v.accuracy
            row.validationClassAccuracy = v.perClass
        }
        log(String(format: "epoch %d/%d done: train loss %.4f accuracy %.3f", state.epoch + 1, config.epochs, row.trainLoss, row.trainAccuracy)
            + (row.validationAccuracy.map { a in String(format: "; validation loss %.4f accuracy %.3f (", row.validationLoss!, a)
                + zip(classes, row.validationClassAccuracy!).map { "\($0) \($1.map { String(format: "%.3f", $0) } ?? "n/a")" }.joined(separator: ", ") + ")" } ?? "")
            + String(format: "; %.1f images/s", row.imagesPerSecond))
        return row
    }

    /// The training and validation tiles, checked, and the same on every rank.
    private func openStore() throws -> (train: TileIndex, validation: TileIndex?) {
        let access = HDF5File.Access.parallel(world)
        // Every rank sees the same folder and refuses alike, before the first collective call.
        let completeness = StoreCompleteness.check(store: options.store, splits: [TileStoreLayout.trainSplit, TileStoreLayout.validationSplit])
        for line in try completeness.enforce(store: options.store, allowPartial: options.allowPartialStore) where world.isRoot {
            Log.warning(line)
        }
        let train = try TileIndex(store: options.store, split: TileStoreLayout.trainSplit, access: access)
        let hasValidation = !TileStoreLayout.storeFiles(in: options.store, split: TileStoreLayout.validationSplit).isEmpty
        let validation = hasValidation ? try TileIndex(store: options.store, split: TileStoreLayout.validationSplit, access: access) : nil
        try checkInputs(train: train, validation: validation)

        // Every rank must see the same store; compare before the first step.
        var counts: [Int64] = [Int64(train.count), Int64(validation?.count ?? 0), Int64(train.readers.count)]
        var maxima = counts
        world.allreduceMin(&counts)
        world.allreduceMax(&maxima)
        guard counts == maxima else {
            throw TrainingError.badStore(path: options.store.path, message: "the ranks see different stores (tiles \(counts) vs \(maxima))",
                                         hint: "put the store on a file system every node sees the same way")
        }
        return (train, validation)
    }

    /// A fresh state (normalisation measured, weights broadcast), or the checkpoint's with
    /// `--resume` when there is one.
    private func startingState(train: TileIndex, stepsPerEpoch: Int) throws -> TrainingState {
        let classes = train.attributes.classes
        guard options.resume, FileManager.default.fileExists(atPath: checkpointURL.path) else {
            let stain = try stainNormalization(train)
            let state = try TrainingState.fresh(config, classes: classes.count, normalization: try computeNormalization(train, stain: stain))
            // Identical on every rank already (same seed); the broadcast makes it so by construction.
            world.broadcast(state.network.parameters, root: 0)
            world.broadcast(state.network.state, root: 0)
            return state
        }
        let checkpoint = try Checkpoint.read(checkpointURL)
        let h = checkpoint.header
        guard h.config == config else {
            throw TrainingError.badOption("""
                --resume: \(checkpointURL.path) was written by a run with another configuration:
                  checkpoint: \(describe(h.config))
                  this run:   \(describe(config))
                hint: resume with the same options and the same number of ranks, or start afresh in another --out folder
                """)
        }
        guard h.classes == classes, h.trainingTiles == train.count else {
            throw TrainingError.badOption("--resume: the store changed since the checkpoint (classes \(h.classes) → \(classes), training tiles \(h.trainingTiles) → \(train.count)); start afresh")
        }
        var state = try TrainingState.fresh(config, classes: classes.count, normalization: h.normalization)
        try state.restore(from: checkpoint)
        log("resuming from \(checkpointURL.lastPathComponent): epoch \(state.epoch + 1), step \(state.step + 1) of \(stepsPerEpoch)")
        return state
    }

    // MARK: Checks

    private func checkInputs(train: TileIndex, validation: TileIndex?) throws {
        let a = train.attributes
        guard !a.classes.isEmpty else {
            throw TrainingError.badStore(path: options.store.path, message: "the store has no classes (an unlabelled cohort)",
                                         hint: "tile a labelled manifest to train")
        }
        if let bad = train.labels.firstIndex(where: { $0 < 0 || Int($0) >= a.classes.count }) {
            throw TrainingError.badStore(path: train.readers[Int(train.file[bad])].path,
                                         message: "tile \(train.local[bad]) has label \(train.labels[bad]), outside the \(a.classes.count) classes \(a.classes)",
                                         hint: "training needs every tile labelled; re-tile with a labelled manifest")
        }
        if let validation, validation.attributes.tilingDifferences(from: a) != [] || validation.attributes.classes != a.classes {
            throw TrainingError.badStore(path: options.store.path, message: "validation and training files were tiled differently",
                                         hint: "re-tile the cohort with one set of parameters")
        }
        guard config.inputSize <= a.tileSize else {
            throw TrainingError.badOption("--input-size \(config.inputSize) is larger than the store's \(a.tileSize) px tiles")
        }
        guard train.count >= world.size * config.batch else {
            throw TrainingError.badStore(path: options.store.path,
                                         message: "\(train.count) training tiles, fewer than ranks × batch = \(world.size) × \(config.batch)",
                                         hint: "use fewer ranks or a smaller --batch, or tile more slides")
        }
    }

    private func describe(_ c: TrainingConfig) -> String {
        "model \(c.model), input \(c.inputSize), batch \(c.batch) × \(c.ranks) ranks, \(c.epochs) epochs, lr \(c.learningRate), \(c.optimizer), seed \(c.seed), BN \(c.batchNorm)"
    }

    // MARK: Pieces

    /// This rank's share (every R-th) of an evenly spaced sample of the training tiles, and the sample's size.
    func sampleShare(_ train: TileIndex) -> (mine: [Int], sampled: Int) {
        let n = min(config.normalizationSamples, train.count)
        let sample = (0..<n).map { $0 * train.count / n }
        return (stride(from: world.rank, to: sample.count, by: world.size).map { sample[$0] }, n)
    }

    /// Per-channel mean and standard deviation over an evenly spaced sample of training tiles
    /// (stain-normalised when asked), each rank taking every R-th of them, summed with allreduce.
    private func computeNormalization(_ train: TileIndex, stain: StainNormalization?) throws -> Normalization {
        let (mine, n) = sampleShare(train)
        let pipeline = try InputPipeline(tileSize: train.attributes.tileSize, inputSize: config.inputSize,
                                         normalization: Normalization(mean: [0, 0, 0], std: [1, 1, 1], stain: stain),
                                         augmentation: .none, seed: config.seed)
        var moments = [Double](repeating: 0, count: 7)
        for (k, payload) in try BatchLoader.payloads(train, mine).enumerated() {
            let m = try pipeline.channelMoments(payload, source: "\(train.readers[Int(train.file[mine[k]])].path) tile \(train.local[mine[k]])")
            for i in 0..<6 { moments[i] += m[i] }
            moments[6] += Double(config.inputSize * config.inputSize)
        }
        world.allreduceSum(&moments)
        let count = max(moments[6], 1)
        let mean = (0..<3).map { moments[$0] / count }
        let std = (0..<3).map { max((moments[3 + $0] / count - mean[$0] * mean[$0]).squareRoot(), 1) }
        log(String(format: "input normalisation from %d tiles: mean %.1f %.1f %.1f, std %.1f %.1f %.1f", n, mean[0], mean[1], mean[2], std[0], std[1], std[2]))
        return Normalization(mean: mean.map(Float.init), std: std.map(Float.init), stain: stain)
    }

    private func averageBatchNormState(_ network: Network) {
        guard world.size > 1, network.state.count > 0 else { return }
        world.allreduceSum(network.state)
        vScale(network.state, 1 / Float(world.size))
    }

    /// Loss, accuracy and per-class accuracy over every validation tile (eval mode), sharded r, r+R, …
    private func evaluate(network: Network, index: TileIndex, pipeline: InputPipeline, classes: Int) throws
        -> (loss: Double, accuracy: Double, perClass: [Double?]) {
        let mine = validationShard(tiles: index.count, ranks: world.size, rank: world.rank)
        // sums: loss, correct, count, then per class correct and count.
        var sums = [Double](repeating: 0, count: 3 + 2 * classes)
        let batch = max(config.batch, 64)
        let input = UnsafeMutablePointer<Float>.allocate(capacity: batch * 3 * config.inputSize * config.inputSize)
        defer { input.deallocate() }
        let dummy = UnsafeMutablePointer<Float>.allocate(capacity: batch * classes)
        defer { dummy.deallocate() }
        let plane = 3 * config.inputSize * config.inputSize
        var start = 0
        while start < mine.count {
            let chunk = Array(mine[start..<min(start + batch, mine.count)])
            start += chunk.count
            for (k, payload) in try BatchLoader.payloads(index, chunk).enumerated() {
                try pipeline.prepare(payload, globalIndex: chunk[k], epoch: 0, augment: false,
                                     source: "\(index.readers[Int(index.file[chunk[k]])].path) tile \(index.local[chunk[k]])",
                                     into: input + k * plane)
            }
            let labels = chunk.map { index.labels[$0] }
            let z = network.forward(input, batch: chunk.count, training: false)
            let loss = labels.withUnsafeBufferPointer {
                SoftmaxCrossEntropy.lossAndGradient(logits: z.baseAddress!, labels: $0, classes: classes, dLogits: dummy)
            }
            sums[0] += loss * Double(chunk.count)
            sums[2] += Double(chunk.count)
            for (i, label) in labels.enumerated() {
                let hit = predictedClass(z, row: i, classes: classes) == Int(label) ? 1.0 : 0.0
                sums[1] += hit
                sums[3 + Int(label)] += hit
                sums[3 + classes + Int(label)] += 1
            }
        }
        world.allreduceSum(&sums)
        let perClass = (0..<classes).map { sums[3 + classes + $0] > 0 ? sums[3 + $0] / sums[3 + classes + $0] : nil }
        return (sums[0] / max(sums[2], 1), sums[1] / max(sums[2], 1), perClass)
    }
}
