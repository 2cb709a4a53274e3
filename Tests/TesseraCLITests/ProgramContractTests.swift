import Foundation
import TesseraCore
import TesseraTestSupport
import XCTest

/// What every program and script promises on its command line: `--version` with the commit, and
/// usage errors exiting 64.
final class ProgramContractTests: XCTestCase {
    static let programs = ["tessera-tile", "tessera-train", "tessera-predict", "tessera-audit", "tessera-synth", "tessera-bench",
                           "tessera-mpi-check", "tessera-benchmark", "tessera-mil"]

    func testEveryProgramPrintsItsVersionAndCommit() throws {
        for program in Self.programs {
            let r = try runCommand(TestEnvironment.executable(program), ["--version"], timeout: 60)
            XCTAssertEqual(r.status, 0, "\(program): \(r.output)")
            XCTAssertEqual(r.stdout, "\(program) \(TesseraVersion.current)\n", program)
        }
    }

    /// The commit the build records is the checkout's (when built from a git checkout).
    func testTheRecordedCommitIsTheCheckedOutOne() throws {
        let root = TestEnvironment.packageRoot
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent(".git").path) else {
            XCTAssertEqual(TesseraVersion.commit, "unknown")
            return
        }
        let git = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["git", "-C", root.path, "rev-parse", "--short", "HEAD"])
        try XCTSkipIf(git.status != 0, "git cannot read this checkout: \(git.output)")
        let head = git.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(TesseraVersion.commit == head || TesseraVersion.commit == head + "-dirty",
                      "built from \(TesseraVersion.commit), checkout at \(head) (rebuild after committing)")
    }

    /// The typed options (parsed with Tessera's own messages) still show their defaults.
    func testTypedOptionsShowTheirDefaultsInHelp() throws {
        let train = try runCommand(TestEnvironment.executable("tessera-train"), ["--help"], timeout: 60)
        for text in ["(default: refnet-s)", "(default: sgd)", "(default: cosine)"] {
            XCTAssertTrue(train.stdout.contains(text), "tessera-train --help lacks \(text)")
        }
        let tile = try runCommand(TestEnvironment.executable("tessera-tile"), ["--help"], timeout: 60)
        XCTAssertTrue(tile.stdout.contains("(default: jpeg)"), tile.stdout)
        // The shared task options appear in both task programs.
        let predict = try runCommand(TestEnvironment.executable("tessera-predict"), ["predict", "--help"], timeout: 60)
        for help in [tile.stdout, predict.stdout] {
            for option in ["--job <job>", "--shard <shard>", "--shards <shards>", "--threads <threads>", "--strict", "--no-retry-failed", "--force"] {
                XCTAssertTrue(help.contains(option), "\(option) missing from:\n\(help)")
            }
        }
    }

    func testEveryProgramExits64OnAnUnknownOption() throws {
        for program in Self.programs {
            let r = try runCommand(TestEnvironment.executable(program), ["--no-such-option"], timeout: 60)
            XCTAssertEqual(r.status, 64, "\(program): \(r.output)")
            XCTAssertTrue(r.stderr.hasPrefix("Error: "), "\(program): \(r.stderr)")
        }
    }

    func testScriptsExit64OnUsageErrors() throws {
        let root = TestEnvironment.packageRoot
        let bash = URL(fileURLWithPath: "/bin/bash")
        let cases: [(String, [String], String)] = [
            ("Jobs/run-local", [], "Runs the whole Tessera pipeline"),
            ("Jobs/run-local", ["Jobs/demo.env", "--bogus"], "run-local: unknown option --bogus"),
            ("Jobs/run-local", ["Jobs/demo.env", "--from", "merge"], "--from takes tile, train, predict or mil"),
            ("Jobs/run-local", ["Jobs/demo.env", "--from"], "--from needs tile, train, predict or mil"),
            ("Slurm/submit", ["Jobs/demo.env", "--from"], "--from needs tile, train, predict or merge"),
            ("Slurm/submit", [], "Submits the whole Tessera pipeline"),
            ("Slurm/submit", ["Jobs/demo.env", "--bogus"], "submit: unknown option --bogus"),
            ("Slurm/submit", ["/nonexistent.env"], "submit: job file /nonexistent.env is not readable"),
            ("Jobs/test", ["nosuchtier"], "Jobs/test: unknown tier 'nosuchtier'"),
        ]
        for (script, arguments, message) in cases {
            let r = try runCommand(bash, [root.appendingPathComponent(script).path] + arguments, currentDirectory: root, timeout: 60)
            XCTAssertEqual(r.status, 64, "\(script) \(arguments): \(r.output)")
            XCTAssertTrue(r.stderr.localizedCaseInsensitiveContains(message), "\(script) \(arguments): \(r.stderr)")
        }
    }

    /// The local Slurm is test infrastructure: it lives with the tests, and `Slurm/` holds what users run.
    func testLocalClusterLivesWithTheTests() {
        let root = TestEnvironment.packageRoot
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: root.appendingPathComponent("Tests/Slurm/local-cluster").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("Slurm/local-cluster").path))
    }
}
