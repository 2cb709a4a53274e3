import Foundation
import TesseraCore
import TesseraTestSupport
import TileStore
import XCTest

/// The demo pipeline submitted with `Slurm/submit` to a local Slurm (one node or two), and the
/// checks of its outputs that every such test makes.
struct SlurmPipeline {
    let slurm: LocalSlurm
    /// The folder the pipeline runs in (job file, store, run, predictions, logs).
    let work: URL

    /// A small synthetic cohort (6 patients, 1024² slides) in `folder`.
    static func makeCohort(in folder: URL) throws -> URL {
        let cohort = folder.appendingPathComponent("cohort")
        let r = try runCommand(TestEnvironment.executable("tessera-synth"),
                               ["--out", cohort.path, "--patients", "6", "--width", "1024", "--height", "1024", "--seed", "5",
                                "--tile-size", "256"])
        guard r.status == 0 else { throw TesseraError.io(path: folder.path, message: r.output, hint: "") }
        return cohort
    }

    /// A job file for a run in `work`: small tiles and inputs so a debug build trains in seconds.
    func jobFile(manifest: URL, _ extra: [(String, String)] = []) throws -> URL {
        try SmallJobFile.write(in: work, manifest: manifest, [
            ("TILE_SHARDS", "3"), ("EPOCHS", "2"), ("RANKS", "2"), ("PREDICT_SHARDS", "2"), ("PREDICT_THREADS", "2"), ("HEATMAPS", "1"),
            ("TILE_SCORES", "1"),
        ] + extra)
    }

    /// Runs Slurm/submit in `work` and returns the job ids by stage (`stages`: the four, or six with MIL=1).
    func submit(_ job: URL, stages: Set<String> = ["tile", "train", "predict", "merge"]) throws -> [String: Int] {
        let r = try runCommand(TestEnvironment.packageRoot.appendingPathComponent("Slurm/submit"), [job.path],
                               environment: slurm.environment.merging(["TESSERA_BIN": TestEnvironment.productsDirectory.path]) { $1 },
                               currentDirectory: work)
        XCTAssertEqual(r.status, 0, r.output)
        guard let ids = Self.jobIDs(submitOutput: r.stdout)?.compactMapValues({ Int($0) }) else {
            throw TesseraError.io(path: work.path, message: "no job ids in:\n\(r.output)", hint: "")
        }
        XCTAssertEqual(Set(ids.keys), stages, r.output)
        return ids
    }

    /// The job ids by stage from Slurm/submit's `submitted tile=12 train=13 …` line (dry runs print
    /// made-up ids); nil without that line.
    static func jobIDs(submitOutput: String) -> [String: String]? {
        guard let line = submitOutput.split(separator: "\n").first(where: { $0.hasPrefix("submitted ") }) else { return nil }
        var ids: [String: String] = [:]
        for pair in line.dropFirst("submitted ".count).split(separator: " ") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { ids[String(kv[0])] = String(kv[1]) }
        }
        return ids
    }

    /// Every log of the run, for failure messages.
    func logs() -> String {
        let dir = work.appendingPathComponent("logs")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted().map { name in
            "--- \(name)\n" + log(name)
        }.joined(separator: "\n")
    }

    func log(_ name: String) -> String {
        (try? String(contentsOf: work.appendingPathComponent("logs").appendingPathComponent(name), encoding: .utf8)) ?? ""
    }

    /// Waits for the pipeline and checks what the single-node test always checked: every task of
    /// every stage completed (3 tile tasks, train, 2 predict tasks, merge), logs named %x-%A_%a,
    /// the store passes the audit, training ran 2 ranks, PREDICT_THREADS reached both prediction
    /// tasks, and the predictions cover every test slide with CSVs, report and heatmaps. Returns the
    /// job records.
    @discardableResult
    func waitAndCheckOutputs(_ ids: [String: Int], file: StaticString = #filePath, line: UInt = #line) throws -> [SlurmJob] {
        let jobs = try slurm.waitForJobs(Array(ids.values), timeout: 600)
        XCTAssertEqual(jobs.count, 7, "\(jobs)\n\(logs())", file: file, line: line)
        for j in jobs {
            XCTAssertEqual(j.state, .completed, "\(j)\n\(logs())", file: file, line: line)
            XCTAssertEqual(j.exitCode, 0, "\(j)", file: file, line: line)
        }
        XCTAssertEqual(jobs.filter { $0.arrayJobID == ids["tile"] }.compactMap(\.arrayTaskID).sorted(), [0, 1, 2], file: file, line: line)

        let names = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("logs").path)
        XCTAssertTrue(names.contains("tessera-tile-e2e-\(ids["tile"]!)_2.out"), "\(names)", file: file, line: line)
        XCTAssertTrue(names.contains("tessera-train-e2e-\(ids["train"]!).out"), "\(names)", file: file, line: line)
        let audit = try runCommand(TestEnvironment.executable("tessera-audit"), [work.appendingPathComponent("store").path])
        XCTAssertEqual(audit.status, 0, audit.output, file: file, line: line)
        let trainLog = log("tessera-train-e2e-\(ids["train"]!).out")
        XCTAssertTrue(trainLog.contains("2 ranks × batch 8"), trainLog, file: file, line: line)
        XCTAssertTrue(FileManager.default.fileExists(atPath: work.appendingPathComponent("run/model.tsm").path), file: file, line: line)
        // PREDICT_THREADS=2 reached both prediction tasks (--cpus-per-task → --threads).
        for task in 0..<2 {
            let text = log("tessera-predict-e2e-\(ids["predict"]!)_\(task).out")
            XCTAssertTrue(text.contains(", 2 threads (OpenBLAS"), text, file: file, line: line)
        }
        let testSlides = TileStoreLayout.storeFiles(in: work.appendingPathComponent("store"), split: "test")
            .map { $0.deletingPathExtension().lastPathComponent }.sorted()
        XCTAssertFalse(testSlides.isEmpty, file: file, line: line)
        let slides = try CSV.parse(String(contentsOf: work.appendingPathComponent("predictions/slides.csv"), encoding: .utf8))
        XCTAssertEqual(slides.first?.fields.first, "slide_id", file: file, line: line)
        XCTAssertEqual(slides.dropFirst().map { $0.fields[0] }, testSlides, file: file, line: line)
        for name in ["patients.csv", "tiles.csv", "report.md", "report.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: work.appendingPathComponent("predictions/\(name)").path), name,
                          file: file, line: line)
        }
        let heatmaps = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("predictions/heatmaps").path)
        XCTAssertEqual(heatmaps.count, testSlides.count, "\(heatmaps)", file: file, line: line)
        return jobs
    }
}
