import ArgumentParser
import BLAS
import Foundation
import MPI
import Stain
import TesseraCLI
import TesseraCore
import Training

@main
struct TrainCommand: ParsableCommand {
    /// Job-file keys this program reads (see Jobs/demo.env).
    static let jobKeys: [JobFile.Mapping] = [
        .option("STORE", "--store"), .option("RUN", "--out"), .option("MODEL", "--model"), .option("INPUT_SIZE", "--input-size"),
        .option("EPOCHS", "--epochs"), .option("BATCH", "--batch"), .option("LEARNING_RATE", "--learning-rate"),
        .option("OPTIMIZER", "--optimizer"), .option("WEIGHT_DECAY", "--weight-decay"), .option("WARMUP_EPOCHS", "--warmup-epochs"),
        .option("SCHEDULE", "--schedule"), .option("TRAIN_SEED", "--seed"), .option("JITTER", "--jitter"),
        .option("CHECKPOINT_EVERY", "--checkpoint-every"), .option("TRAIN_THREADS", "--threads"), .flag("NO_AUGMENT", "--no-augment"),
        .option("STAIN_NORM", "--stain-norm"), .option("STAIN_REFERENCE", "--stain-reference"), .option("HED_JITTER", "--hed-jitter"),
    ]

    static func main() { main(jobKeys: jobKeys) }

    @OptionGroup var job: JobOption

    static let configuration = CommandConfiguration(
        commandName: "tessera-train",
        abstract: "Train a tile classifier on a tile store, data-parallel over MPI ranks.",
        discussion: """
            Each rank reads its own equal share of every global batch from the store's train/ files \
            (parallel HDF5, MPI-IO), and the ranks average gradients with one allreduce per step. \
            Every rank runs the same number of steps, so the job cannot deadlock.

            Examples:
              tessera-train --store store --out run                      # 1 rank
              mpirun -np 2 tessera-train --store store --out run --epochs 8
              srun --mpi=pmix tessera-train --store store --out run      # inside sbatch
              mpirun -np 2 tessera-train --store store --out run --resume   # continue a stopped run
              mpirun -np 2 tessera-train --job Jobs/demo.env
              tessera-train --store store --out run --stain-norm macenko --stain-reference train --hed-jitter 0.05
              tessera-train --store store --out run --stain-norm macenko --stain-reference slide:ref.svs@20000,14000,4096,4096

            Stain normalisation (--stain-norm) runs on the fly in the input pipeline, at training and \
            again at prediction: its method and reference are recorded in the model, and the store \
            keeps the pixels as scanned. Tiles with too little tissue for a fit are left as they \
            are and counted in the log. A reference slide (slide:PATH) is cut as the store was \
            (its tile size, resolution, tissue and QC rules), the tiles of the region (or, without \
            one, of the slide's tissue, every k-th row and column) sampled evenly to at most 512. \
            Reinhard's kernels run as AVX2 code where the CPU has it (the log says which); the \
            environment variable TESSERA_SIMD=baseline forces the SSE2 code, with the same output.

            Output (rank 0): RUN/model.tsm (weights, classes, input size, normalisation, stain \
            normalisation, the store's tiling), RUN/checkpoint.tsc (every epoch and every --checkpoint-every steps), \
            RUN/metrics.csv, RUN/training-curves.svg.

            The learning rate is given for a global batch of 256 and scaled linearly with the \
            actual global batch (ranks × --batch).
            """,
        version: TesseraVersion.line("tessera-train"))

    @Option(help: "Tile store folder written by tessera-tile (reads train/ and validation/).")
    var store: String

    @Option(help: "Output folder for the model, checkpoints and metrics.")
    var out: String

    @Option(help: "Network: \(ModelOption.choices). (default: refnet-s)", transform: ModelOption.parse)
    var model = ModelOption.refnetS

    @Option(help: "Side of the network input; tiles are reduced to it by area averaging.")
    var inputSize = 128

    @Option(help: "Passes over the training tiles, 1…10000.")
    var epochs = 10

    @Option(help: "Images per rank per step, 1…4096.")
    var batch = 32

    @OptionGroup var optimizer: OptimizerOptions

    @Option(help: "Seed of the initial weights, data order and augmentation.")
    var seed: UInt64 = 1

    @OptionGroup var input: InputPipelineOptions

    @Flag(help: "Build the model without BatchNorm.")
    var noBatchNorm = false

    @Option(help: "Dropout before the classifier (0 = none).")
    var dropout: Float = 0

    @Option(help: "OpenBLAS threads per rank, 1…1024 (default: cores on this node / ranks on this node).")
    var threads: Int?

    @Option(help: "Also write a checkpoint every this many steps.")
    var checkpointEvery: Int?

    @Flag(help: "Continue from OUT/checkpoint.tsc (same options and number of ranks).")
    var resume = false

    @Flag(help: "Train even if train/ or validation/ files that the tiler's status records are missing (they are logged).")
    var allowPartialStore = false

    @Option(help: .hidden)
    var stopAfterSteps: Int?

    @Option(help: "Seconds between progress lines, 0…86400.")
    var progressInterval = 10.0

    func validate() throws {
        guard (8...4096).contains(inputSize) else { throw ValidationError("--input-size must be 8…4096") }
        // Before any work: inf or nan would trap converting to steps, or poison every weight.
        if let problem = ([
            OptionCheck.integer("--epochs", epochs, in: 1...10_000),
            OptionCheck.integer("--batch", batch, in: 1...4096),
        ] + optimizer.problems + [
            OptionCheck.number("--progress-interval", progressInterval, in: .closed(0, 86_400), example: "10 (seconds)"),
            OptionCheck.integer("--threads", threads, in: 1...1024),
        ] + input.problems).compactMap({ $0 }).first {
            throw ValidationError(problem)
        }
        guard (0..<1).contains(dropout) else { throw ValidationError("--dropout must be in [0, 1)") }
        if let checkpointEvery, checkpointEvery < 1 { throw ValidationError("--checkpoint-every must be ≥ 1") }
        if let problem = OptionCheck.folder("--store", store, fix: "run tessera-tile first") { throw ValidationError(problem) }
    }

    func run() throws {
        // Before MPI and before any thread: may re-execute this process onto OpenBLAS's fast kernels.
        let blas = BLASRuntime.ensureFastKernels()
        StopRequest.install()
        let world = MPIWorld.initialize()
        Log.program = world.size > 1 ? "tessera-train[\(world.rank)]" : "tessera-train"
        if world.isRoot { Log.info(blas) }
        let env = ProcessInfo.processInfo.environment
        let localRanks = world.ranksOnThisNode()
        let cores = env["SLURM_CPUS_PER_TASK"].flatMap(Int.init).map { $0 * localRanks } ?? ProcessInfo.processInfo.activeProcessorCount
        var config = TrainingConfig()
        config.model = model.rawValue
        config.inputSize = inputSize
        config.batchNorm = !noBatchNorm
        config.dropout = dropout
        config.epochs = epochs
        config.batch = batch
        optimizer.apply(to: &config)
        config.seed = seed
        input.apply(to: &config)
        if world.isRoot && config.stainNormalization?.method == .reinhard { Log.info(StainKernelPath.summary) }
        config.ranks = world.size
        var options = DataParallelTrainer.Options(store: URL(fileURLWithPath: store), output: URL(fileURLWithPath: out), config: config,
                                                  threads: threads ?? max(1, cores / max(localRanks, 1)), resume: resume)
        options.checkpointEvery = checkpointEvery
        options.allowPartialStore = allowPartialStore
        options.stopAfterSteps = stopAfterSteps
        options.progressInterval = progressInterval
        if case let .slide(path, region) = input.stainReference, config.stainNormalization != nil {
            let (limit, workers) = (config.normalizationSamples, options.threads)
            options.stainReferenceTiles = { spec in try Self.referenceTiles(path: path, region: region, spec: spec, limit: limit, workers: workers) }
        }
        var stoppedOnRequest = false
        do {
            let summary = try DataParallelTrainer(world: world, options: options).run()
            stoppedOnRequest = summary.stoppedOnRequest
            if world.isRoot {
                if summary.stoppedEarly {
                    Log.info("stopped at step \(summary.steps); continue with --resume")
                } else if let last = summary.metrics.last {
                    Log.info("done: \(summary.epochs) epochs, \(summary.steps) steps; final train accuracy \(String(format: "%.3f", last.trainAccuracy))"
                        + (last.validationAccuracy.map { String(format: ", validation accuracy %.3f", $0) } ?? ""))
                }
            }
        } catch {
            // One rank's failure ends every rank: no rank may wait in a collective for it. A
            // reference slide that gives no reference is a usage error, found before any training.
            let usage = if case TrainingError.badStainReference = error { true } else { false }
            world.abort(message: "\(error)", code: usage ? ExitStatus.usage.rawValue : 1)
        }
        world.finalize()
        // Every rank: srun and mpirun report it, and the Slurm script requeues the job on it.
        if stoppedOnRequest { throw ExitStatus.stoppedOnRequest.exitCode }
    }
}
