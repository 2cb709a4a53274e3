import Foundation
import TesseraTestSupport
import XCTest

/// MPI collectives and parallel HDF5 (MPI-IO) under a real `mpirun`, through tessera-mpi-check,
/// which verifies every value on every rank and aborts the job on any mismatch.
final class ParallelHDF5Tests: XCTestCase {
    func check(ranks: Int) throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "mpi")
        let result = try runMPI(ranks: ranks, TestEnvironment.executable("tessera-mpi-check"), ["--dir", dir.path])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.stdout.contains("OK: \(ranks) ranks"), result.output)
        // The test file is removed after the check.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    func testTwoRanks() throws { try check(ranks: 2) }
    func testFourRanksOversubscribed() throws { try check(ranks: 4) }

    /// One rank failing ends the whole job with its status, within seconds, instead of leaving the
    /// others waiting in a collective.
    func testOneFailingRankEndsTheJob() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "mpi")
        let start = Date()
        let result = try runMPI(ranks: 3, TestEnvironment.executable("tessera-mpi-check"),
                                ["--dir", dir.path, "--abort-on-rank", "1"], timeout: 60)
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("rank 1/3: fatal: failing on purpose"), result.output)
        XCTAssertLessThan(elapsed, 30, "the job took \(elapsed) s to end")
    }

    func testBadOptionsExitNonZeroWithAMessage() throws {
        let exe = TestEnvironment.executable("tessera-mpi-check")
        let bad = try runCommand(exe, ["--dir", "/nonexistent/folder"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("--dir /nonexistent/folder is not a folder"), bad.output)
        let help = try runCommand(exe, ["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("Examples:"))
    }
}
