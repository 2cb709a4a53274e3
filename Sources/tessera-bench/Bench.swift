import ArgumentParser
import BLAS
import Foundation
import TesseraCLI
import TesseraCore

/// `tessera-bench`: the figures that size Tessera's pipeline on this machine, one `name value unit`
/// line each on standard output; how each was measured goes to standard error.
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera-bench",
        abstract: "Measure the native building blocks of Tessera's pipeline on this machine.",
        discussion: """
            Prints one figure per line on standard output, as `name value unit` \
            (e.g. `sgemm_1024_t1 97.3 GFLOP/s`); progress and how each figure was measured go to \
            standard error. Each figure is the median of several samples after a warm-up: on a \
            shared machine, compare medians of repeated runs, not single runs.

            Groups, run in this order:
            \(BenchmarkGroup.helpList)

            The OpenSlide and JPEG figures read cmu-1-small-region.svs and \
            tcga-cr-7395-01a-01-ts1.svs from the slides folder; without it the TCGA figures are \
            skipped (with a warning saying why) and JPEG uses a synthetic tissue texture. The \
            gigapixel slide is written by the tessera-synth executable found next to tessera-bench, \
            and tiled by the tessera-tile found there; the 2-rank training figures run this \
            executable twice under mpirun (found on PATH). Figures of work done by a child process \
            (synth, tiling) are measured from outside: its wall time, CPU time and peak RSS.

            Examples:
              swift build -c release                 # builds tessera-bench and what it runs
              .build/release/tessera-bench > figures.txt
              .build/release/tessera-bench --quick --skip-gigapixel
              .build/release/tessera-bench --only sgemm
              .build/release/tessera-bench --only openslide --gigapixel-size 20000x15000
              .build/release/tessera-bench --only training
              .build/release/tessera-bench --only stain
              .build/release/tessera-bench --only prediction --gigapixel-size 20000x15000
              .build/release/tessera-bench --slides /data/slides --work /scratch/bench
            """,
        version: TesseraVersion.line("tessera-bench"))

    @Option(help: ArgumentHelp(
        "Folder holding the reference slides (default: $TESSERA_SLIDES, else ../shared/slides).",
        valueName: "dir"))
    var slides: String?

    @Option(help: ArgumentHelp(
        "Scratch folder for generated slides; kept afterwards (default: a temporary folder, removed at the end).",
        valueName: "dir"))
    var work: String?

    @Option(help: ArgumentHelp("Run only this group.", valueName: "group"))
    var only: BenchmarkGroup?

    @Flag(help: "Fewer samples and tiles: a quick look, not figures to compare.")
    var quick = false

    @Option(help: ArgumentHelp(
        "Size of the generated gigapixel slide (default: \(PixelSize.defaultGigapixel)).", valueName: "WxH"))
    var gigapixelSize: PixelSize?

    @Flag(help: "Do not write the gigapixel slide: no synth, tiling or prediction figures on it.")
    var skipGigapixel = false

    /// Internal: run as one rank of the training group's `mpirun`, writing rank 0's result here.
    @Option(help: .hidden)
    var mpiTrainingWorker: String?

    /// What `BLASRuntime.ensureFastKernels()` said, logged once the options are valid.
    nonisolated(unsafe) private static var kernelsLine = ""

    static func main() {
        // First of all: this may re-execute the process with OPENBLAS_CORETYPE set.
        kernelsLine = BLASRuntime.ensureFastKernels()
        Log.program = "tessera-bench"
        main(nil)
    }

    func validate() throws {
        if let slides, !Self.isDirectory(slides) {
            throw ValidationError("--slides \(slides): no such folder. Pass the folder that holds cmu-1-small-region.svs and tcga-cr-7395-01a-01-ts1.svs, or leave --slides out.")
        }
        if let work {
            if FileManager.default.fileExists(atPath: work) {
                guard Self.isDirectory(work), FileManager.default.isWritableFile(atPath: work) else {
                    throw ValidationError("--work \(work): not a writable folder. Pass a folder you can write to, or leave --work out to use a temporary one.")
                }
            } else if !Self.isDirectory(URL(fileURLWithPath: work).deletingLastPathComponent().path) {
                throw ValidationError("--work \(work): its parent folder does not exist. Create it first, or leave --work out to use a temporary folder.")
            }
        }
        if let gigapixelSize {
            if skipGigapixel {
                throw ValidationError("--gigapixel-size and --skip-gigapixel contradict each other: pass one of them.")
            }
            guard PixelSize.sideRange.contains(gigapixelSize.width), PixelSize.sideRange.contains(gigapixelSize.height) else {
                throw ValidationError("--gigapixel-size \(gigapixelSize): each side must be \(PixelSize.sideRange.lowerBound)…\(PixelSize.sideRange.upperBound) pixels, e.g. --gigapixel-size \(PixelSize.defaultGigapixel).")
            }
        }
        if skipGigapixel, let only, [.synth, .prediction].contains(only) {
            throw ValidationError("--only \(only.rawValue) needs the gigapixel slide: drop --skip-gigapixel.")
        }
    }

    func run() throws {
        if let mpiTrainingWorker { MPITrainingWorker.run(resultPath: mpiTrainingWorker, quick: quick) }
        Log.info(Self.kernelsLine)
        Self.logLoad("before")
        let start = ContinuousClock.now
        let (workDirectory, isTemporary) = try makeWorkDirectory()
        defer {
            if isTemporary { try? FileManager.default.removeItem(at: workDirectory) }
        }
        let context = BenchContext(
            quick: quick, slides: slidesFolder(), workDirectory: workDirectory,
            gigapixelSize: skipGigapixel ? nil : (gigapixelSize ?? .defaultGigapixel))

        var failed: [BenchmarkGroup] = []
        for group in only.map({ [$0] }) ?? BenchmarkGroup.allCases {
            Log.info("\(group.rawValue): \(group.summary)")
            do {
                try group.benchmark.run(in: context)
            } catch {
                Log.error("\(group.rawValue) failed: \(error)")
                failed.append(group)
            }
        }
        Log.info("finished in \(ProgressLog.formatDuration((ContinuousClock.now - start).seconds))")
        Self.logLoad("after")
        if !failed.isEmpty { throw BenchError.groupsFailed(failed) }
    }

    /// `--slides`, else `$TESSERA_SLIDES`, else `../shared/slides`; absent ones say why.
    func slidesFolder() -> SlidesFolder {
        if let slides { return .available(URL(fileURLWithPath: slides)) }
        if let fromEnvironment = ProcessInfo.processInfo.environment["TESSERA_SLIDES"] {
            return Self.isDirectory(fromEnvironment)
                ? .available(URL(fileURLWithPath: fromEnvironment))
                : .unavailable(reason: "TESSERA_SLIDES=\(fromEnvironment) is not a folder")
        }
        let fallback = "../shared/slides"
        return Self.isDirectory(fallback)
            ? .available(URL(fileURLWithPath: fallback))
            : .unavailable(reason: "no slides folder (no --slides, no TESSERA_SLIDES, and no \(fallback) under \(FileManager.default.currentDirectoryPath))")
    }

    func makeWorkDirectory() throws -> (URL, isTemporary: Bool) {
        if let work {
            let url = URL(fileURLWithPath: work)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            return (url, false)
        }
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("tessera-bench-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return (url, true)
    }

    /// Says how busy the machine is, to judge the figures by (the bench itself adds about one).
    static func logLoad(_ when: String) {
        guard let load = Measure.loadAverage() else { return }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let note = load > Double(cores) ? ": other processes compete for the cores, figures may be low" : ""
        Log.info("load average \(Figure.format(load)) on \(cores) cores \(when) the run\(note)")
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
