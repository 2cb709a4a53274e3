import ArgumentParser
import Foundation
import SlideTiles
import TesseraCLI
import TesseraCore
import TileStore
import Tiler
import Tiling

@main
struct TileCommand: ParsableCommand {
    /// Job-file keys this program reads (see Jobs/demo.env).
    static let jobKeys: [JobFile.Mapping] = [
        .option("MANIFEST", "--manifest"), .option("STORE", "--store"), .option("CLASSES", "--classes"),
        .option("MAGNIFICATION", "--magnification"), .option("MPP", "--mpp"), .option("LEVEL", "--level"),
        .option("ASSUME_MPP", "--assume-mpp"), .option("TILE_SIZE", "--tile-size"), .option("OVERLAP", "--overlap"),
        .option("BACKGROUND_THRESHOLD", "--background-threshold"), .option("MAX_BACKGROUND", "--max-background"),
        .option("ENCODING", "--encoding"), .option("QUALITY", "--quality"), .option("SPLIT", "--split"),
        .option("SPLIT_SEED", "--seed"), .option("SLIDE_READER", "--slide-reader"),
        .option("QC", "--qc"), .option("PEN_MAX", "--pen-max"), .option("BLUR_MIN", "--blur-min"),
        .option("FOLD_MAX", "--fold-max"), .option("BUBBLE_MAX", "--bubble-max"),
        .option("BLUR_BLOCK_MIN", "--blur-block-min"),
        .option("TISSUE_MASK", "--tissue-mask"),
    ] + TaskOptions.jobKeys(stage: "TILE")

    static func main() { main(jobKeys: jobKeys) }

    @OptionGroup var job: JobOption

    static let configuration = CommandConfiguration(
        commandName: "tessera-tile",
        abstract: "Cut whole-slide images into tissue tiles, in HDF5 tile stores split by patient.",
        discussion: """
            Each run is one task: it tiles its share of the manifest's slides (balanced by file size) \
            into STORE. Run it as a Slurm array job (the shard defaults to the array task) or by hand.

            Every task computes the same patient split from the manifest and --seed: all slides of \
            a patient land in one split (train / validation / test), whatever their labels.

            Examples:
              tessera-tile --manifest cohort/manifest.csv --store store --magnification 20
              tessera-tile --manifest m.csv --store store --mpp 0.5 --classes LUAD,LUSC,normal
              tessera-tile --manifest m.csv --store store --shard 2 --shards 8
              sbatch --array=0-7 --wrap 'tessera-tile --manifest m.csv --store store'
              tessera-tile --job Jobs/demo.env --shard 0 --shards 1
              tessera-tile --manifest m.csv --store store --qc none --tissue-mask otsu
              tessera-tile --manifest m.csv --store store --qc pen,blur --pen-max 0.1
              tessera-tile --manifest m.csv --store store --qc strict

            Tile QC: tiles that pass the background rule are dropped when more than --pen-max of \
            their pixels are pen ink (blue, green, black) or when their focus measure (100 × the \
            variance of the grey Laplacian over that of the grey level, on tissue pixels) is below \
            --blur-min (or, with --blur-block-min above 0, a 128² block's is below that), when more than --fold-max of their tissue blocks are 1.6 times as dense as the \
            slide's typical tissue on its thumbnail (a fold: two layers of stain; opt-in), or when an air bubble's rim (a thin band darker than both its sides by the same \
            factor in every channel) runs longer than --bubble-max pixels. Every drop is counted per \
            slide by reason in the store (tessera-audit shows them), and STORE/qc/<slide_id>.jpg \
            shows the slide with kept tiles outlined and dropped tiles tinted by reason.

            Output: STORE/train/part-I-of-N.h5, STORE/validation/part-I-of-N.h5, \
            STORE/test/<slide_id>.h5, STORE/splits.csv, STORE/failures/task-I-of-N.csv (slides \
            that could not be tiled), STORE/qc/<slide_id>.jpg and .csv (QC picture; every position \
            read and what became of it), STORE/status/ (resume state). Check a store with tessera-audit.

            Exit status: 0 all slides tiled; 3 done, but some slides failed (listed in failures/; \
            with --strict this is 1); 1 fatal error (also: the task is already running elsewhere, or \
            the store's file system is full, over quota, read-only or failing); 64 bad options.
            A killed task re-run with the same options resumes where it stopped, and tries the \
            slides that failed before again (unless --no-retry-failed).
            """,
        version: TesseraVersion.line("tessera-tile"))

    @Option(help: "Slide manifest CSV: slide_path,slide_id,patient_id,label (paths relative to the manifest).")
    var manifest: String

    @Option(help: "The tile store folder (created if missing), shared by all tasks.")
    var store: String

    @Option(help: "Class names in label-index order, comma-separated, each once (default: the manifest's labels, sorted). Labels outside the list are an error.")
    var classes: String?

    @Option(help: "Tile at this objective power, 0.1…400 (e.g. 20). Default when neither --mpp nor --level is given: 20.")
    var magnification: Double?

    @Option(help: "Tile at this resolution in µm per pixel, 0.025…100 (e.g. 0.5).")
    var mpp: Double?

    @Option(help: "Tile this pyramid level as it is, without resampling.")
    var level: Int?

    @Option(help: "µm per pixel (0.025…100) to assume for slides that record neither MPP nor objective power (otherwise they are skipped).")
    var assumeMPP: Double?

    @Option(help: "Tile side in pixels.")
    var tileSize = 512

    @Option(help: "Overlap between neighbouring tiles in pixels.")
    var overlap = 0

    @Option(help: "Luminance (0–255, ITU-R 601) at or above which a pixel is background.")
    var backgroundThreshold = 220.0

    @Option(help: "Drop tiles with more than this fraction of background pixels.")
    var maxBackground = 0.5

    @Option(help: "Which pixels are glass: luminance (≥ --background-threshold) or otsu (HSV saturation below the slide's Otsu threshold, from its thumbnail). (default: luminance)",
            transform: TissueMaskOption.parse)
    var tissueMask = TissueMaskOption.luminance

    @Option(help: "Artefact checks on tiles that pass the background rule: any of pen, blur, fold, bubble, comma-separated, or none, or strict (all four and the block blur rule, at --blur-block-min or 9).")
    var qc = QCChecks.standard.description

    @Option(help: "Drop tiles with more than this fraction of pen-ink pixels, 0…1.")
    var penMax = ArtefactQC.defaultPenMax

    @Option(help: "Drop tiles whose focus measure (100 × grey Laplacian variance / grey variance, on tissue pixels) is below this, ≥ 0.")
    var blurMin = ArtefactQC.defaultBlurMin

    @Option(help: "Drop tiles where a 128² block that is at least half tissue has a focus measure below this (a blurred patch over part of the tile), ≥ 0; 0 (the default) turns the block rule off; 9 was chosen on the synthetic cohort.")
    var blurBlockMin = ArtefactQC.defaultBlurBlockMin

    @Option(help: "Drop tiles where more than this fraction of the 64-px tissue blocks is doubly dark (optical density summed over R, G, B above 1.6 × the slide's median: a fold), 0…1.")
    var foldMax = ArtefactQC.defaultFoldMax

    @Option(help: "Drop tiles where an air bubble's rim (a thin band darker than both its sides, equally in R, G, B) runs longer than this many pixels, ≥ 0.")
    var bubbleMax = ArtefactQC.defaultBubbleMax

    @Option(help: "Tile encoding: jpeg (≈40–60 KB per 512² tile) or raw (uint8 N×H×W×3). (default: jpeg)", transform: EncodingOption.parse)
    var encoding = EncodingOption.jpeg

    @Option(help: "JPEG quality (1–100).")
    var quality = 90

    @Option(help: "Train,validation,test fractions of patients: three numbers in 0…1 summing to 1.")
    var split = "0.7,0.15,0.15"

    @Option(help: "Seed of the patient split.")
    var seed: UInt64 = 1

    @OptionGroup var task: TaskOptions

    @Option(help: "How slides are read: auto (JPEG-tiled Aperio and generic TIFF decoded directly from their tiles, everything else by OpenSlide) or openslide (OpenSlide for every slide). (default: auto)",
            transform: SlideReaderOption.parse)
    var slideReader = SlideReaderOption.auto

    @Flag(help: "Read every grid position, without the low-resolution tissue mask.")
    var noTissueMask = false

    @Flag(help: "Record missing slide files as failed slides and go on (default: refuse the manifest).")
    var skipMissing = false

    var target: TilingTarget { TilingTarget(mpp: mpp, magnification: magnification, level: level) }

    /// nil when --split is not three fractions (validate() refuses it).
    var fractions: [Double]? { OptionCheck.numbers(split, count: 3, in: .closed(0, 1)) }

    func validate() throws {
        if [magnification != nil, mpp != nil, level != nil].filter({ $0 }).count > 1 {
            throw ValidationError("give one of --magnification, --mpp and --level")
        }
        // Before any work: an absurd resolution builds an absurd resampler (memory without end).
        if let problem = [
            OptionCheck.number("--magnification", magnification, in: OptionCheck.magnification, example: "20"),
            OptionCheck.number("--mpp", mpp, in: OptionCheck.micronsPerPixel, example: "0.5 (µm per pixel)"),
            OptionCheck.number("--assume-mpp", assumeMPP, in: OptionCheck.micronsPerPixel, example: "0.25 (µm per pixel)"),
            OptionCheck.integer("--level", level, in: 0...63),
        ].compactMap({ $0 }).first {
            throw ValidationError(problem)
        }
        guard (16...4096).contains(tileSize) else { throw ValidationError("--tile-size must be 16…4096 pixels") }
        guard overlap >= 0 && overlap < tileSize else { throw ValidationError("--overlap must be ≥ 0 and smaller than --tile-size") }
        guard (0...255).contains(backgroundThreshold) else { throw ValidationError("--background-threshold is a luminance, 0…255 (DeepPATH uses 220)") }
        guard (0...1).contains(maxBackground) else { throw ValidationError("--max-background is a fraction, 0…1") }
        guard ArtefactQC.resolve(qc, blurBlockMin: blurBlockMin) != nil else {
            throw ValidationError("--qc takes pen, blur, fold, bubble (comma-separated, e.g. \(QCChecks.standard)), none or \(QCChecks.strictName); got '\(qc)'")
        }
        guard penMax.isFinite && (0...1).contains(penMax) else { throw ValidationError("--pen-max is a fraction of the tile, 0…1 (default \(ArtefactQC.defaultPenMax))") }
        guard blurMin.isFinite && blurMin >= 0 else { throw ValidationError("--blur-min is a variance, ≥ 0 (default \(ArtefactQC.defaultBlurMin))") }
        guard blurBlockMin.isFinite && blurBlockMin >= 0 else {
            throw ValidationError("--blur-block-min is a focus measure, ≥ 0 (default \(ArtefactQC.defaultBlurBlockMin))")
        }
        guard foldMax.isFinite && (0...1).contains(foldMax) else { throw ValidationError("--fold-max is a fraction of the tissue, 0…1 (default \(ArtefactQC.defaultFoldMax))") }
        guard bubbleMax.isFinite && bubbleMax >= 0 else { throw ValidationError("--bubble-max is a length in pixels, ≥ 0 (default \(ArtefactQC.defaultBubbleMax))") }
        guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1…100") }
        guard let f = fractions, abs(f.reduce(0, +) - 1) < 1e-6 else {
            throw ValidationError("--split takes three fractions train,validation,test summing to 1, e.g. 0.7,0.15,0.15; got '\(split)'")
        }
        if let problem = OptionCheck.readableFile("--manifest", manifest) ?? classes.flatMap({ OptionCheck.names("--classes", $0) }) {
            throw ValidationError(problem)
        }
    }

    func run() throws {
        StopRequest.install()
        Log.program = task.logName("tessera-tile")
        var options = TilingJob.Options(manifest: URL(fileURLWithPath: manifest), store: URL(fileURLWithPath: store), target: target)
        options.classes = classes.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        options.assumeMPP = assumeMPP
        options.tileSize = tileSize
        options.overlap = overlap
        options.rule = BackgroundRule(threshold: backgroundThreshold, maxBackground: maxBackground)
        options.tissueRule = TissueRule(rawValue: tissueMask.rawValue)!
        let resolved = ArtefactQC.resolve(qc, blurBlockMin: blurBlockMin)!
        options.qc = ArtefactQC(checks: resolved.checks, penMax: penMax, blurMin: blurMin, foldMax: foldMax, bubbleMax: bubbleMax,
                                backgroundThreshold: backgroundThreshold, blurBlockMin: resolved.blurBlockMin)
        options.encoding = TileEncoding(rawValue: encoding.rawValue)!
        options.quality = quality
        options.splitFractions = fractions!
        options.splitSeed = seed
        options.share = task.share
        options.tissueMask = !noTissueMask
        options.slideReader = SlideReaderChoice(rawValue: slideReader.rawValue)!
        options.skipMissing = skipMissing
        try ExitStatus.exitingOnError { try task.finish(try TilingJob(options: options).run(), failures: "\(store)/failures/") }
    }
}
