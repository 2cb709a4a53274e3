import Foundation
import TesseraCore
import TesseraTestSupport
import XCTest

/// `Jobs/run-local`, the launcher for workstations: its exit status shows failed slides, and a
/// signal to it stops the shards it started.
final class RunLocalTests: XCTestCase {
    static let script = TestEnvironment.packageRoot.appendingPathComponent("Jobs/run-local")

    /// A cohort of `patients` synthetic patients and a job file for a run in `work`.
    func job(in work: URL, patients: Int, size: Int, extraManifestLine: String? = nil, tileShards: Int = 1,
             settings: [(String, String)] = []) throws -> URL {
        let cohort = work.appendingPathComponent("cohort")
        let synth = try runCommand(TestEnvironment.executable("tessera-synth"),
                                   ["--out", cohort.path, "--patients", "\(patients)", "--width", "\(size)",
                                    "--height", "\(size)", "--seed", "11", "--tile-size", "256"])
        XCTAssertEqual(synth.status, 0, synth.output)
        var manifest = try String(contentsOf: cohort.appendingPathComponent("manifest.csv"), encoding: .utf8)
        manifest = manifest.replacingOccurrences(of: "\nslides/", with: "\n\(cohort.path)/slides/")
        if let extraManifestLine { manifest += extraManifestLine + "\n" }
        let manifestURL = work.appendingPathComponent("manifest.csv")
        try manifest.write(to: manifestURL, atomically: true, encoding: .utf8)
        return try SmallJobFile.write(in: work, manifest: manifestURL, [("NAME", "local"), ("TILE_SHARDS", "\(tileShards)")] + settings)
    }

    var environment: [String: String?] { ["TESSERA_BIN": TestEnvironment.productsDirectory.path] }

    /// A slide that cannot be tiled: the pipeline completes, but run-local exits 3 and names the
    /// failures, unless --allow-failed-slides.
    func testFailedSlidesMakeTheExitStatusNonZero() throws {
        let work = try TestEnvironment.temporaryDirectory(self, "launcher-failed")
        let broken = work.appendingPathComponent("broken.svs")
        try Data("not a slide\n".utf8).write(to: broken)
        let job = try job(in: work, patients: 6, size: 1024,
                          extraManifestLine: "\(broken.path),TCGA-SY-0099-01A-01-TS1,TCGA-SY-0099,LUAD")
        let r = try runCommand(Self.script, [job.path], environment: environment, currentDirectory: work)
        XCTAssertEqual(r.status, 3, r.output)
        XCTAssertTrue(r.stderr.contains("failed slides: 1 in tiling"), r.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: work.appendingPathComponent("predictions/slides.csv").path), r.output)

        // Run again (every stage resumes as complete): the model is kept byte for byte, so the
        // prediction tasks accept it, and the failure is still reported.
        let model = try Data(contentsOf: work.appendingPathComponent("run/model.tsm"))
        let allowed = try runCommand(Self.script, [job.path, "--allow-failed-slides"], environment: environment, currentDirectory: work)
        XCTAssertEqual(allowed.status, 0, allowed.output)
        XCTAssertTrue(allowed.stderr.contains("failed slides: 1 in tiling"), allowed.output)
        XCTAssertEqual(try Data(contentsOf: work.appendingPathComponent("run/model.tsm")), model, allowed.output)
    }

    /// Every slide through: exit 0 and no failure summary. The job file's PREDICT_THREADS reaches
    /// the prediction tasks (each logs its threads), two shards run one at a time (PREDICT_MAX_RUNNING).
    func testCleanRunExitsZero() throws {
        let work = try TestEnvironment.temporaryDirectory(self, "launcher-clean")
        let job = try job(in: work, patients: 6, size: 1024,
                          settings: [("PREDICT_SHARDS", "2"), ("PREDICT_THREADS", "2"), ("PREDICT_MAX_RUNNING", "1")])
        let r = try runCommand(Self.script, [job.path], environment: environment, currentDirectory: work)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertFalse(r.output.contains("failed slides"), r.output)
        XCTAssertTrue(r.stdout.contains("== predict: 2 shards × 2 threads"), r.stdout)
        let taskLines = r.stderr.split(separator: "\n").filter { $0.contains("tessera-predict[") && $0.contains(" slides from ") }
        XCTAssertEqual(taskLines.count, 2, r.stderr)
        for line in taskLines { XCTAssertTrue(line.contains(", 2 threads (OpenBLAS"), String(line)) }
        // One shard at a time: the second task's first line comes after the first task's last.
        let lines = r.stderr.split(separator: "\n")
        let firstDone = lines.firstIndex { $0.contains("tessera-predict[0/2]") && $0.contains("done") }
        let secondStart = lines.firstIndex { $0.contains("tessera-predict[1/2]") }
        XCTAssertNotNil(firstDone, r.stderr)
        XCTAssertNotNil(secondStart, r.stderr)
        if let firstDone, let secondStart { XCTAssertLessThan(firstDone, secondStart, r.stderr) }
    }

    /// MIL=1 from the job file: after training, the embedding shards, the MIL stage and a second
    /// merge run, and the ABMIL predictions join slides.csv beside mean and vote, with an attention
    /// heatmap per predicted slide.
    func testMILStageRunsFromTheJobFileAndJoinsTheSlideCSV() throws {
        let work = try TestEnvironment.temporaryDirectory(self, "launcher-mil")
        let job = try job(in: work, patients: 6, size: 1024, settings: [
            ("MIL", "1"), ("FEATURES", "features"), ("MIL_RUN", "mil"), ("MIL_EPOCHS", "3"), ("HEATMAPS", "1"), ("PREDICT_SHARDS", "2"),
        ])
        let r = try runCommand(Self.script, [job.path], environment: environment, currentDirectory: work)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.stdout.contains("== merge: ABMIL predictions and attention into"), r.stdout)
        try MILOutputCheck.verify(predictions: work.appendingPathComponent("predictions"), mil: work.appendingPathComponent("mil"))
    }

    /// PIDs of running processes whose command line mentions `text`.
    static func processes(mentioning text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard pid != getpid(), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
                  let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                  !status.contains("State:\tZ") else { return false }
            let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return line.contains(text) && !line.contains("Jobs/run-local")
        }
    }

    /// SIGTERM to run-local while its tiling shards run: every shard is stopped with it.
    func testTerminatingRunLocalStopsItsShards() throws {
        let work = try TestEnvironment.temporaryDirectory(self, "launcher-term")
        let job = try job(in: work, patients: 6, size: 2048, tileShards: 2)
        let process = Process()
        process.executableURL = Self.script
        process.arguments = [job.path]
        process.currentDirectoryURL = work
        var env = ProcessInfo.processInfo.environment
        env["TESSERA_BIN"] = TestEnvironment.productsDirectory.path
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { for pid in Self.processes(mentioning: job.path) { kill(pid, SIGKILL) } }

        // Wait until both tiling shards run.
        let started = Date()
        var shards: [Int32] = []
        while Date().timeIntervalSince(started) < 120 && process.isRunning {
            shards = Self.processes(mentioning: job.path)
            if shards.count >= 2 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertGreaterThanOrEqual(shards.count, 2, "the shards never ran together")
        kill(process.processIdentifier, SIGTERM)
        let stopAt = Date().addingTimeInterval(20)
        while process.isRunning && Date() < stopAt { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertFalse(process.isRunning, "run-local did not end on SIGTERM")
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 143)
        var left = Self.processes(mentioning: job.path)
        let gone = Date().addingTimeInterval(10)
        while !left.isEmpty && Date() < gone { Thread.sleep(forTimeInterval: 0.05); left = Self.processes(mentioning: job.path) }
        XCTAssertEqual(left, [], "shards still running after run-local ended")
    }
}
