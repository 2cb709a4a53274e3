import ArgumentParser
import Foundation
import Prediction
import TesseraCLI
import TesseraCore

struct Merge: JobFileCommand {
    /// Job-file keys this subcommand reads (see Jobs/demo.env).
    static func jobKeys(_: [String]) -> [JobFile.Mapping] {
        [.option("PREDICTIONS", "--out"), .option("PREDICT_SHARDS", "--expect-shards"), .option("MIL_RUN", "--mil")] + ReportOptions.jobKeys
    }

    @OptionGroup var job: JobOption

    static let configuration = CommandConfiguration(
        abstract: "Combine the parts of a multi-task prediction run into the final files and report.",
        discussion: """
            Checks that every task of the run finished with the same parameters and that every slide \
            was predicted exactly once (none missing, none duplicated), then writes OUT/slides.csv, \
            patients.csv, tiles.csv (when the tasks ran with --tile-scores), failures.csv, report.md \
            and report.json, sorted by slide and patient id. Safe to run again.

            With --mil MIL_RUN (the --out of tessera-mil predict), once MIL_RUN/mil-slides.csv \
            exists, the MIL model's slide predictions join slides.csv and patients.csv as \
            abmil_p_<class>… and predicted_by_abmil (a patient's: the mean over its slides) and \
            report.json as the `abmil` metrics beside the other aggregators; when the tasks drew \
            heatmaps, each slide also gets OUT/heatmaps/<slide>-attention.jpg, and with --geojson \
            an abmil_attention measurement per tile. Before MIL_RUN has predictions the merge goes \
            on without them; merging again after tessera-mil predict attaches them.

            Exit status: 0 merged; 3 merged, but some slides failed (listed in failures.csv); \
            1 unfinished tasks, missing or duplicated slides, unreadable parts; 64 bad options.

            Examples:
              tessera-predict merge --out pred
              sbatch --dependency=afterany:$ARRAY_JOB --wrap 'tessera-predict merge --out pred --expect-shards 8'
              tessera-predict merge --job Jobs/demo.env
              tessera-predict merge --out pred --mil mil

            Job-file keys: PREDICTIONS (--out), PREDICT_SHARDS (--expect-shards), BOOTSTRAP, BOOTSTRAP_SEED, MIL_RUN (--mil).
            """)

    @Option(help: "The output folder of the prediction tasks.")
    var out: String

    @Option(help: "The number of tasks of the run to merge (needed only when runs with different counts used OUT).")
    var expectShards: Int?

    @Option(help: "A tessera-mil predict output folder whose ABMIL predictions and attention to attach (when it has them).")
    var mil: String?

    @OptionGroup var report: ReportOptions

    func validate() throws {
        if let expectShards, expectShards < 1 { throw ValidationError("--expect-shards must be ≥ 1") }
        if let problem = OptionCheck.folder("--out", out, fix: "pass the --out of the prediction tasks") { throw ValidationError(problem) }
        var isFolder: ObjCBool = false
        if let mil, FileManager.default.fileExists(atPath: mil, isDirectory: &isFolder), !isFolder.boolValue {
            throw ValidationError("--mil \(mil) is a file; pass the --out folder of tessera-mil predict")
        }
    }

    func run() throws {
        Log.program = "tessera-predict merge"
        var options = PredictionMerge.Options(output: URL(fileURLWithPath: out))
        options.expectShards = expectShards
        options.bootstrap = report.bootstrap
        options.seed = report.seed
        options.milRun = mil.map { URL(fileURLWithPath: $0) }
        try ExitStatus.exitingOnError {
            switch try PredictionMerge(options: options).run() {
            case .allDone: break
            case let .doneWithFailures(_, failed):
                Log.warning("\(failed) slide\(failed == 1 ? "" : "s") failed (see \(out)/failures.csv)")
                throw ExitStatus.doneWithFailedSlides.exitCode
            }
        }
    }
}
