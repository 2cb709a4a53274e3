import Foundation
import HDF5
import JPEG
import TesseraCore
import TesseraTestSupport
import TileStore
import XCTest

extension StoreFixtures {
    /// The tiler's status files for `writeCleanStore`'s store: task 0 of 2 wrote T1, T2 (train),
    /// V1 (validation), X1, X2 (test) and failed on F1; task 1 of 2 wrote T3, T4 (train).
    static func writeCleanStatus(_ store: URL, task1Complete: Bool = true) throws {
        func task(_ slides: [(String, String, String)], complete: Bool) -> String {
            let rows = slides.map { "\"\($0.0)\": {\"state\": \"\($0.2)\", \"split\": \"\($0.1)\", \"tilesKept\": 0, \"tilesConsidered\": 0}" }
            return "{\"parameters\": {}, \"complete\": \(complete), \"slides\": {\(rows.joined(separator: ", "))}}"
        }
        let folder = store.appendingPathComponent(TileStoreLayout.statusFolder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(task([("T1", "train", "done"), ("T2", "train", "done"), ("V1", "validation", "done"), ("X1", "test", "done"),
                       ("X2", "test", "done"), ("F1", "train", "failed")], complete: true).utf8)
            .write(to: folder.appendingPathComponent("task-0000-of-0002.json"))
        try Data(task([("T3", "train", "done"), ("T4", "train", "done")], complete: task1Complete).utf8)
            .write(to: folder.appendingPathComponent("task-0001-of-0002.json"))
    }
}

/// Integrity end to end on the store side: checksums verified on every read (a flipped byte in a
/// stored tile is refused, naming file and tile), completeness against the tiler's status files,
/// and the same slide content in two splits.
final class StoreIntegrityTests: XCTestCase {
    var store: URL!
    let part1 = "train/part-0001-of-0002.h5"

    override func setUpWithError() throws {
        store = try TestEnvironment.temporaryDirectory(self, "store")
        try StoreFixtures.writeCleanStore(store)
        try StoreFixtures.writeCleanStatus(store)
    }

    func audit(allowPartial: Bool = false) throws -> StoreAuditReport {
        var options = StoreAuditOptions(checkPixels: true, workers: 2, batchTiles: 4)
        options.allowPartialStore = allowPartial
        return try StoreAudit.run(store: store, options: options)
    }

    /// Flips a byte in the middle of tile `index`'s stored JPEG bytes; returns the file.
    func damageTile(_ relative: String, _ index: Int) throws -> URL {
        let url = store.appendingPathComponent(relative)
        let reader = try TileStoreReader(url: url)
        let bytes = try reader.encodedTile(index)
        try reader.close()
        XCTAssertNotNil(try FileDamage.flipByte(in: url, inside: bytes, offsetInside: bytes.count / 2), "tile bytes not found in \(relative)")
        return url
    }

    func testCleanStoreWithItsStatusIsCompleteAndChecksummed() throws {
        let report = try audit()
        XCTAssertEqual(report.problems, [])
        XCTAssertTrue(report.completenessChecked)
        XCTAssertEqual(report.missing, [])
        let completeness = StoreCompleteness.check(store: store)
        XCTAssertEqual(completeness.expected, [
            "train/part-0000-of-0002.h5": ["T1", "T2"], "train/part-0001-of-0002.h5": ["T3", "T4"],
            "validation/part-0000-of-0002.h5": ["V1"], "test/X1.h5": ["X1"], "test/X2.h5": ["X2"],
        ])
        // Every dataset the writer makes carries a Fletcher-32 checksum.
        let file = try HDF5File.open(path: store.appendingPathComponent(part1).path)
        XCTAssertTrue(try file.openDataset("tiles/jpeg", of: UInt8.self).hasChecksum)
        for name in ["tiles/offset", "tiles/length", "tiles/x", "tiles/y", "slides/width", "slides/height", "slides/tiles_kept"] {
            XCTAssertTrue(try file.openDataset(name, of: Int64.self).hasChecksum, name)
        }
        for name in ["tiles/label", "tiles/slide", "slides/level"] { XCTAssertTrue(try file.openDataset(name, of: Int32.self).hasChecksum, name) }
        XCTAssertTrue(try file.openDataset("tiles/background", of: Float.self).hasChecksum)
        XCTAssertTrue(try file.openDataset("slides/mpp", of: Double.self).hasChecksum)
        try file.close()
    }

    func testFlippedByteInAStoredTileIsRefusedNamingFileAndTile() throws {
        let url = try damageTile(part1, 1)
        let reader = try TileStoreReader(url: url)
        XCTAssertThrowsError(try reader.encodedTile(1)) { error in
            XCTAssertEqual(error as? TileStoreError, .damagedTile(path: url.path, index: 1, dataset: "tiles/jpeg"))
            XCTAssertTrue("\(error)".hasPrefix("\(url.path): tile 1 is damaged: its stored bytes fail the Fletcher-32 checksum of /tiles/jpeg"), "\(error)")
        }
        // A batch read names the first damaged tile; the file's tiles share one 256 KiB chunk.
        XCTAssertThrowsError(try reader.encodedTiles([3, 2])) { error in
            XCTAssertEqual(error as? TileStoreError, .damagedTile(path: url.path, index: 2, dataset: "tiles/jpeg"))
        }
        XCTAssertEqual(try reader.damagedTiles([0, 1, 2, 3]), [0, 1, 2, 3])
        try reader.close()

        let report = try audit()
        XCTAssertEqual(report.problems, [
            AuditProblem(.damagedTile, file: part1,
                         "tiles whose stored bytes fail their Fletcher-32 checksum (the file changed after it was written) (4): tile 0, tile 1, tile 2, tile 3"),
        ])
        XCTAssertEqual(report.tilesChecked, 15)

        let cli = try runCommand(TestEnvironment.executable("tessera-audit"), [store.path, "--workers", "2"])
        XCTAssertEqual(cli.status, 1, cli.output)
        XCTAssertTrue(cli.stdout.contains("\(part1): [damaged-tile] tiles whose stored bytes fail their Fletcher-32 checksum"), cli.stdout)
    }

    func testFlippedByteInARawTileIsRefused() throws {
        let url = store.appendingPathComponent("train/raw.h5")
        let writer = try TileStoreWriter(url: url, attributes: StoreFixtures.attributes(encoding: .raw))
        writer.beginSlide(StoreFixtures.slide("R1", patient: "P9"))
        let images = (0..<3).map { StoreFixtures.image(seed: 50 + $0) }
        for (n, image) in images.enumerated() { try writer.addTile(raw: image, record: StoreFixtures.record(n)) }
        try writer.finish()
        XCTAssertNotNil(try FileDamage.flipByte(in: url, inside: images[2].pixels, offsetInside: 100))
        let reader = try TileStoreReader(url: url)
        let decoder = try JPEGDecoder()
        XCTAssertThrowsError(try reader.images([0, 2], decoder: decoder)) { error in
            XCTAssertEqual(error as? TileStoreError, .damagedTile(path: url.path, index: 2, dataset: "tiles/raw"))
        }
        // Raw chunks are one tile each: only the damaged tile is refused.
        XCTAssertEqual(try reader.damagedTiles([0, 1, 2]), [2])
        XCTAssertEqual(try reader.image(1, decoder: decoder).pixels, images[1].pixels)
        try reader.close()
        let report = try audit()
        XCTAssertEqual(report.problems.filter { $0.kind == .damagedTile }, [
            AuditProblem(.damagedTile, file: "train/raw.h5",
                         "tiles whose stored bytes fail their Fletcher-32 checksum (the file changed after it was written) (1): tile 2"),
        ])
    }

    func testFileWithoutChecksumsIsRefused() throws {
        let url = store.appendingPathComponent(part1)
        let plain = store.appendingPathComponent("plain.h5")
        let repack = try runCommand(URL(fileURLWithPath: "/usr/bin/h5repack"), ["-f", "NONE", url.path, plain.path])
        try XCTSkipIf(repack.status != 0, "h5repack failed: \(repack.output)")
        XCTAssertThrowsError(try TileStoreReader(url: plain)) { error in
            XCTAssertEqual(error as? TileStoreError, .writtenWithoutChecksums(path: plain.path))
            XCTAssertTrue("\(error)".contains("written by an older Tessera without checksums") && "\(error)".contains("re-tile"), "\(error)")
        }
    }

    func testMissingPartFileAndTestFileAreReported() throws {
        try FileManager.default.removeItem(at: store.appendingPathComponent(part1))
        try FileManager.default.removeItem(at: store.appendingPathComponent("test/X2.h5"))
        let report = try audit()
        XCTAssertEqual(report.problems, [
            AuditProblem(.incompleteStore, file: nil, "missing: test/X2.h5 (1 slide: X2)"),
            AuditProblem(.incompleteStore, file: nil, "missing: train/part-0001-of-0002.h5 (2 slides: T3, T4)"),
        ])
        // Allowed: listed, not failed.
        let partial = try audit(allowPartial: true)
        XCTAssertTrue(partial.passed, "\(partial.problems)")
        XCTAssertEqual(partial.missing, ["test/X2.h5 (1 slide: X2)", "train/part-0001-of-0002.h5 (2 slides: T3, T4)"])
        XCTAssertTrue(partial.text.contains("""
            Missing from the store (2), by the tiler's status files:
              test/X2.h5 (1 slide: X2)
            """), partial.text)

        let exe = TestEnvironment.executable("tessera-audit")
        let refused = try runCommand(exe, [store.path, "--workers", "2"])
        XCTAssertEqual(refused.status, 1, refused.output)
        XCTAssertTrue(refused.stdout.contains("[incomplete-store] missing: train/part-0001-of-0002.h5 (2 slides: T3, T4)"), refused.stdout)
        let allowed = try runCommand(exe, [store.path, "--workers", "2", "--allow-partial-store"])
        XCTAssertEqual(allowed.status, 0, allowed.output)
        XCTAssertTrue(allowed.stdout.contains("  train/part-0001-of-0002.h5 (2 slides: T3, T4)"), allowed.stdout)
    }

    func testUnfinishedTaskMissingStatusAndMissingSlideAreReported() throws {
        try StoreFixtures.writeCleanStatus(store, task1Complete: false)
        var completeness = StoreCompleteness.check(store: store)
        XCTAssertEqual(completeness.missing, [
            "task 1 of 2 (status/task-0001-of-0002.json) has not finished: its files are not all written",
        ])
        try FileManager.default.removeItem(at: store.appendingPathComponent("status/task-0001-of-0002.json"))
        completeness = StoreCompleteness.check(store: store)
        XCTAssertEqual(completeness.missing, [
            "status/task-0001-of-0002.json: task 1 of 2 has no status file (it never ran, or its status was lost)",
        ])
        XCTAssertThrowsError(try completeness.enforce(store: store, allowPartial: false)) { error in
            XCTAssertEqual(error as? TileStoreError, .incompleteStore(path: store.path, missing: completeness.missing))
            XCTAssertTrue("\(error)".contains("--allow-partial-store"), "\(error)")
        }
        XCTAssertEqual(try completeness.enforce(store: store, allowPartial: true).count, 2)
        // A part file that lacks a slide its task recorded as done.
        try StoreFixtures.writeCleanStatus(store)
        try StoreFixtures.writeJPEGFile(store.appendingPathComponent(part1), slides: [(StoreFixtures.slide("T3", patient: "P2", label: "LUSC"), 4)],
                                        seedBase: 10, task: 1, taskCount: 2)
        XCTAssertEqual(try audit().problems.filter { $0.kind == .incompleteStore }.map(\.message), [
            "missing: train/part-0001-of-0002.h5 lacks 1 slide its task recorded as done: T4",
        ])
        // Without status files nothing can be checked, and the audit says so.
        try FileManager.default.removeItem(at: store.appendingPathComponent("status"))
        let unchecked = try audit()
        XCTAssertFalse(unchecked.completenessChecked)
        XCTAssertTrue(unchecked.text.contains("Completeness not checked: no tiler status files"), unchecked.text)
    }

    func testSameSlideInTwoSplitsIsLeakage() throws {
        // X3 in test/ holds exactly T1's tiles (the same slide file listed twice, under another id and patient).
        try StoreFixtures.writeJPEGFile(store.appendingPathComponent("test/X3.h5"), split: "test",
                                        slides: [(StoreFixtures.slide("X3", patient: "P7"), 3)], seedBase: 0)
        let t1 = try TileStoreReader(url: store.appendingPathComponent("train/part-0000-of-0002.h5"))
        let x3 = try TileStoreReader(url: store.appendingPathComponent("test/X3.h5"))
        XCTAssertEqual(x3.contentDigests[0], t1.contentDigests[0])
        XCTAssertNotEqual(t1.contentDigests[0], t1.contentDigests[1])
        XCTAssertTrue(t1.contentDigests[0].hasSuffix("/3"), t1.contentDigests[0])
        let report = try audit()
        XCTAssertEqual(report.problems.filter { $0.kind == .sameSlideContent }, [
            AuditProblem(.sameSlideContent, file: "test/X3.h5",
                         "the same slide content (digest \(t1.contentDigests[0])) appears 2 times: T1 (patient P1, train, train/part-0000-of-0002.h5) "
                         + "and X3 (patient P7, test, test/X3.h5); one slide file was listed twice, so it leaks between splits or patients"),
        ])
        // A slide without tiles has no digest and matches nothing.
        let t2 = try TileStoreReader(url: store.appendingPathComponent(part1))
        XCTAssertEqual(t2.contentDigests[1], "")
    }
}
