import ArgumentParser
import BLAS
import FeatureStore
import Foundation
import MPI
import SlideMIL
import TesseraCLI
import TesseraCore

@main
struct MILCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera-mil",
        abstract: "Slide-level learning: gated attention MIL on a feature store (train under mpirun, predict).",
        discussion: """
            Reads the per-slide feature files `tessera-predict embed` writes (or any in that layout: \
            FEAT/<split>/<slide_id>.h5 with `features` N × D float32, `coords` N × 2, a `label` \
            attribute), learns from slide labels only, and predicts slides with an attention weight \
            per tile.

            Examples:
              tessera-mil train --features features --out mil --epochs 20
              mpirun -n 4 tessera-mil train --features features --out mil --bags-per-step 8
              tessera-mil predict --model mil/mil-model.json --features features --out mil
              tessera-mil train --job Jobs/demo.env
            """,
        version: TesseraVersion.line("tessera-mil"),
        subcommands: [Train.self, Predict.self])

    static func main() { main(jobFileSubcommands: [Train.self, Predict.self]) }
}

struct Train: JobFileCommand {
    static func jobKeys(_: [String]) -> [JobFile.Mapping] {
        [
            .option("FEATURES", "--features"), .option("MIL_RUN", "--out"), .option("MIL_EPOCHS", "--epochs"), .option("MIL_BAG_CAP", "--bag-cap"),
            .option("MIL_HIDDEN", "--hidden"), .option("MIL_BAGS_PER_STEP", "--bags-per-step"), .option("MIL_LEARNING_RATE", "--learning-rate"),
            .option("MIL_WEIGHT_DECAY", "--weight-decay"), .option("MIL_DROPOUT", "--dropout"), .option("MIL_SEED", "--seed"),
            .option("MIL_THREADS", "--threads"), .option("CLASSES", "--classes"),
        ]
    }

    static let configuration = CommandConfiguration(
        abstract: "Train gated attention MIL on the train split's slides, keeping the best model on the validation slides.",
        discussion: """
            Per tile h = ReLU(W₁x) (D → --hidden), gated attention a = softmax(wᵀ(tanh(Vh) ⊙ σ(Uh))) \
            over the slide's tiles, z = Σ a·h, a linear classifier; dropout after h; AdamW; the loss \
            weighted so every class counts the same. Each epoch draws at most --bag-cap tiles per \
            slide (from the seed: the same on every rank and after a resume).

            Under mpirun each rank takes --bags-per-step / ranks bags per step and the gradients are \
            summed by allreduce (--bags-per-step must be a multiple of the ranks). A checkpoint is \
            written after every epoch; --resume continues from it bit-identically.

            Output: OUT/mil-model.json (the best epoch by validation loss), OUT/mil-checkpoint.json, \
            OUT/mil-metrics.csv.

            Examples:
              tessera-mil train --features features --out mil
              mpirun -n 2 tessera-mil train --features features --out mil --bags-per-step 8 --threads 1

            Job-file keys: FEATURES, MIL_RUN (--out), MIL_EPOCHS, MIL_BAG_CAP, MIL_HIDDEN, MIL_BAGS_PER_STEP, \
            MIL_LEARNING_RATE, MIL_WEIGHT_DECAY, MIL_DROPOUT, MIL_SEED, MIL_THREADS, CLASSES (--classes).
            """)

    @OptionGroup var job: JobOption
    @Option(help: "Feature store folder (tessera-predict embed --out).") var features: String
    @Option(help: "Output folder of the MIL run.") var out: String
    @Option(help: """
        The classes, in the tile model's order (job key CLASSES), so that the MIL model predicts every class the \
        predictor does even when the training split lacks one (default: the training slides' labels, sorted).
        """) var classes: String?
    @Option(help: "Epochs, 1…10000.") var epochs = 20
    @Option(help: "At most this many tiles per slide per epoch (0: all), a random subset redrawn each epoch.") var bagCap = 2048
    @Option(help: "Width of the per-tile layer h.") var hidden = 256
    @Option(help: "Width of the attention's gates.") var attentionWidth = 128
    @Option(help: "Slides per optimiser step over all ranks (a multiple of the number of ranks).") var bagsPerStep = 8
    @Option(help: "AdamW learning rate.") var learningRate: Float = 2e-4
    @Option(help: "AdamW decoupled weight decay (weights only).") var weightDecay: Float = 1e-4
    @Option(help: "Dropout probability after the per-tile layer, [0, 1).") var dropout: Float = 0.25
    @Option(help: "Seed of the initial weights, bag order, bag caps and dropout.") var seed: UInt64 = 1
    @Option(help: "OpenBLAS threads per rank (default 1).") var threads = 1
    @Flag(help: "Continue from OUT/mil-checkpoint.json.") var resume = false
    @Option(help: .hidden) var stopAfterEpochs: Int?

    func validate() throws {
        if let problem = OptionCheck.folder("--features", features, fix: "run tessera-predict embed first") { throw ValidationError(problem) }
        if let classes, let problem = OptionCheck.names("--classes", classes) { throw ValidationError(problem) }
        if let p = OptionCheck.integer("--epochs", epochs, in: 1...10000) { throw ValidationError(p) }
        if let p = OptionCheck.integer("--bag-cap", bagCap, in: 0...10_000_000) { throw ValidationError(p) }
        if let p = OptionCheck.integer("--hidden", hidden, in: 1...65536) { throw ValidationError(p) }
        if let p = OptionCheck.integer("--attention-width", attentionWidth, in: 1...65536) { throw ValidationError(p) }
        if let p = OptionCheck.integer("--bags-per-step", bagsPerStep, in: 1...100_000) { throw ValidationError(p) }
        if let p = OptionCheck.integer("--threads", threads, in: 1...1024) { throw ValidationError(p) }
        guard learningRate > 0 && learningRate.isFinite else { throw ValidationError("--learning-rate must be > 0") }
        guard weightDecay >= 0 && weightDecay.isFinite else { throw ValidationError("--weight-decay must be ≥ 0") }
        guard (0..<1).contains(dropout) else { throw ValidationError("--dropout must be in [0, 1)") }
    }

    func run() throws {
        let blas = BLASRuntime.ensureFastKernels()
        let world = MPIWorld.initialize()
        Log.program = world.size > 1 ? "tessera-mil[\(world.rank)]" : "tessera-mil"
        if world.isRoot { Log.info(blas) }
        guard bagsPerStep % world.size == 0 else {
            if world.isRoot { Log.error("--bags-per-step \(bagsPerStep) is not a multiple of the \(world.size) ranks; use e.g. \(world.size * max(1, bagsPerStep / world.size))") }
            world.finalize()
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        var c = MILConfiguration()
        (c.hidden, c.attentionWidth, c.dropout, c.epochs, c.bagsPerStep, c.bagCap) = (hidden, attentionWidth, dropout, epochs, bagsPerStep, bagCap)
        (c.learningRate, c.weightDecay, c.seed) = (learningRate, weightDecay, seed)
        c.classes = classes.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: [" ", "\t"]) } } ?? []
        var options = MILTrainer.Options(features: URL(fileURLWithPath: features), output: URL(fileURLWithPath: out), configuration: c)
        options.threads = threads
        options.resume = resume
        options.stopAfterEpochs = stopAfterEpochs
        do {
            let summary = try MILTrainer(collectives: world, rank: world.rank, options: options).run()
            if world.isRoot && summary.stopped { Log.info("stopped after \(summary.history.count) epochs; continue with --resume") }
        } catch {
            world.abort(message: "\(error)")
        }
        world.finalize()
    }
}

struct Predict: JobFileCommand {
    static func jobKeys(_: [String]) -> [JobFile.Mapping] {
        [.file("MIL_RUN", "--model", in: "mil-model.json"), .option("FEATURES", "--features"), .option("MIL_RUN", "--out")]
    }

    static let configuration = CommandConfiguration(
        abstract: "Predict slides with a trained MIL model: OUT/mil-slides.csv and OUT/attention/<slide>.csv.",
        discussion: """
            Every tile of each slide is used. mil-slides.csv holds slide_id, patient_id, label, split, \
            tiles, abmil_p_<class>… and abmil_predicted; attention/<slide>.csv each tile's level-0 x, y \
            and attention weight (summing to 1 over the slide). To put the predictions beside mean \
            and vote in the predictor's slides.csv, patients.csv and report.json, with attention \
            heatmaps: tessera-predict merge --out PRED --mil OUT (Jobs/run-local and Slurm/submit do \
            it with MIL=1).

            Examples:
              tessera-mil predict --model mil/mil-model.json --features features --out mil
              tessera-mil predict --model mil/mil-model.json --features features --out mil --splits validation,test
            """)

    @OptionGroup var job: JobOption
    @Option(help: "The mil-model.json tessera-mil train wrote.") var model: String
    @Option(help: "Feature store folder.") var features: String
    @Option(help: "Output folder.") var out: String
    @Option(help: "Comma-separated splits to predict.") var splits = "test"

    var splitList: [String] { splits.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }

    func validate() throws {
        guard FileManager.default.isReadableFile(atPath: model) else { throw ValidationError("--model \(model) is not readable; pass the mil-model.json tessera-mil train wrote") }
        if let problem = OptionCheck.folder("--features", features) { throw ValidationError(problem) }
        let bad = splitList.filter { !FeatureStoreLayout.splits.contains($0) }
        guard bad.isEmpty && !splitList.isEmpty else {
            throw ValidationError("--splits \(splits): use some of \(FeatureStoreLayout.splits.joined(separator: ","))")
        }
    }

    func run() throws {
        Log.program = "tessera-mil predict"
        try ExitStatus.exitingOnError {
            let m = try MILModel.read(URL(fileURLWithPath: model))
            let results = try MILPredictor.predict(model: m, features: URL(fileURLWithPath: features), splits: splitList)
            try MILPredictor.write(results, classes: m.configuration.classes, to: URL(fileURLWithPath: out))
            Log.info("predicted \(results.count) slides → \(out)/\(MILPredictor.slidesFile), \(out)/\(MILPredictor.attentionFolder)/")
        }
    }
}
