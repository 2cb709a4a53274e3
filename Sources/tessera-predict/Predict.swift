import ArgumentParser
import BLAS
import Foundation
import Model
import Prediction
import TesseraCLI
import TesseraCore

struct Predict: JobFileCommand {
    /// Job-file keys this subcommand reads (see Jobs/demo.env). A job predicts its STORE's test
    /// slides; `--manifest` on the command line predicts slide files instead (STORE is then ignored).
    static func jobKeys(_ commandLine: [String]) -> [JobFile.Mapping] {
        let manifestGiven = commandLine.contains { $0 == "--manifest" || $0.hasPrefix("--manifest=") }
        // From a store, the manifest only says where the slide files are: heatmaps draw on them.
        return (manifestGiven ? [] : [.option("STORE", "--store"), .option("MANIFEST", "--slides-manifest")]) + [
            .flag("BEST_MODEL", "--best-model"), .option("PREDICTIONS", "--out"), .flag("TILE_SCORES", "--tile-scores"), .flag("HEATMAPS", "--heatmaps"),
            .option("HEATMAP_SIZE", "--heatmap-size"), .flag("GEOJSON", "--geojson"), .flag("CLASS_MAPS", "--class-maps"),
        ] + ModelFileOption.jobKeys + ForwardBatchOption.jobKeys + TaskOptions.jobKeys(stage: "PREDICT") + ReportOptions.jobKeys
    }

    @OptionGroup var job: JobOption

    static let configuration = CommandConfiguration(
        abstract: "Predict one task's share of the slides (the default subcommand).",
        discussion: """
            Slides come from a tile store (--store: its test/<slide_id>.h5 files) or from a manifest \
            (--manifest: slide_path,slide_id,patient_id,label; labels optional), tiled here with the \
            model's tile size, resolution and background rule. A store tiled otherwise than the \
            model's training store, or with other classes, is refused with the differences listed.

            Each run is one task: it predicts its share of the slides (--shard I --shards N, by \
            default the Slurm array task) into OUT/parts/task-I-of-N/. With one task the final files \
            are written at the end; with several, run `tessera-predict merge --out OUT` after all.

            Output: OUT/slides.csv, OUT/patients.csv, OUT/tiles.csv (--tile-scores), OUT/failures.csv, \
            OUT/report.md, OUT/report.json, OUT/heatmaps/<slide>.jpg (--heatmaps), \
            OUT/heatmaps/<slide>-p_<class>.jpg (--class-maps: one continuous map per class), \
            OUT/geojson/<slide>.geojson (--geojson: tiles as QuPath objects and the tissue outline as an \
            annotation; drag onto the slide in QuPath).

            Exit status: 0 all slides predicted (a slide without tissue tiles counts as predicted); \
            3 done, but some slides failed (listed in failures.csv; with --strict this is 1); \
            1 fatal error (also: the task is already running elsewhere, or the output's file system is \
            full, over quota, read-only or failing); 64 bad options. A killed task re-run with the same \
            options resumes, and predicts the slides that failed before again (unless --no-retry-failed).

            Examples:
              tessera-predict --model run/model.tsm --store store --out pred --tile-scores
              tessera-predict --model run/model.tsm --manifest new.csv --out pred --heatmaps --geojson --assume-mpp 0.5
              tessera-predict --model run/model.tsm --store store --out pred --shard 2 --shards 8
              tessera-predict --job Jobs/demo.env

            Job-file keys: STORE, RUN (the model is RUN/model.tsm), BEST_MODEL, PREDICTIONS (--out), TILE_SCORES, \
            HEATMAPS, HEATMAP_SIZE, GEOJSON, CLASS_MAPS, PREDICT_SHARDS, PREDICT_THREADS, PREDICT_BATCH, BOOTSTRAP, \
            BOOTSTRAP_SEED, STRICT, NO_RETRY_FAILED.
            """)

    @OptionGroup var modelFile: ModelFileOption

    @Flag(help: "Predict with model-best.tsm beside --model (the epoch with the best validation accuracy) instead of the last epoch's model.tsm. Off by default: the last epoch's model is what the benchmark measures, and choosing an epoch on the validation split has not been shown to help.")
    var bestModel = false

    @Option(help: "A tile store folder written by tessera-tile: predicts its test slides.")
    var store: String?

    @Option(help: "A slide manifest CSV (slide_path,slide_id,patient_id,label): predicts these slides, tiling them as the model's store was.")
    var manifest: String?

    @Option(help: "Output folder (created if missing), shared by all tasks.")
    var out: String

    @Flag(help: "Also write OUT/tiles.csv: every tile's position and class probabilities.")
    var tileScores = false

    @Flag(help: "Draw a heatmap per slide in OUT/heatmaps/ (JPEG): tiles coloured by predicted class over the slide's picture.")
    var heatmaps = false

    @Flag(help: "Also draw one continuous map per class, OUT/heatmaps/<slide>-p_<class>.jpg: each tile in the colour of its probability of that class, with a colour bar.")
    var classMaps = false

    @Flag(help: "Write OUT/geojson/<slide>.geojson per slide: every tile as a QuPath object (level-0 polygon, predicted class and colour, p_<class> measurements), and the tissue outline as an annotation.")
    var geojson = false

    @Option(help: "Longer side of a heatmap in pixels.")
    var heatmapSize = 1024

    @Option(help: "With --store: folder holding the slide files (<slide_id>.svs, .tif, …) to draw heatmaps on (otherwise white).")
    var slidesDir: String?

    @Option(help: "With --store: a manifest giving the slide files to draw heatmaps on.")
    var slidesManifest: String?

    @Option(help: "With --manifest: µm per pixel (0.025…100) to assume for slides that record neither MPP nor objective power (otherwise they fail).")
    var assumeMPP: Double?

    @Option(help: "With --manifest: JPEG quality tiles are encoded at before prediction (default: the training store's, recorded in the model).")
    var jpegQuality: Int?

    @Flag(help: "With --manifest: record missing slide files as failed slides and go on (default: refuse the manifest).")
    var skipMissing = false

    @OptionGroup var task: TaskOptions

    @OptionGroup var forward: ForwardBatchOption

    @OptionGroup var report: ReportOptions

    @Flag(help: "With --store: predict even if test files that the tiler's status records are missing (they are logged).")
    var allowPartialStore = false

    @Option(help: .hidden)
    var stopAfterSlides: Int?

    func validate() throws {
        guard (store == nil) != (manifest == nil) else {
            throw ValidationError("give one of --store STORE (predict its test slides) and --manifest CSV (predict these slides)")
        }
        if bestModel && !FileManager.default.isReadableFile(atPath: modelPath) {
            throw ValidationError("--best-model: \(modelPath) does not exist; a run writes it only when its store has a validation split (drop --best-model to use \(modelFile.model))")
        }
        if let problem = OptionCheck.folder("--store", store, fix: "pass the store tessera-tile wrote") ?? OptionCheck.readableFile("--manifest", manifest) {
            throw ValidationError(problem)
        }
        if manifest != nil && (slidesDir != nil || slidesManifest != nil) {
            throw ValidationError("--slides-dir and --slides-manifest go with --store; with --manifest the slides are known")
        }
        if manifest != nil && allowPartialStore {
            throw ValidationError("--allow-partial-store goes with --store; with --manifest there is no store")
        }
        if store != nil && (assumeMPP != nil || skipMissing) {
            throw ValidationError("--assume-mpp and --skip-missing go with --manifest; a store's slides are already tiled")
        }
        if let problem = OptionCheck.readableFile("--slides-manifest", slidesManifest)
            ?? OptionCheck.number("--assume-mpp", assumeMPP, in: OptionCheck.micronsPerPixel, example: "0.25 (µm per pixel)") {
            throw ValidationError(problem)
        }
        if let jpegQuality, !(1...100).contains(jpegQuality) { throw ValidationError("--jpeg-quality must be 1…100") }
        guard (16...16384).contains(heatmapSize) else { throw ValidationError("--heatmap-size must be 16…16384 pixels") }
        if let stopAfterSlides, stopAfterSlides < 0 { throw ValidationError("--stop-after-slides must be ≥ 0") }
    }

    /// The model file predicted with: --model, or model-best.tsm beside it with --best-model.
    var modelPath: String {
        bestModel ? URL(fileURLWithPath: modelFile.model).deletingLastPathComponent().appendingPathComponent(ModelFile.bestFileName).path : modelFile.model
    }

    func run() throws {
        // Before any thread: may re-execute this process onto OpenBLAS's fast kernels.
        let blas = BLASRuntime.ensureFastKernels()
        StopRequest.install()
        Log.program = task.logName("tessera-predict")
        Log.info(blas)
        let source: PredictionSource = store.map { .store(URL(fileURLWithPath: $0)) } ?? .manifest(URL(fileURLWithPath: manifest!))
        var options = PredictionJob.Options(model: URL(fileURLWithPath: modelPath), source: source, output: URL(fileURLWithPath: out))
        options.tileScores = tileScores
        options.heatmaps = heatmaps
        options.heatmapSize = heatmapSize
        options.classMaps = classMaps
        options.geojson = geojson
        options.slidesDirectory = slidesDir.map { URL(fileURLWithPath: $0) }
        options.slideManifest = slidesManifest.map { URL(fileURLWithPath: $0) }
        options.assumeMPP = assumeMPP
        options.jpegQuality = jpegQuality
        options.skipMissing = skipMissing
        options.share = task.share
        options.batchSize = forward.batch
        options.bootstrap = report.bootstrap
        options.seed = report.seed
        options.allowPartialStore = allowPartialStore
        options.stopAfterSlides = stopAfterSlides
        try ExitStatus.exitingOnError { try task.finish(try PredictionJob(options: options).run(), failures: "failures.csv") }
    }
}
