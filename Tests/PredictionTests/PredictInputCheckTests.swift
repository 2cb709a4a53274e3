import Foundation
import TesseraCore
import TesseraTestSupport
import XCTest

/// `tessera-predict --manifest` refuses what would hang it or fail late: a FIFO among the slides,
/// a non-finite --assume-mpp, a misspelt job-file key.
final class PredictInputCheckTests: XCTestCase {
    func predict(_ args: [String]) throws -> CommandResult {
        try runCommand(TestEnvironment.executable("tessera-predict"), args + ["--threads", "1", "--bootstrap", "0"], timeout: 120)
    }

    func testOptionsAndJobKeysAreCheckedBeforeAnyWork() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "predict-input")
        let model = dir.appendingPathComponent("model.tsm"), manifest = dir.appendingPathComponent("m.csv")
        try Data("not read".utf8).write(to: model)
        try Data("slide_path\nx.svs\n".utf8).write(to: manifest)
        let out = dir.appendingPathComponent("out").path
        let inf = try predict(["--model", model.path, "--manifest", manifest.path, "--out", out, "--assume-mpp", "inf"])
        XCTAssertEqual(inf.status, 64, inf.output)
        XCTAssertTrue(inf.stderr.contains("--assume-mpp must be a number in [0.025, 100]"), inf.stderr)
        let job = dir.appendingPathComponent("job.env")
        try Data("RUN=\(dir.path)\nPREDICTIONS=\(out)\nHEATMAP=1\n".utf8).write(to: job)
        for subcommand in [[], ["merge"]] {
            let r = try runCommand(TestEnvironment.executable("tessera-predict"), subcommand + ["--job", job.path])
            XCTAssertEqual(r.status, 64, "\(subcommand): \(r.output)")
            XCTAssertTrue(r.stderr.contains("\(job.path):3: unknown key HEATMAP; did you mean HEATMAPS?"), "\(subcommand): \(r.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no work started")
    }
}

/// On the shared pipeline fixture (a real model), whose tear-down PredictorEndToEndTests owns.
extension PredictorEndToEndTests {
    /// A FIFO among the slides is refused instead of blocking the reader forever.
    func testFIFOInTheManifestIsRefusedWithoutHanging() throws {
        let f = try PredictionFixture.shared()
        let dir = try TestEnvironment.temporaryDirectory(self, "predict-fifo")
        let fifo = dir.appendingPathComponent("fifo.svs").path
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        let manifest = dir.appendingPathComponent("m.csv")
        try Data("slide_path,slide_id,patient_id,label\nfifo.svs,S1,P1,LUAD\n".utf8).write(to: manifest)
        for extra in [[], ["--skip-missing"]] {
            // A hang fails the test (timeout) instead of blocking it.
            let r = try runCommand(TestEnvironment.executable("tessera-predict"),
                                   ["--model", f.model.path, "--manifest", manifest.path, "--out", dir.appendingPathComponent("out").path,
                                    "--assume-mpp", "0.5", "--threads", "1"] + extra, timeout: 120)
            XCTAssertEqual(r.status, 1, "\(extra): \(r.output)")
            XCTAssertTrue(r.stderr.contains("line 2: slide file \(fifo) is a FIFO or other special file, not a regular file"), r.stderr)
        }
    }
}
