import Foundation
import TesseraCore
import TesseraTestSupport
import TileStore
import XCTest

/// The built `tessera-audit`: its output, its JSON, and its exit codes (0 clean, 1 problems,
/// 64 usage errors).
final class TesseraAuditCommandTests: XCTestCase {
    let exe = TestEnvironment.executable("tessera-audit")

    func testCleanStoreExitsZeroWithATable() throws {
        let store = try TestEnvironment.temporaryDirectory(self, "store")
        try StoreFixtures.writeCleanStore(store)
        let json = store.appendingPathComponent("audit.json")
        let result = try runCommand(exe, [store.path, "--json", json.path, "--workers", "2"])
        XCTAssertEqual(result.status, 0, result.output)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(Array(lines.prefix(2)), [
            "Store \(store.path): 5 files (2 train, 1 validation, 2 test)",
            "Tiles: 16×16 px, jpeg, 0.5 µm/px; classes: LUAD, LUSC",
        ])
        XCTAssertEqual(Array(lines[3...7]), [
            "split       files  slides  patients  tiles  LUAD  LUSC  unlabelled  no tiles  tiles/slide min  median  mean  max",
            "train           2       4         3      9     5     4           0         1                0     2.5   2.2    4",
            "validation      1       1         1      2     0     2           0         0                2       2   2.0    2",
            "test            2       2         2      4     1     3           0         0                1       2   2.0    3",
            "total           5       7         6     15     6     9           0         1                0       2   2.1    4",
        ])
        XCTAssertEqual(lines.suffix(2), ["OK: 5 files, 15 tiles checked, no problems", ""])
        // Progress goes to standard error, as log lines.
        XCTAssertTrue(result.stderr.contains("tessera-audit checking tile pixels: 15/15 tiles (100.0%)"), result.stderr)

        let report = try JSONKeyStyle.snakeCase.decoder().decode(StoreAuditReport.self, from: Data(contentsOf: json))
        XCTAssertTrue(report.passed)
        XCTAssertEqual(report.split("total")?.tiles, 15)
        XCTAssertEqual(report.tilesChecked, 15)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any]
        XCTAssertEqual(object?["passed"] as? Bool, true)
        XCTAssertEqual((object?["problems"] as? [Any])?.count, 0)
        XCTAssertEqual(object?["tiles_checked"] as? Int, 15, "snake_case keys, as report.json")
    }

    func testProblemsExitOneAndNameTheirFiles() throws {
        let store = try TestEnvironment.temporaryDirectory(self, "store")
        try StoreFixtures.writeCleanStore(store)
        try Data("not HDF5".utf8).write(to: store.appendingPathComponent("train/part-0002-of-0003.h5"))
        try StoreFixtures.writeJPEGFile(store.appendingPathComponent("test/X3.h5"), split: "test",
                                        slides: [(StoreFixtures.slide("X1", patient: "P5"), 1)], seedBase: 50)
        let json = store.appendingPathComponent("audit.json")
        let result = try runCommand(exe, [store.path, "--json", json.path, "--no-pixels"])
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(result.stdout.contains("""
            Problems (3):
              train/part-0002-of-0003.h5: [unreadable-file] cannot open as an HDF5 file: not an HDF5 file
              test/X3.h5: [misplaced-file] holds slide X1, so it should be named X1.h5
              test/X3.h5: [duplicate-slide] slide X1 appears 2 times: in test/X1.h5, test/X3.h5
            """), result.stdout)
        XCTAssertTrue(result.stdout.hasSuffix("\nFAILED: 3 problems in 7 files, 0 tiles checked\n"), result.stdout)
        // The JSON is written whatever the verdict.
        let report = try JSONKeyStyle.snakeCase.decoder().decode(StoreAuditReport.self, from: Data(contentsOf: json))
        XCTAssertFalse(report.passed)
        XCTAssertEqual(report.problems.map(\.kind), [.unreadableFile, .misplacedFile, .duplicateSlide])
    }

    func testStrictFailsOnTilerFailures() throws {
        let store = try TestEnvironment.temporaryDirectory(self, "store")
        try StoreFixtures.writeCleanStore(store)
        try FileManager.default.createDirectory(at: store.appendingPathComponent("failures"), withIntermediateDirectories: true)
        try Data(CSV.document(header: TileStoreLayout.failuresHeader, rows: [["B", "/s/B.svs", "open", "not a slide"]]).utf8)
            .write(to: store.appendingPathComponent("failures/task-0000-of-0001.csv"))
        let lenient = try runCommand(exe, [store.path, "--no-pixels"])
        XCTAssertEqual(lenient.status, 0, lenient.output)
        XCTAssertTrue(lenient.stdout.contains("Tiler failures (1):\n  failures/task-0000-of-0001.csv: B (/s/B.svs) at open: not a slide\n"),
                      lenient.stdout)
        let strict = try runCommand(exe, [store.path, "--no-pixels", "--strict"])
        XCTAssertEqual(strict.status, 1, strict.output)
        XCTAssertTrue(strict.stdout.hasSuffix("FAILED (--strict): the tiler recorded 1 failed slide\n"), strict.stdout)
    }

    func testUsageErrorsExit64() throws {
        let empty = try TestEnvironment.temporaryDirectory(self, "empty")
        let cases: [([String], String)] = [
            ([], "Error: Missing expected argument '<store>'"),
            (["/nonexistent/store"], "Error: /nonexistent/store is not a folder: pass the store folder that tessera-tile wrote"),
            ([empty.path], "Error: \(empty.path) has no .h5 files in train/, validation/ or test/"),
        ]
        for (arguments, message) in cases {
            let result = try runCommand(exe, arguments)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.output)")
            XCTAssertTrue(result.stderr.hasPrefix(message), "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stdout, "")
        }
        let store = try TestEnvironment.temporaryDirectory(self, "store")
        try StoreFixtures.writeCleanStore(store)
        let bogus = try runCommand(exe, [store.path, "--bogus"])
        XCTAssertEqual(bogus.status, 64, bogus.output)
        XCTAssertTrue(bogus.stderr.hasPrefix("Error: Unknown option '--bogus'"), bogus.stderr)
        let workers = try runCommand(exe, [store.path, "--workers", "0"])
        XCTAssertEqual(workers.status, 64, workers.output)
        XCTAssertTrue(workers.stderr.hasPrefix("Error: --workers must be at least 1, got 0"), workers.stderr)
        let json = try runCommand(exe, [store.path, "--json", "/nonexistent/dir/audit.json"])
        XCTAssertEqual(json.status, 64, json.output)
        XCTAssertTrue(json.stderr.hasPrefix("Error: --json /nonexistent/dir/audit.json: the folder /nonexistent/dir does not exist"),
                      json.stderr)
    }

    func testHelp() throws {
        let result = try runCommand(exe, ["--help"])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.stdout.contains("USAGE: tessera-audit <store> [--json <file>] [--no-pixels] [--workers <n>] [--features <folder>] [--strict]"),
                      result.stdout)
        XCTAssertTrue(result.stdout.contains("Examples:\n  tessera-audit /scratch/$USER/store\n"), result.stdout)
        XCTAssertTrue(result.stdout.contains("64 for usage errors"), result.stdout)
    }
}
