import Foundation
import HDF5
import TesseraCore
import TesseraTestSupport
import XCTest

@testable import TileStore

/// `StoreAudit` on stores built with the writer: the clean one passes with its exact counts, and
/// each kind of damage is caught, named with its file.
final class StoreAuditTests: XCTestCase {
    var store: URL!

    override func setUpWithError() throws {
        store = try TestEnvironment.temporaryDirectory(self, "store")
        try StoreFixtures.writeCleanStore(store)
    }

    func audit(checkPixels: Bool = true) throws -> StoreAuditReport {
        try StoreAudit.run(store: store, options: StoreAuditOptions(checkPixels: checkPixels, workers: 2, batchTiles: 4))
    }

    func testCleanStorePassesWithItsCounts() throws {
        let report = try audit()
        XCTAssertEqual(report.problems, [])
        XCTAssertTrue(report.passed)
        XCTAssertEqual(report.files.map(\.path), ["train/part-0000-of-0002.h5", "train/part-0001-of-0002.h5",
                                                  "validation/part-0000-of-0002.h5", "test/X1.h5", "test/X2.h5"])
        XCTAssertEqual(report.files.map(\.tiles), [5, 4, 2, 1, 3])
        XCTAssertEqual(report.files.map(\.slides), [2, 2, 1, 1, 1])
        XCTAssertEqual(report.classes, ["LUAD", "LUSC"])
        XCTAssertEqual(report.tileSize, 16)
        XCTAssertEqual(report.encoding, .jpeg)
        XCTAssertEqual(report.targetMPP, 0.5)
        XCTAssertEqual(report.tilesChecked, 15)
        XCTAssertEqual(report.failures, [])
        XCTAssertEqual(report.splits.map(\.split), ["train", "validation", "test", "total"])

        let train = try XCTUnwrap(report.split("train"))
        XCTAssertEqual([train.files, train.slides, train.patients, train.tiles], [2, 4, 3, 9])
        XCTAssertEqual(train.tilesPerClass, ["LUAD": 5, "LUSC": 4])
        XCTAssertEqual(train.unlabelledTiles, 0)
        XCTAssertEqual(train.slidesWithoutTiles, 1)
        XCTAssertEqual(train.tilesPerSlide, Distribution([3, 2, 4, 0]))
        XCTAssertEqual(train.tilesPerSlide?.median, 2.5)
        XCTAssertEqual(train.tilesPerSlide?.mean, 2.25)

        let validation = try XCTUnwrap(report.split("validation"))
        XCTAssertEqual([validation.files, validation.slides, validation.patients, validation.tiles], [1, 1, 1, 2])
        XCTAssertEqual(validation.tilesPerClass, ["LUAD": 0, "LUSC": 2])

        let test = try XCTUnwrap(report.split("test"))
        XCTAssertEqual([test.files, test.slides, test.patients, test.tiles], [2, 2, 2, 4])
        XCTAssertEqual(test.tilesPerClass, ["LUAD": 1, "LUSC": 3])
        XCTAssertEqual(test.tilesPerSlide.map { [$0.min, $0.max] }, [1, 3])

        let total = try XCTUnwrap(report.split("total"))
        XCTAssertEqual([total.files, total.slides, total.patients, total.tiles, total.slidesWithoutTiles], [5, 7, 6, 15, 1])
        XCTAssertEqual(total.tilesPerClass, ["LUAD": 6, "LUSC": 9])
        XCTAssertEqual(total.tilesPerSlide?.min, 0)
        XCTAssertEqual(total.tilesPerSlide?.median, 2)
        XCTAssertEqual(total.tilesPerSlide?.max, 4)
        XCTAssertEqual(try XCTUnwrap(total.tilesPerSlide?.mean), 15.0 / 7, accuracy: 1e-12)

        XCTAssertTrue(report.text.hasSuffix("\nOK: 5 files, 15 tiles checked, no problems\n"), report.text)
        // Without decoding, the same counts and nothing checked pixel by pixel.
        let quick = try audit(checkPixels: false)
        XCTAssertEqual(quick.tilesChecked, 0)
        XCTAssertEqual(quick.splits, report.splits)
    }

    func testPatientInTwoSplits() throws {
        // P1 (train) also has a test slide.
        try StoreFixtures.writeJPEGFile(store.appendingPathComponent("test/X3.h5"), split: "test",
                                        slides: [(StoreFixtures.slide("X3", patient: "P1"), 1)], seedBase: 50)
        let report = try audit()
        XCTAssertEqual(report.problems, [
            AuditProblem(.patientInTwoSplits, file: "test/X3.h5",
                         "patient P1 is in 2 splits: train (train/part-0000-of-0002.h5) and test (test/X3.h5)"),
            AuditProblem(.patientInTwoSplits, file: "test/X3.h5", "patient P1 is in test here but in train in splits.csv"),
        ])
        XCTAssertEqual(report.split("test")?.patients, 3)
        XCTAssertEqual(report.split("total")?.patients, 6)
    }

    func testSplitsFileDisagreesOrMissesPatients() throws {
        let csv = CSV.document(header: ["patient_id", "split"],
                               rows: [["P1", "train"], ["P2", "validation"], ["P2", "train"], ["P4", "validation"], ["P6", "holdout"]])
        try Data(csv.utf8).write(to: store.appendingPathComponent("splits.csv"))
        let report = try audit(checkPixels: false)
        XCTAssertEqual(report.problems, [
            AuditProblem(.patientInTwoSplits, file: "splits.csv", "patient P2 is listed in both validation and train"),
            AuditProblem(.splitsFile, file: "splits.csv",
                         "lines that are not \"patient_id,split\" with a split of train/validation/test (1): line 6: \"P6,holdout\""),
            AuditProblem(.splitsFile, file: "splits.csv", "patients of the store missing from it (3): P3 (train), P5 (test), P6 (test)"),
        ])
    }

    /// A splits or failures file that is not UTF-8 CSV, or has another header, is one problem naming
    /// the file (and the header it should have); its rows are not read.
    func testUnreadableOrMisheadedCSVFilesAreProblems() throws {
        try Data("patient,split\nP1,train\n".utf8).write(to: store.appendingPathComponent("splits.csv"))
        let failures = store.appendingPathComponent("failures")
        try FileManager.default.createDirectory(at: failures, withIntermediateDirectories: true)
        try Data("slide,why\nbroken,open\n".utf8).write(to: failures.appendingPathComponent("task-0000-of-0002.csv"))
        try Data([0x73, 0x6C, 0xFF, 0xFE, 0x0A]).write(to: failures.appendingPathComponent("task-0001-of-0002.csv"))
        let report = try audit(checkPixels: false)
        XCTAssertEqual(report.problems.filter { $0.kind == .splitsFile }, [
            AuditProblem(.splitsFile, file: "splits.csv", "its header is \"patient,split\", expected \"patient_id,split\""),
        ])
        let failureProblems = report.problems.filter { $0.kind == .failuresFile }
        XCTAssertEqual(failureProblems.map(\.file), ["failures/task-0000-of-0002.csv", "failures/task-0001-of-0002.csv"])
        XCTAssertEqual(failureProblems.first?.message,
                       "its header is \"slide,why\", expected \"\(CSV.line(TileStoreLayout.failuresHeader))\"")
        XCTAssertTrue(failureProblems.last?.message.hasPrefix("cannot be read as UTF-8 CSV: ") ?? false, "\(failureProblems)")
        XCTAssertEqual(report.failures, [])
        XCTAssertFalse(report.problems.contains { $0.kind == .patientInTwoSplits }, "the misheaded splits.csv was not read")
    }

    func testCorruptJPEGTile() throws {
        // X1's one tile is garbage bytes; X2 gets a tile of the wrong size.
        let writer = try TileStoreWriter(url: store.appendingPathComponent("test/X1.h5"), attributes: StoreFixtures.attributes(split: "test"))
        writer.beginSlide(StoreFixtures.slide("X1", patient: "P5"))
        try writer.addTile(encoded: Array(repeating: 0xAB, count: 300), record: StoreFixtures.record(0))
        try writer.finish()
        let x2 = try TileStoreWriter(url: store.appendingPathComponent("test/X2.h5"), attributes: StoreFixtures.attributes(split: "test"))
        x2.beginSlide(StoreFixtures.slide("X2", patient: "P6", label: "LUSC"))
        try x2.addTile(encoded: StoreFixtures.jpeg(seed: 1), record: StoreFixtures.record(0, label: 1))
        try x2.addTile(encoded: StoreFixtures.jpeg(seed: 2, size: 24), record: StoreFixtures.record(1, label: 1))
        try x2.finish()

        let report = try audit()
        XCTAssertEqual(report.problems.map(\.kind), [.undecodableTile, .undecodableTile])
        XCTAssertEqual(report.problems.map(\.file), ["test/X1.h5", "test/X2.h5"])
        XCTAssertTrue(report.problems[0].message.hasPrefix(
            "tiles that do not decode to 16×16 pixels (1): tile 0 (JPEG header failed: "), report.problems[0].message)
        XCTAssertEqual(report.problems[1].message, "tiles that do not decode to 16×16 pixels (1): tile 1 (decodes to 24×24)")
        XCTAssertEqual(report.tilesChecked, 14)
        // Skipping the pixels skips this check.
        XCTAssertEqual(try audit(checkPixels: false).problems, [])
    }

    func testLabelOutOfRangeAndOtherTileRecords() throws {
        let path = store.appendingPathComponent("train/part-0001-of-0002.h5").path
        let file = try HDF5File.open(path: path, mode: .readWrite)
        try file.openDataset("tiles/label", of: Int32.self).write([7, -3], offset: [1], count: [2])
        try file.openDataset("tiles/x", of: Int64.self).write([5000], offset: [3], count: [1])
        try file.openDataset("tiles/background", of: Float.self).write([0.75], offset: [0], count: [1])
        try file.close()
        let report = try audit()
        let file1 = "train/part-0001-of-0002.h5"
        XCTAssertEqual(report.problems, [
            AuditProblem(.tileRecords, file: file1, "tiles whose background fraction is outside 0…0.5 (max_background) (1): tile 0 (0.75)"),
            AuditProblem(.tileRecords, file: file1, "tiles with a label outside -1..<2 (2): tile 1 (label 7), tile 2 (label -3)"),
            AuditProblem(.tileRecords, file: file1, "tiles whose top-left corner is outside their slide (1): tile 3 at (5000, 0) on T3 of 4096×2048"),
        ])
        // Tiles with an impossible label are not counted in any class.
        XCTAssertEqual(report.split("train")?.tilesPerClass, ["LUAD": 5, "LUSC": 2])
    }

    func testTileLabelOtherThanItsSlideAndSlideTableCounts() throws {
        let path = store.appendingPathComponent("train/part-0000-of-0002.h5").path
        let file = try HDF5File.open(path: path, mode: .readWrite)
        try file.openDataset("tiles/label", of: Int32.self).write([1], offset: [4], count: [1])
        try file.openDataset("tiles/slide", of: Int32.self).write([0], offset: [4], count: [1])
        try file.close()
        let report = try audit(checkPixels: false)
        let file0 = "train/part-0000-of-0002.h5"
        XCTAssertEqual(report.problems, [
            AuditProblem(.tileRecords, file: file0, "tiles out of slide order (a slide's tiles must be contiguous) (1): tile 4 (slide 0 after slide 1)"),
            AuditProblem(.tileRecords, file: file0, "tiles labelled otherwise than their slide (1): tile 4 (label 1, slide T1 is LUAD)"),
            AuditProblem(.slideTable, file: file0,
                         "slides whose tiles_kept is not their number of tiles (2): T1 (tiles_kept 3, tiles 4), T2 (tiles_kept 2, tiles 1)"),
        ])
    }

    func testDuplicatedSlide() throws {
        try StoreFixtures.writeJPEGFile(store.appendingPathComponent("train/extra.h5"),
                                        slides: [(StoreFixtures.slide("T3", patient: "P2", label: "LUSC"), 1)], seedBase: 60)
        let report = try audit()
        XCTAssertEqual(report.problems, [
            AuditProblem(.duplicateSlide, file: "train/part-0001-of-0002.h5",
                         "slide T3 appears 2 times: in train/extra.h5, train/part-0001-of-0002.h5"),
        ])
    }

    func testMisplacedFilesMismatchedParametersAndUnreadableFiles() throws {
        // A test file named after another slide, a validation file in train/, a file tiled at
        // another size, and a file that is not HDF5.
        try FileManager.default.moveItem(at: store.appendingPathComponent("test/X2.h5"),
                                         to: store.appendingPathComponent("test/X9.h5"))
        try StoreFixtures.writeJPEGFile(store.appendingPathComponent("train/part-0002-of-0003.h5"), split: "validation",
                                        slides: [(StoreFixtures.slide("T5", patient: "P1"), 1)], seedBase: 70)
        var big = StoreFixtures.attributes(split: "test", tileSize: 32)
        big.tiling.maxBackground = 0.25
        let writer = try TileStoreWriter(url: store.appendingPathComponent("test/X4.h5"), attributes: big)
        writer.beginSlide(StoreFixtures.slide("X4", patient: "P5"))
        try writer.addTile(encoded: StoreFixtures.jpeg(seed: 3, size: 32), record: StoreFixtures.record(0, label: 0))
        try writer.finish()
        try Data("not HDF5".utf8).write(to: store.appendingPathComponent("validation/junk.h5"))

        let report = try audit()
        XCTAssertEqual(report.problems, [
            AuditProblem(.unreadableFile, file: "validation/junk.h5", "cannot open as an HDF5 file: not an HDF5 file"),
            AuditProblem(.mismatchedParameters, file: "test/X4.h5",
                         "tiling parameters differ from train/part-0000-of-0002.h5's: tile_size: 32 vs 16; max_background: 0.25 vs 0.5"),
            AuditProblem(.misplacedFile, file: "train/part-0002-of-0003.h5", "its split attribute is \"validation\" but it is in train/"),
            AuditProblem(.misplacedFile, file: "test/X9.h5", "holds slide X2, so it should be named X2.h5"),
        ])
        XCTAssertEqual(report.files.first { $0.path == "validation/junk.h5" }?.readable, false)
        XCTAssertEqual(report.split("validation")?.files, 2)
    }

    func testTilerFailuresAreReportedNotCounted() throws {
        let failures = store.appendingPathComponent("failures")
        try FileManager.default.createDirectory(at: failures, withIntermediateDirectories: true)
        let csv = CSV.document(header: TileStoreLayout.failuresHeader, rows: [
            ["broken", "/slides/broken.svs", "open", "not a supported slide, or a damaged one"],
            ["odd", "/slides/odd \"1\".svs", "read", "JPEG 2000 tile 3 failed"],
        ])
        try Data(csv.utf8).write(to: failures.appendingPathComponent(TileStoreLayout.failuresFileName(task: 1, taskCount: 2)))
        let report = try audit(checkPixels: false)
        XCTAssertTrue(report.passed)
        XCTAssertEqual(report.failures, [
            TilerFailure(file: "failures/task-0001-of-0002.csv", slideID: "broken", slidePath: "/slides/broken.svs",
                         stage: "open", message: "not a supported slide, or a damaged one"),
            TilerFailure(file: "failures/task-0001-of-0002.csv", slideID: "odd", slidePath: "/slides/odd \"1\".svs",
                         stage: "read", message: "JPEG 2000 tile 3 failed"),
        ])
        XCTAssertTrue(report.text.contains("""
            Tiler failures (2):
              failures/task-0001-of-0002.csv: broken (/slides/broken.svs) at open: not a supported slide, or a damaged one
            """), report.text)
    }

    func testBytesOutsideTheByteDatasetAreReportedAndNotDecoded() throws {
        let path = store.appendingPathComponent("test/X2.h5").path
        let file = try HDF5File.open(path: path, mode: .readWrite)
        try file.openDataset("tiles/length", of: Int64.self).write([0], offset: [2], count: [1])
        try file.close()
        let report = try audit()
        XCTAssertEqual(report.problems.count, 1)
        XCTAssertEqual(report.problems.first?.kind, .tileRecords)
        XCTAssertEqual(report.problems.first?.file, "test/X2.h5")
        XCTAssertTrue(report.problems.first?.message.hasPrefix("tiles whose bytes lie outside /tiles/jpeg (") ?? false,
                      "\(report.problems)")
        XCTAssertEqual(report.tilesChecked, 14)
    }

    func testManyFindingsAreSummarisedWithExamples() throws {
        let path = store.appendingPathComponent("train/part-0000-of-0002.h5").path
        let file = try HDF5File.open(path: path, mode: .readWrite)
        try file.openDataset("tiles/y", of: Int64.self).write([-1, -2, -3, -4, -5], offset: [0], count: [5])
        try file.close()
        let report = try StoreAudit.run(store: store, options: StoreAuditOptions(checkPixels: false, examplesPerProblem: 2))
        XCTAssertEqual(report.problems.map(\.message), [
            "tiles whose top-left corner is outside their slide (5): tile 0 at (0, -1) on T1 of 4096×2048, tile 1 at (16, -2) on T1 of 4096×2048, and 3 more",
        ])
    }
}
