import ArgumentParser
import BLAS
import Foundation
import Prediction
import TesseraCLI
import TesseraCore

/// `tessera-predict embed`: a prediction task whose output is the classifier's input instead of its
/// probabilities. A subcommand of the predictor because it is one: the same model contract, the
/// same scorer and the same sharded, resumable, locked task (`ResumableTask`); only the writer
/// differs (feature files instead of CSVs).
struct Embed: JobFileCommand {
    static func jobKeys(_: [String]) -> [JobFile.Mapping] {
        [.option("STORE", "--store"), .option("FEATURES", "--out")] + ModelFileOption.jobKeys + ForwardBatchOption.jobKeys
            + TaskOptions.jobKeys(stage: "PREDICT")
    }

    @OptionGroup var job: JobOption

    static let configuration = CommandConfiguration(
        abstract: "Write every tile's embedding (the classifier's input) as a feature store, for tessera-mil.",
        discussion: """
            Runs the model over every tile of a tile store — train, validation and test — and writes \
            one HDF5 file per slide in the same split folders: OUT/<split>/<slide_id>.h5 with \
            `features` (N × D float32, D the embedding width, e.g. 256 for refnet-s), `coords` \
            (N × 2 int64, level-0 x, y) and attributes slide_id, patient_id, label, embedding_width, \
            model, model_digest, layer, patch_size, patch_level, downsample, mpp (−1 unknown), split. \
            h5py reads them as CLAM's feature files are read.

            Each run is one task (--shard I --shards N, by default the Slurm array task): it embeds \
            its share of the store files, resumably (status in OUT/parts/task-I-of-N/status.json).

            Exit status: 0 done; 3 done, but some store files failed (1 with --strict); 1 fatal \
            error; 64 bad options.

            Examples:
              tessera-predict embed --model run/model.tsm --store store --out features
              sbatch --array=0-3 --wrap 'tessera-predict embed --model run/model.tsm --store store --out features'
              tessera-predict embed --job Jobs/demo.env

            Job-file keys: STORE, RUN (the model is RUN/model.tsm), FEATURES (--out), PREDICT_SHARDS, \
            PREDICT_THREADS, PREDICT_BATCH, STRICT, NO_RETRY_FAILED.
            """)

    @OptionGroup var modelFile: ModelFileOption

    @Option(help: "A tile store folder written by tessera-tile: embeds all its splits.")
    var store: String

    @Option(help: "Output folder of the feature store (created if missing), shared by all tasks.")
    var out: String

    @OptionGroup var task: TaskOptions

    @OptionGroup var forward: ForwardBatchOption

    @Option(help: .hidden)
    var stopAfterFiles: Int?

    func validate() throws {
        if let problem = OptionCheck.folder("--store", store, fix: "pass the store tessera-tile wrote") { throw ValidationError(problem) }
    }

    func run() throws {
        let blas = BLASRuntime.ensureFastKernels()
        Log.program = task.logName("tessera-predict embed")
        Log.info(blas)
        var options = EmbeddingJob.Options(model: URL(fileURLWithPath: modelFile.model), store: URL(fileURLWithPath: store), output: URL(fileURLWithPath: out))
        options.share = task.share
        options.batchSize = forward.batch
        options.stopAfterFiles = stopAfterFiles
        try ExitStatus.exitingOnError { try task.finish(try EmbeddingJob(options: options).run(), item: "store file", failures: "the log") }
    }
}
