import Foundation
import TesseraCore
import TesseraTestSupport
import XCTest

/// `tessera-tile` refuses absurd numbers, junk lists, misspelt job-file keys and unsafe manifests
/// before any work: options with exit 64 naming the option, manifests with exit 1 naming the line.
final class TileInputCheckTests: XCTestCase {
    var dir: URL!
    var manifest: URL!

    override func setUpWithError() throws {
        dir = try TestEnvironment.temporaryDirectory(self, "tile-input")
        try Data("x".utf8).write(to: dir.appendingPathComponent("a.svs"))
        manifest = dir.appendingPathComponent("manifest.csv")
        try Data("slide_path,slide_id,patient_id,label\na.svs,S1,P1,LUAD\n".utf8).write(to: manifest)
    }

    func tile(_ arguments: [String]) throws -> CommandResult {
        // A hang (a FIFO read, a resampler growing without end) fails the test instead of blocking it.
        try runCommand(TestEnvironment.executable("tessera-tile"), arguments, timeout: 60)
    }

    func testAbsurdNumbersAndJunkListsAreUsageErrors() throws {
        let cases: [(option: String, values: [String], message: String)] = [
            ("--mpp", ["inf", "1e300", "nan"], "--mpp must be a number in [0.025, 100]"),
            ("--magnification", ["1e-300", "inf"], "--magnification must be a number in [0.1, 400]"),
            ("--assume-mpp", ["inf"], "--assume-mpp must be a number in [0.025, 100]"),
            ("--split", ["0.7,0.15,0.15,junk", "0.7,,0.15,0.15", "nan,0.5,0.5"], "--split takes three fractions"),
            ("--classes", ["LUAD,LUSC,LUAD"], "--classes names LUAD twice"),
            ("--classes", ["LUAD,=cmd()"], "--classes: the name '=cmd()' starts with '='"),
            ("--threads", ["100000000"], "--threads must be 1…1024"),
        ]
        try assertUsageErrors(cases) { try tile(["--manifest", manifest.path, "--store", dir.appendingPathComponent("store").path] + $0) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("store").path), "no work started")
        let help = try tile(["--help"])
        XCTAssertTrue(help.stdout.contains("0.025…100") && help.stdout.contains("0.1…400"), help.stdout)
    }

    func testMisspeltJobFileKeyIsAUsageErrorNamingTheNearestKey() throws {
        let job = dir.appendingPathComponent("job.env")
        try Data("MANIFEST=\(manifest.path)\nSTORE=\(dir.appendingPathComponent("store").path)\nMAGNIFICATON=40\n".utf8).write(to: job)
        let r = try tile(["--job", job.path])
        XCTAssertEqual(r.status, 64, r.output)
        XCTAssertTrue(r.stderr.contains("\(job.path):3: unknown key MAGNIFICATON; did you mean MAGNIFICATION?"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("store").path), "no work started")
    }

    /// A FIFO named in the manifest is refused instead of blocking the tiler forever.
    func testFIFOInTheManifestIsRefusedWithoutHanging() throws {
        let fifo = dir.appendingPathComponent("fifo.svs").path
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        try Data("slide_path,slide_id,patient_id,label\nfifo.svs,S1,P1,LUAD\n".utf8).write(to: manifest)
        for extra in [[], ["--skip-missing"]] {
            let r = try tile(["--manifest", manifest.path, "--store", dir.appendingPathComponent("store").path, "--assume-mpp", "0.5"] + extra)
            XCTAssertEqual(r.status, 1, r.output)
            XCTAssertTrue(r.stderr.contains("line 2: slide file \(fifo) is a FIFO or other special file, not a regular file"), r.stderr)
        }
    }

    /// One slide file under two ids would put identical tiles in train and test: refused.
    func testTheSameSlideFileTwiceIsRefused() throws {
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("b.svs").path,
                                                   withDestinationPath: dir.appendingPathComponent("a.svs").path)
        try Data("slide_path,slide_id,patient_id,label\na.svs,S1,P1,LUAD\nb.svs,S2,P2,LUAD\n".utf8).write(to: manifest)
        let r = try tile(["--manifest", manifest.path, "--store", dir.appendingPathComponent("store").path])
        XCTAssertEqual(r.status, 1, r.output)
        XCTAssertTrue(r.stderr.contains("line 3: slide file") && r.stderr.contains("is the same file as line 2's"), r.stderr)
    }
}
