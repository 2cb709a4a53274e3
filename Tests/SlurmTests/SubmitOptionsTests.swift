import Foundation
import TesseraCore
import TesseraTestSupport
import XCTest

/// The sbatch options `Slurm/submit` gives each stage (`--dry-run`, no cluster needed): the site's
/// settings from one file, overridden by `SBATCH_*` variables; CPUs per task from every `*_THREADS`
/// key; array throttles from `*_MAX_RUNNING`; the warning signal before the time limit.
final class SubmitOptionsTests: XCTestCase {
    static let submit = TestEnvironment.packageRoot.appendingPathComponent("Slurm/submit")

    /// A site file and a job file in `work`.
    func files(in work: URL, job settings: [(String, String)]) throws -> (site: URL, job: URL) {
        let site = work.appendingPathComponent("site.env")
        try """
            SITE_PARTITION=compute
            SITE_ACCOUNT=lab-42
            SITE_QOS=
            SITE_MODULES=
            SITE_TILE_TIME=03:00:00
            SITE_TILE_MEM_PER_CPU=3G
            SITE_TRAIN_TIME=10:00:00
            SITE_TRAIN_MEM_PER_CPU=5G
            SITE_PREDICT_TIME=01:00:00
            SITE_PREDICT_MEM_PER_CPU=2G
            SITE_MERGE_TIME=00:20:00
            SITE_MERGE_MEM_PER_CPU=1G
            SITE_SIGNAL_SECONDS=420
            """.write(to: site, atomically: true, encoding: .utf8)
        let job = try SmallJobFile.write(in: work, manifest: work.appendingPathComponent("manifest.csv"), settings)
        return (site, job)
    }

    /// The `sbatch` command lines of a dry run, by stage (the script's file name).
    func dryRun(_ job: URL, site: URL, in work: URL, environment extra: [String: String?] = [:]) throws -> [String: [String]] {
        var environment: [String: String?] = ["TESSERA_BIN": TestEnvironment.productsDirectory.path, "TESSERA_SITE": site.path]
        for key in ["SBATCH_PARTITION", "SBATCH_ACCOUNT", "SBATCH_QOS", "SBATCH_TIMELIMIT", "SBATCH_MEM_PER_CPU", "SBATCH_SIGNAL"] {
            environment[key] = .some(nil)
        }
        environment.merge(extra) { $1 }
        let r = try runCommand(Self.submit, [job.path, "--dry-run"], environment: environment, currentDirectory: work)
        XCTAssertEqual(r.status, 0, r.output)
        var stages: [String: [String]] = [:]
        for line in r.stderr.split(separator: "\n") where line.hasPrefix("sbatch ") {
            let words = line.split(separator: " ").map(String.init)
            let stage = URL(fileURLWithPath: words.last!).deletingPathExtension().lastPathComponent
            stages[stage] = words
        }
        XCTAssertEqual(Set(stages.keys), ["tile", "train", "predict", "merge"], r.output)
        return stages
    }

    func testStagesGetTheSiteSettingsThreadsAndThrottles() throws {
        let work = try TestEnvironment.temporaryDirectory(self, "submit-options")
        let (site, job) = try files(in: work, job: [
            ("TILE_SHARDS", "8"), ("TILE_THREADS", "2"), ("TILE_MAX_RUNNING", "3"), ("RANKS", "4"), ("TRAIN_THREADS", "5"),
            ("PREDICT_SHARDS", "6"), ("PREDICT_THREADS", "7"), ("PREDICT_MAX_RUNNING", "2"),
        ])
        let stages = try dryRun(job, site: site, in: work)
        for (stage, time, memory) in [("tile", "03:00:00", "3G"), ("train", "10:00:00", "5G"), ("predict", "01:00:00", "2G"),
                                      ("merge", "00:20:00", "1G")] {
            let words = stages[stage] ?? []
            for option in ["--partition=compute", "--account=lab-42", "--time=\(time)", "--mem-per-cpu=\(memory)", "--signal=B:USR1@420"] {
                XCTAssertTrue(words.contains(option), "\(stage) lacks \(option): \(words)")
            }
            // An empty setting is not passed at all.
            XCTAssertFalse(words.contains { $0.hasPrefix("--qos") }, "\(stage): \(words)")
        }
        XCTAssertTrue(stages["tile"]!.contains("--array=0-7%3"), "\(stages["tile"]!)")
        XCTAssertTrue(stages["tile"]!.contains("--cpus-per-task=2"), "\(stages["tile"]!)")
        XCTAssertTrue(stages["train"]!.contains("--ntasks=4") && stages["train"]!.contains("--cpus-per-task=5"), "\(stages["train"]!)")
        // PREDICT_THREADS reaches the prediction tasks (predict.sbatch passes SLURM_CPUS_PER_TASK as --threads).
        XCTAssertTrue(stages["predict"]!.contains("--array=0-5%2"), "\(stages["predict"]!)")
        XCTAssertTrue(stages["predict"]!.contains("--cpus-per-task=7"), "\(stages["predict"]!)")
        // Without TRAIN_NODES, Slurm places the ranks.
        XCTAssertFalse(stages["train"]!.contains { $0.hasPrefix("--nodes") }, "\(stages["train"]!)")
    }

    /// TRAIN_NODES spreads the training ranks over that many nodes; more nodes than ranks is refused.
    func testTrainNodesSpreadTheRanks() throws {
        let work = try TestEnvironment.temporaryDirectory(self, "submit-nodes")
        let (site, job) = try files(in: work, job: [("RANKS", "4"), ("TRAIN_NODES", "2")])
        let stages = try dryRun(job, site: site, in: work)
        XCTAssertTrue(stages["train"]!.contains("--nodes=2") && stages["train"]!.contains("--ntasks=4"), "\(stages["train"]!)")
        XCTAssertFalse(stages["tile"]!.contains { $0.hasPrefix("--nodes") }, "\(stages["tile"]!)")
        let (_, tooMany) = try files(in: work, job: [("RANKS", "2"), ("TRAIN_NODES", "3")])
        let r = try runCommand(Self.submit, [tooMany.path, "--dry-run"],
                               environment: ["TESSERA_BIN": TestEnvironment.productsDirectory.path, "TESSERA_SITE": site.path],
                               currentDirectory: work)
        XCTAssertEqual(r.status, 64, r.output)
        XCTAssertTrue(r.stderr.contains("TRAIN_NODES=3") && r.stderr.contains("RANKS=2"), r.stderr)
    }

    /// MIL=1: embed and MIL are chained after training, and the merge waits for the MIL job as well
    /// as the prediction array (afterany: a failed MIL stage still lets the tile-level results merge),
    /// so it attaches the ABMIL predictions and draws the attention heatmaps.
    func testMergeWaitsForTheMILStage() throws {
        let work = try TestEnvironment.temporaryDirectory(self, "submit-mil")
        let (site, job) = try files(in: work, job: [("MIL", "1"), ("FEATURES", "features"), ("MIL_RUN", "mil")])
        var environment: [String: String?] = ["TESSERA_BIN": TestEnvironment.productsDirectory.path, "TESSERA_SITE": site.path]
        for key in ["SBATCH_PARTITION", "SBATCH_ACCOUNT", "SBATCH_QOS", "SBATCH_TIMELIMIT", "SBATCH_MEM_PER_CPU", "SBATCH_SIGNAL"] {
            environment[key] = .some(nil)
        }
        let r = try runCommand(Self.submit, [job.path, "--dry-run"], environment: environment, currentDirectory: work)
        XCTAssertEqual(r.status, 0, r.output)
        let ids = try XCTUnwrap(SlurmPipeline.jobIDs(submitOutput: r.stdout), r.output)
        let mil = try XCTUnwrap(ids["mil"], r.output), predict = try XCTUnwrap(ids["predict"], r.output)
        let merge = try XCTUnwrap(r.stderr.split(separator: "\n").first { $0.hasPrefix("sbatch ") && $0.hasSuffix("merge.sbatch") }, r.output)
        XCTAssertTrue(merge.contains("--dependency=afterok:\(predict),afterany:\(mil) "), String(merge))
    }

    /// An SBATCH_* variable wins: submit leaves that option to sbatch, which reads the variable.
    func testSbatchVariablesOverrideTheSiteFile() throws {
        let work = try TestEnvironment.temporaryDirectory(self, "submit-override")
        let (site, job) = try files(in: work, job: [])
        let stages = try dryRun(job, site: site, in: work, environment: ["SBATCH_PARTITION": "gpu-free", "SBATCH_TIMELIMIT": "00:05:00"])
        for (stage, words) in stages {
            XCTAssertFalse(words.contains { $0.hasPrefix("--partition") || $0.hasPrefix("--time") }, "\(stage): \(words)")
            XCTAssertTrue(words.contains("--account=lab-42"), "\(stage): \(words)")
        }
        // No array limit without *_MAX_RUNNING.
        XCTAssertTrue(stages["tile"]!.contains("--array=0-0"), "\(stages["tile"]!)")
    }

    func testBadSettingsAreUsageErrors() throws {
        let work = try TestEnvironment.temporaryDirectory(self, "submit-bad")
        let (site, job) = try files(in: work, job: [("PREDICT_MAX_RUNNING", "0")])
        let r = try runCommand(Self.submit, [job.path, "--dry-run"],
                               environment: ["TESSERA_BIN": TestEnvironment.productsDirectory.path, "TESSERA_SITE": site.path],
                               currentDirectory: work)
        XCTAssertEqual(r.status, 64, r.output)
        XCTAssertTrue(r.stderr.contains("PREDICT_MAX_RUNNING=0"), r.stderr)
        let missing = try runCommand(Self.submit, [job.path, "--dry-run"],
                                     environment: ["TESSERA_BIN": TestEnvironment.productsDirectory.path,
                                                   "TESSERA_SITE": work.appendingPathComponent("nope.env").path],
                                     currentDirectory: work)
        XCTAssertEqual(missing.status, 64, missing.output)
        XCTAssertTrue(missing.stderr.contains("nope.env"), missing.stderr)
    }
}
