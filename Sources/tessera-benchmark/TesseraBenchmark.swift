import AccuracyBenchmark
import ArgumentParser
import Foundation
import SyntheticSlides
import TesseraCLI
import TesseraCore

@main
struct TesseraBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera-benchmark",
        abstract: "Judge a pipeline run on a realistic synthetic cohort against its ground truth (see Jobs/benchmark).",
        version: TesseraVersion.line("tessera-benchmark"),
        subcommands: [TileTruthCommand.self, ReportCommand.self])
}

/// Where the tiles were cut: shared by both subcommands.
struct TilingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The realistic cohort folder (tessera-synth --profile realistic): truth.csv and truth/.", valueName: "dir"))
    var cohort: String

    @Option(name: .customLong("tile-size"), help: "Tile side in pixels at the tiling resolution (the job's TILE_SIZE).")
    var tileSize = 512

    @Option(help: "The tiling resolution, µm per pixel (the job's MPP; 10 / MAGNIFICATION).")
    var mpp = 0.5

    @Option(name: .customLong("assume-mpp"), help: "µm per pixel assumed for slides that record none (the job's ASSUME_MPP).")
    var assumeMPP = 0.5

    func validate() throws {
        guard tileSize > 0 else { throw ValidationError("--tile-size must be positive; got \(tileSize).") }
        guard mpp > 0 && mpp <= 100 else { throw ValidationError("--mpp must be in (0, 100]; got \(mpp).") }
        guard assumeMPP > 0 && assumeMPP <= 100 else { throw ValidationError("--assume-mpp must be in (0, 100]; got \(assumeMPP).") }
        let truth = URL(fileURLWithPath: cohort).appendingPathComponent(CohortDirectory.truthTableName)
        guard FileManager.default.fileExists(atPath: truth.path) else {
            throw ValidationError("--cohort \(cohort) has no \(CohortDirectory.truthTableName): give a cohort written by tessera-synth --profile realistic.")
        }
    }

    var table: TileTruthTable {
        TileTruthTable(cohort: URL(fileURLWithPath: cohort), tileSize: tileSize, micronsPerPixel: mpp, assumeMPP: assumeMPP)
    }
}

struct TileTruthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tile-truth",
        abstract: "Each tile's true tissue, tumour and artefact fractions and true label.",
        discussion: "Reads a CSV of tiles (slide_id,x,y in level-0 pixels, e.g. tessera-predict's tiles.csv; a `size` or `width` column gives each tile's level-0 side, else --tile-size at --mpp on the slide's recorded resolution) and writes slide_id,x,y,size,tissue_fraction,tumour_fraction,artefact_fraction,true_label.")

    @OptionGroup var tiling: TilingOptions

    @Option(help: ArgumentHelp("The tiles CSV.", valueName: "csv"))
    var tiles: String

    @Option(help: ArgumentHelp("Where to write the tile truth CSV.", valueName: "csv"))
    var out: String

    func run() throws {
        Log.program = "tessera-benchmark"
        guard let text = try? String(contentsOfFile: tiles, encoding: .utf8) else {
            throw ValidationError("--tiles \(tiles): cannot read it. Give tessera-predict's tiles.csv (TILE_SCORES=1).")
        }
        let table = try tiling.table.compute(tilesCSV: text, tilesPath: tiles)
        try AtomicFile.write(Data(table.utf8), to: URL(fileURLWithPath: out))
        Log.info("wrote \(out): \(table.split(separator: "\n").count - 1) tiles")
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "benchmark.md and benchmark.json from one or more prediction runs on a realistic cohort.")

    @OptionGroup var tiling: TilingOptions

    @Option(name: .customLong("run"), help: ArgumentHelp("A prediction run: NAME=FOLDER (report.json and tiles.csv of tessera-predict); repeat for each split.", valueName: "name=dir"))
    var runs: [String] = []

    @Option(name: .customLong("ablation-row"), help: ArgumentHelp(
        "An ablation row: NAME=DIR, DIR holding predictions/ (the site-mixed test split), optionally predictions-heldout/, overrides.txt (its job keys) and store (a link to its tile store: its QC tables give the row's QC figures against the truth); repeat per row, the baseline first (see Jobs/benchmark --ablation).",
        valueName: "name=dir"))
    var ablationRows: [String] = []

    @Option(help: ArgumentHelp("Timings file: lines `stage wall_seconds cpu_seconds`.", valueName: "file"))
    var timings: String?

    @Option(help: "The commit the binaries were built from (written into the report).")
    var commit = "unknown"

    @Option(help: "Bootstrap resamples for the tile and oracle AUC intervals.")
    var bootstrap = 1000

    @Option(help: ArgumentHelp("The tile store of the run (STORE): its QC tables give the QC figures against the truth, and the QC pictures of a few slides are copied into the output.", valueName: "dir"))
    var store: String?

    @Option(help: ArgumentHelp("Output folder for benchmark.md, benchmark.json and each run's tile-truth-NAME.csv.", valueName: "dir"))
    var out: String

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("Give at least one --run NAME=FOLDER (e.g. --run site-mixed=predictions).") }
        for r in runs where r.split(separator: "=", maxSplits: 1).count != 2 {
            throw ValidationError("--run must be NAME=FOLDER; got '\(r)'.")
        }
        for r in ablationRows where r.split(separator: "=", maxSplits: 1).count != 2 {
            throw ValidationError("--ablation-row must be NAME=DIR; got '\(r)'.")
        }
        guard (0...100_000).contains(bootstrap) else { throw ValidationError("--bootstrap must be 0...100000; got \(bootstrap).") }
    }

    func run() throws {
        Log.program = "tessera-benchmark"
        let outURL = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
        let (cohort, truthRows) = try BenchmarkReport.cohort(at: URL(fileURLWithPath: tiling.cohort))
        let labels = Dictionary(truthRows.map { ($0.slideID, $0.label) }, uniquingKeysWith: { a, _ in a })
        var splits: [SplitBenchmark] = []
        var classes: [String] = []
        var predictionFolders: [URL] = []
        for r in runs {
            let parts = r.split(separator: "=", maxSplits: 1).map(String.init)
            let folder = URL(fileURLWithPath: parts[1])
            let tilesPath = folder.appendingPathComponent("tiles.csv").path
            guard let text = try? String(contentsOfFile: tilesPath, encoding: .utf8) else {
                throw ValidationError("--run \(r): cannot read \(tilesPath); run tessera-predict with --tile-scores (TILE_SCORES=1).")
            }
            let truth = try tiling.table.compute(tilesCSV: text, tilesPath: tilesPath)
            try AtomicFile.write(Data(truth.utf8), to: outURL.appendingPathComponent("tile-truth-\(parts[0]).csv"))
            // A MIL run's predictions of the same slides, written beside the predictor's (MIL_RUN=PREDICTIONS).
            let mil = folder.appendingPathComponent("mil-slides.csv")
            let split = try SplitBenchmark(name: parts[0], predictions: folder, tileTruthCSV: truth, slideLabels: labels,
                                           bootstrap: bootstrap, seed: 1,
                                           milSlides: FileManager.default.fileExists(atPath: mil.path) ? mil : nil)
            splits.append(split)
            predictionFolders.append(folder)
            classes = Self.classes(ofTilesCSV: text)
        }
        let ablation = try ablationRows.isEmpty ? nil : ablationTable(classes: classes, labels: labels)
        var report = BenchmarkReport(commit: commit, cohort: cohort, splits: splits, ablation: ablation)
        if let ablation {
            // What Jobs/benchmark --ablation runs as its `best` row: empty when no row improved.
            let best = AblationRow.bestCombination(ablation) ?? ""
            try AtomicFile.write(Data((best + "\n").utf8), to: outURL.appendingPathComponent("ablation-best.txt"))
            Log.info("best combination: \(best.isEmpty ? "none (no row improved on the baseline)" : best)")
        }
        var pictures: [String] = []
        if let store {
            let storeURL = URL(fileURLWithPath: store)
            report.tilingQC = try TilingQCFigures.measure(store: storeURL, table: tiling.table)
            pictures = try TilingQCFigures.copyPictures(store: storeURL, out: outURL, count: 4)
        }
        // The heatmaps of the runs that drew them (HEATMAPS=1), beside their truth.
        let truthMaps = try predictionFolders.flatMap {
            try TruthMapComparison.write(predictions: $0, cohort: URL(fileURLWithPath: tiling.cohort), rows: truthRows, classes: classes, out: outURL)
        }
        let times = timings.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }.map(BenchmarkReport.timings) ?? []
        try AtomicFile.write(try report.json(), to: outURL.appendingPathComponent("benchmark.json"))
        try AtomicFile.write(Data(report.markdown(classes: classes, timings: times, pictures: pictures, truthMaps: truthMaps).utf8), to: outURL.appendingPathComponent("benchmark.md"))
        Log.info("wrote \(outURL.appendingPathComponent("benchmark.md").path) and benchmark.json")
    }

    /// The class names of a tiles.csv: its `p_<class>` columns, in order.
    static func classes(ofTilesCSV text: String) -> [String] {
        text.prefix { $0 != "\n" }.split(separator: ",").filter { $0.hasPrefix("p_") }.map { String($0.dropFirst(2)) }
    }

    /// The ablation rows, each judged like a --run (site-mixed, and held-out when present).
    func ablationTable(classes: [String], labels: [String: String]) throws -> [AblationRow] {
        var rows: [AblationRow.Runs] = []
        for r in ablationRows {
            let parts = r.split(separator: "=", maxSplits: 1).map(String.init)
            let folder = URL(fileURLWithPath: parts[1])
            func split(_ sub: String, _ label: String) throws -> (SplitBenchmark, [String: [Double]])? {
                let predictions = folder.appendingPathComponent(sub)
                let tilesPath = predictions.appendingPathComponent("tiles.csv").path
                guard let text = try? String(contentsOfFile: tilesPath, encoding: .utf8) else { return nil }
                let rowClasses = Self.classes(ofTilesCSV: text)
                guard rowClasses == classes else {
                    throw ValidationError("--ablation-row \(r): \(tilesPath) has classes \(rowClasses), the other runs \(classes).")
                }
                let truth = try tiling.table.compute(tilesCSV: text, tilesPath: tilesPath)
                let benchmark = try SplitBenchmark(name: "\(parts[0]) \(label)", predictions: predictions, tileTruthCSV: truth,
                                                   slideLabels: labels, bootstrap: bootstrap, seed: 1)
                return (benchmark, try SlideScores.read(predictions, classes: rowClasses))
            }
            guard let mixed = try split("predictions", "site-mixed") else {
                throw ValidationError("--ablation-row \(r): no \(parts[1])/predictions/tiles.csv; the row did not finish (see its log).")
            }
            let heldOut = try split("predictions-heldout", "site-held-out")
            let overrides = (try? String(contentsOf: folder.appendingPathComponent("overrides.txt"), encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            let store = folder.appendingPathComponent("store")
            let qc = FileManager.default.fileExists(atPath: store.path) ? try TilingQCFigures.measure(store: store, table: tiling.table) : nil
            rows.append(AblationRow.Runs(name: parts[0], overrides: overrides, siteMixed: mixed.0, siteHeldOut: heldOut?.0,
                                         siteMixedScores: mixed.1, siteHeldOutScores: heldOut?.1, tilingQC: qc))
        }
        return AblationRow.table(rows, classes: classes, slideLabels: labels, bootstrap: bootstrap, seed: 1)
    }
}
