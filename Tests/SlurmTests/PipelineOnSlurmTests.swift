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
        cohortDir = try SlurmPipeline.makeCohort(in: dir)
        return cohortDir!
    }

    override class func tearDown() {
        if let dir = cohortDir { try? FileManager.default.removeItem(at: dir.deletingLastPathComponent()) }
        super.tearDown()
    }

    func testDemoPipelineThroughSbatch() throws {
        let pipeline = SlurmPipeline(slurm: try LocalSlurm.shared(), work: try TestEnvironment.temporaryDirectory(self, "slurm-pipeline"))
        let ids = try pipeline.submit(try pipeline.jobFile(manifest: try Self.cohort().appendingPathComponent("manifest.csv")))
        try pipeline.waitAndCheckOutputs(ids)
    }

    /// MIL=1 through Slurm/submit: the embedding array and the MIL job chained after training, the
    /// merge after both; every task completes and the ABMIL predictions join slides.csv.
    func testMILStageChainedAfterTrainingThroughSbatch() throws {
        let pipeline = SlurmPipeline(slurm: try LocalSlurm.shared(), work: try TestEnvironment.temporaryDirectory(self, "slurm-mil"))
        let job = try pipeline.jobFile(manifest: try Self.cohort().appendingPathComponent("manifest.csv"), [
            ("MIL", "1"), ("FEATURES", "features"), ("MIL_RUN", "mil"), ("MIL_EPOCHS", "3"),
        ])
        let ids = try pipeline.submit(job, stages: ["tile", "train", "embed", "mil", "predict", "merge"])
        let jobs = try pipeline.slurm.waitForJobs(Array(ids.values), timeout: 900)
        // 3 tile tasks, train, 2 embedding tasks, MIL, 2 prediction tasks, merge.
        XCTAssertEqual(jobs.count, 10, "\(jobs)\n\(pipeline.logs())")
        for j in jobs { XCTAssertEqual(j.state, .completed, "\(j)\n\(pipeline.logs())") }
        try MILOutputCheck.verify(predictions: pipeline.work.appendingPathComponent("predictions"),
                                  mil: pipeline.work.appendingPathComponent("mil"))
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
        let pipeline = SlurmPipeline(slurm: slurm, work: work)
        let ids = try pipeline.submit(try pipeline.jobFile(manifest: manifestURL))
        let jobs = try slurm.waitForJobs(Array(ids.values), timeout: 600)
        for j in jobs { XCTAssertEqual(j.state, .completed, "\(j)\n\(pipeline.logs())") }
        let failures = TileStoreLayout.failuresFolder
        let files = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("store/\(failures)").path)
        let text = try files.map { try String(contentsOf: work.appendingPathComponent("store/\(failures)/\($0)"), encoding: .utf8) }.joined()
        XCTAssertTrue(text.contains("TCGA-SY-0099-01A-01-TS1") && text.contains("not a supported slide"), text)
        XCTAssertTrue(pipeline.logs().contains("some slides failed"), pipeline.logs())
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
        let pipeline = SlurmPipeline(slurm: slurm, work: work)
        let job = try pipeline.jobFile(manifest: cohort.appendingPathComponent("manifest.csv"))
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
        XCTAssertEqual(done.first?.state, .completed, "\(done)\n\(pipeline.logs())")
        XCTAssertTrue(pipeline.logs().contains("resuming: "), pipeline.logs())

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
