import Foundation
import TesseraCore
import TesseraTestSupport
import TileStore
import XCTest

/// The whole pipeline through real `sbatch` on a local single-node Slurm: Slurm/submit on a job
/// file, tile array → train (2 MPI ranks) → predict array → merge, then every output checked.
final class PipelineOnSlurmTests: XCTestCase {
    /// A small synthetic cohort shared by the tests (6 patients, 1024² slides) and a work folder.
    nonisolated(unsafe) static var cohortDir: URL?

    static func cohort() throws -> URL {
        if let cohortDir { return cohortDir }
        let dir = URL(fileURLWithPath: "/tmp/tessera-slurm-pipeline-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let r = try runCommand(TestEnvironment.executable("tessera-synth"),
                               ["--out", dir.appendingPathComponent("cohort").path, "--patients", "6", "--width", "1024",
                                "--height", "1024", "--seed", "5", "--tile-size", "256"])
        guard r.status == 0 else { throw TesseraError.io(path: dir.path, message: r.output, hint: "") }
        cohortDir = dir.appendingPathComponent("cohort")
        return cohortDir!
    }

    override class func tearDown() {
        if let dir = cohortDir { try? FileManager.default.removeItem(at: dir.deletingLastPathComponent()) }
        super.tearDown()
    }

    /// A job file for a run in `work`: small tiles and inputs so a debug build trains in seconds.
    func jobFile(in work: URL, manifest: URL) throws -> URL {
        try SmallJobFile.write(in: work, manifest: manifest, [
            ("TILE_SHARDS", "3"), ("EPOCHS", "2"), ("RANKS", "2"), ("PREDICT_SHARDS", "2"), ("PREDICT_THREADS", "2"), ("HEATMAPS", "1"),
            ("TILE_SCORES", "1"),
        ])
    }

    /// Runs Slurm/submit in `work` and returns the four job ids by stage.
    func submit(_ job: URL, in work: URL, slurm: LocalSlurm) throws -> [String: Int] {
        let r = try runCommand(TestEnvironment.packageRoot.appendingPathComponent("Slurm/submit"), [job.path],
                               environment: slurm.environment.merging(["TESSERA_BIN": TestEnvironment.productsDirectory.path]) { $1 },
                               currentDirectory: work)
        XCTAssertEqual(r.status, 0, r.output)
        guard let line = r.stdout.split(separator: "\n").first(where: { $0.hasPrefix("submitted ") }) else {
            throw TesseraError.io(path: work.path, message: "no job ids in:\n\(r.output)", hint: "")
        }
        var ids: [String: Int] = [:]
        for pair in line.dropFirst("submitted ".count).split(separator: " ") {
            let kv = pair.split(separator: "=")
            ids[String(kv[0])] = Int(kv[1])
        }
        XCTAssertEqual(Set(ids.keys), ["tile", "train", "predict", "merge"], r.output)
        return ids
    }

    func logs(_ work: URL) -> String {
        let dir = work.appendingPathComponent("logs")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted().map { name in
            "--- \(name)\n" + ((try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)) ?? "")
        }.joined(separator: "\n")
    }

    func testDemoPipelineThroughSbatch() throws {
        let slurm = try LocalSlurm.shared()
        let cohort = try Self.cohort()
        let work = try TestEnvironment.temporaryDirectory(self, "slurm-pipeline")
        let job = try jobFile(in: work, manifest: cohort.appendingPathComponent("manifest.csv"))
        let ids = try submit(job, in: work, slurm: slurm)
        let jobs = try slurm.waitForJobs(Array(ids.values), timeout: 600)
        // Every task of every stage completed with exit code 0: 3 tile tasks, train, 2 predict tasks, merge.
        XCTAssertEqual(jobs.count, 7, "\(jobs)\n\(logs(work))")
        for j in jobs { XCTAssertEqual(j.state, .completed, "\(j)\n\(logs(work))"); XCTAssertEqual(j.exitCode, 0, "\(j)") }
        XCTAssertEqual(jobs.filter { $0.arrayJobID == ids["tile"] }.compactMap(\.arrayTaskID).sorted(), [0, 1, 2])

        // Logs named %x-%A_%a.
        let names = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("logs").path)
        XCTAssertTrue(names.contains("tessera-tile-e2e-\(ids["tile"]!)_2.out"), "\(names)")
        XCTAssertTrue(names.contains("tessera-train-e2e-\(ids["train"]!).out"), "\(names)")
        // The store passes the audit; training used 2 ranks; predictions cover every test slide.
        let audit = try runCommand(TestEnvironment.executable("tessera-audit"), [work.appendingPathComponent("store").path])
        XCTAssertEqual(audit.status, 0, audit.output)
        let trainLog = try String(contentsOf: work.appendingPathComponent("logs/tessera-train-e2e-\(ids["train"]!).out"), encoding: .utf8)
        XCTAssertTrue(trainLog.contains("2 ranks × batch 8"), trainLog)
        XCTAssertTrue(FileManager.default.fileExists(atPath: work.appendingPathComponent("run/model.tsm").path))
        // PREDICT_THREADS=2 reached both prediction tasks (--cpus-per-task → --threads).
        for task in 0..<2 {
            let log = try String(contentsOf: work.appendingPathComponent("logs/tessera-predict-e2e-\(ids["predict"]!)_\(task).out"), encoding: .utf8)
            XCTAssertTrue(log.contains(", 2 threads (OpenBLAS"), log)
        }
        let testSlides = TileStoreLayout.storeFiles(in: work.appendingPathComponent("store"), split: "test")
            .map { $0.deletingPathExtension().lastPathComponent }.sorted()
        XCTAssertFalse(testSlides.isEmpty)
        let slides = try CSV.parse(String(contentsOf: work.appendingPathComponent("predictions/slides.csv"), encoding: .utf8))
        XCTAssertEqual(slides.first?.fields.first, "slide_id")
        XCTAssertEqual(slides.dropFirst().map { $0.fields[0] }, testSlides)
        for name in ["patients.csv", "tiles.csv", "report.md", "report.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: work.appendingPathComponent("predictions/\(name)").path), name)
        }
        let heatmaps = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("predictions/heatmaps").path)
        XCTAssertEqual(heatmaps.count, testSlides.count, "\(heatmaps)")
    }

    /// A corrupt slide in the manifest: the tiler reports and skips it, the pipeline completes.
    func testCorruptSlideIsReportedAndThePipelineCompletes() throws {
        let slurm = try LocalSlurm.shared()
        let cohort = try Self.cohort()
        let work = try TestEnvironment.temporaryDirectory(self, "slurm-corrupt")
        var manifest = try String(contentsOf: cohort.appendingPathComponent("manifest.csv"), encoding: .utf8)
        // A file that is not a slide (like the real broken.svs: text under a slide's name), made here
        // so the test needs no real slides.
        let broken = work.appendingPathComponent("broken.svs")
        try Data("U2xpZGUgZGF0YSBsb3N0Cg==\n".utf8).write(to: broken)
        manifest += "\(broken.path),TCGA-SY-0099-01A-01-TS1,TCGA-SY-0099,LUAD\n"
        let manifestURL = work.appendingPathComponent("manifest.csv")
        // Relative slide paths resolve against the manifest's folder: point them at the cohort.
        manifest = manifest.replacingOccurrences(of: "\nslides/", with: "\n\(cohort.path)/slides/")
        try manifest.write(to: manifestURL, atomically: true, encoding: .utf8)
        let ids = try submit(try jobFile(in: work, manifest: manifestURL), in: work, slurm: slurm)
        let jobs = try slurm.waitForJobs(Array(ids.values), timeout: 600)
        for j in jobs { XCTAssertEqual(j.state, .completed, "\(j)\n\(logs(work))") }
        let failures = TileStoreLayout.failuresFolder
        let files = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("store/\(failures)").path)
        let text = try files.map { try String(contentsOf: work.appendingPathComponent("store/\(failures)/\($0)"), encoding: .utf8) }.joined()
        XCTAssertTrue(text.contains("TCGA-SY-0099-01A-01-TS1") && text.contains("not a supported slide"), text)
        XCTAssertTrue(logs(work).contains("some slides failed"), logs(work))
        // COMPLETED, yet flagged where admins look: the tile task that skipped the slide and the
        // final merge job carry it in their Slurm comment.
        func comment(_ id: String) throws -> String {
            let r = try slurm.run("scontrol", ["show", "job", id])
            return r.stdout.split(separator: "\n").first { $0.contains("Comment=") }.map(String.init) ?? r.output
        }
        let tileComments = try jobs.filter { $0.arrayJobID == ids["tile"] }.map { try comment($0.displayID) }
        XCTAssertEqual(tileComments.filter { $0.contains("Comment=tessera: some slides failed in tiling") }.count, 1, "\(tileComments)")
        let mergeComment = try comment("\(ids["merge"]!)")
        XCTAssertTrue(mergeComment.contains("Comment=tessera: failed slides: 1 in tiling"), mergeComment)
    }

    /// A tiling task cancelled mid-run and submitted again resumes: the store holds each tile once,
    /// the same tiles as a run that was never interrupted.
    func testCancelledTileTaskResumesWithoutDuplicates() throws {
        let slurm = try LocalSlurm.shared()
        let cohort = try Self.cohort()
        let work = try TestEnvironment.temporaryDirectory(self, "slurm-resume")
        let job = try jobFile(in: work, manifest: cohort.appendingPathComponent("manifest.csv"))
        // One task doing every slide, so there is time to cancel it between slides.
        let body = try String(contentsOf: job, encoding: .utf8).replacingOccurrences(of: "TILE_SHARDS=3", with: "TILE_SHARDS=1")
        try body.write(to: job, atomically: true, encoding: .utf8)
        let script = TestEnvironment.packageRoot.appendingPathComponent("Slurm/tile.sbatch")
        try FileManager.default.createDirectory(at: work.appendingPathComponent("logs"), withIntermediateDirectories: true)
        let arguments = ["--array=0-0", "--chdir=\(work.path)",
                         "--export=ALL,TESSERA_JOB=\(job.path),TESSERA_BIN=\(TestEnvironment.productsDirectory.path),TESSERA_SCRIPTS=\(script.deletingLastPathComponent().path)"]
        let first = try slurm.submit(script: try String(contentsOf: script, encoding: .utf8), arguments: arguments)
        let status = work.appendingPathComponent("store/status/task-0000-of-0001.json")
        let deadline = Date().addingTimeInterval(300)
        var cancelledMidway = false
        while Date() < deadline {
            if let data = try? Data(contentsOf: status), let text = String(data: data, encoding: .utf8),
               text.contains("\"state\" : \"done\""), !text.contains("\"complete\" : true") {
                try slurm.cancel([first])
                cancelledMidway = true
                break
            }
            if let j = try slurm.jobState(first), j.state.isTerminal { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTAssertTrue(cancelledMidway, "the tiling task finished before it could be cancelled")
        let cancelled = try slurm.waitForJobs([first], timeout: 60)
        XCTAssertEqual(cancelled.first?.state, .cancelled, "\(cancelled)")
        let second = try slurm.submit(script: try String(contentsOf: script, encoding: .utf8), arguments: arguments)
        let done = try slurm.waitForJobs([second], timeout: 300)
        XCTAssertEqual(done.first?.state, .completed, "\(done)\n\(logs(work))")
        XCTAssertTrue(logs(work).contains("resuming: "), logs(work))

        // The same tiles as an uninterrupted run, each once (the audit refuses duplicates).
        let reference = work.appendingPathComponent("reference")
        let r = try runCommand(TestEnvironment.executable("tessera-tile"), ["--job", job.path, "--store", reference.path], currentDirectory: work)
        XCTAssertEqual(r.status, 0, r.output)
        func tiles(_ store: URL) throws -> [String: Int] {
            var out: [String: Int] = [:]
            for url in TileStoreLayout.storeFiles(in: store) {
                let reader = try TileStoreReader(url: url)
                for s in reader.slides { out[s.slideID, default: 0] += s.tilesKept }
                try reader.close()
            }
            return out
        }
        XCTAssertEqual(try tiles(work.appendingPathComponent("store")), try tiles(reference))
        let audit = try runCommand(TestEnvironment.executable("tessera-audit"), [work.appendingPathComponent("store").path])
        XCTAssertEqual(audit.status, 0, audit.output)
    }
}
