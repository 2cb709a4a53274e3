import Foundation
import Model
import TesseraCore
import TesseraTestSupport
import TileStore
import Training
import XCTest

/// The trainer refuses a damaged or incomplete store; model files and checkpoints refuse any damage
/// to their header or weights without crashing.
final class TrainingIntegrityTests: XCTestCase {
    let exe = TestEnvironment.executable("tessera-train")
    let common = ["--input-size", "16", "--batch", "8", "--epochs", "1", "--warmup-epochs", "0", "--progress-interval", "0", "--threads", "1"]

    /// `TrainingStoreFixture`'s store with the tiler's status files: task 0 of 2 wrote
    /// train/part-0000 and validation/part-0000, task 1 of 2 train/part-0001.
    func store(_ dir: URL) throws -> URL {
        let store = dir.appendingPathComponent("store")
        try TrainingStoreFixture.write(store)
        let status = store.appendingPathComponent(TileStoreLayout.statusFolder)
        try FileManager.default.createDirectory(at: status, withIntermediateDirectories: true)
        for task in 0..<2 {
            var slides = TrainingStoreFixture.classes.map { "\"train-\(task)-\($0)\": {\"state\": \"done\", \"split\": \"train\"}" }
            if task == 0 { slides += TrainingStoreFixture.classes.map { "\"validation-0-\($0)\": {\"state\": \"done\", \"split\": \"validation\"}" } }
            try Data("{\"complete\": true, \"slides\": {\(slides.joined(separator: ", "))}}".utf8)
                .write(to: status.appendingPathComponent("task-000\(task)-of-0002.json"))
        }
        return store
    }

    func testMissingPartFileIsRefusedUnlessAllowed() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "train")
        let store = try store(dir)
        try FileManager.default.removeItem(at: store.appendingPathComponent("train/part-0001-of-0002.h5"))
        let refused = try runCommand(exe, ["--store", store.path, "--out", dir.appendingPathComponent("r1").path] + common)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("the store is incomplete: 1 item the tiler recorded as written is missing:\n  "
            + "train/part-0001-of-0002.h5 (3 slides: train-1-LUAD, train-1-LUSC, train-1-normal)"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("--allow-partial-store"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("r1/model.tsm").path))

        let run = dir.appendingPathComponent("r2")
        let allowed = try runCommand(exe, ["--store", store.path, "--out", run.path, "--allow-partial-store"] + common)
        XCTAssertEqual(allowed.status, 0, allowed.output)
        XCTAssertTrue(allowed.stderr.contains("going on with a partial store (--allow-partial-store); missing:"), allowed.stderr)
        XCTAssertTrue(allowed.stderr.contains("  train/part-0001-of-0002.h5 (3 slides"), allowed.stderr)
        // Only part 0's 72 tiles (24 of each class) were trained on.
        XCTAssertEqual(try Checkpoint.read(run.appendingPathComponent("checkpoint.tsc")).header.trainingTiles, 72)
    }

    func testFlippedTileByteStopsTrainingNamingFileAndTile() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "train")
        let store = try store(dir)
        let part = store.appendingPathComponent("train/part-0000-of-0002.h5")
        let reader = try TileStoreReader(url: part)
        let bytes = try reader.encodedTile(5)
        try reader.close()
        XCTAssertNotNil(try FileDamage.flipByte(in: part, inside: bytes, offsetInside: bytes.count / 2))
        for ranks in [1, 2] {
            let args = ["--store", store.path, "--out", dir.appendingPathComponent("run\(ranks)").path] + common
            let r = ranks == 1 ? try runCommand(exe, args) : try runMPI(ranks: 2, exe, args)
            XCTAssertNotEqual(r.status, 0, "\(ranks) ranks: \(r.output)")
            XCTAssertTrue(r.stderr.contains("\(part.path): tile ") && r.stderr.contains(" is damaged: its stored bytes fail the Fletcher-32 checksum of /tiles/jpeg"),
                          "\(ranks) ranks: \(r.stderr)")
        }
    }

    // MARK: Model files and checkpoints

    struct Header: Codable, Equatable {
        var mean: [Double]
        var name: String
    }

    func archive(_ dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("model.tsm")
        try Archive.write(to: url, magic: ModelFile.magic, header: Header(mean: [0.25, 0.5, 0.75], name: "m"),
                          blobs: [("parameters", (0..<100).map { Float($0) / 7 }), ("state", [1, 2])])
        return url
    }

    func assertRefused(_ url: URL, _ what: String, contains expected: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Archive.read(url, magic: ModelFile.magic, header: Header.self), what, file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("\(url.path): "), "\(what): \(text)", file: file, line: line)
            if let expected { XCTAssertTrue(text.contains(expected), "\(what): \(text)", file: file, line: line) }
        }
    }

    func testEveryBitOfTheHeaderLengthAndADigitOfTheHeaderAreRefused() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "archive")
        let url = try archive(dir)
        let good = try Data(contentsOf: url)
        let read = try Archive.read(url, magic: ModelFile.magic, header: Header.self)
        XCTAssertEqual(read.header, Header(mean: [0.25, 0.5, 0.75], name: "m"))
        XCTAssertEqual(read.blobs["state"], [1, 2])
        XCTAssertEqual(read.blobs["parameters"]?[99], 99 / 7)

        // Each of the 64 bits of the header-length field (bytes 12..<20): a clear error, no trap.
        for bit in 0..<64 {
            try good.write(to: url)
            try FileDamage.flipBit(in: url, byte: 12 + bit / 8, bit: bit % 8)
            assertRefused(url, "header length bit \(bit)")
        }
        try good.write(to: url)
        try FileDamage.flipBit(in: url, byte: 19, bit: 7)
        assertRefused(url, "top bit", contains: "the header length field says 9223372036854")

        // One digit of the header (the normalisation mean 0.25 → 0.35) is caught by the checksum.
        try good.write(to: url)
        let digit = try XCTUnwrap(FileDamage.flipByte(in: url, inside: Array("0.25".utf8), offsetInside: 2))
        var changed = good
        changed[digit] = UInt8(ascii: "3")
        try changed.write(to: url)
        assertRefused(url, "header digit", contains: "checksum mismatch: the header or the weights changed after the file was written")

        // One weight bit, a cut-short file, and a format-1 file.
        try good.write(to: url)
        try FileDamage.flipBit(in: url, byte: good.count - 20, bit: 3)
        assertRefused(url, "weight bit", contains: "checksum mismatch")
        try good.prefix(good.count - 5).write(to: url)
        assertRefused(url, "truncated")
        try good.prefix(22).write(to: url)
        assertRefused(url, "only the prefix", contains: "the header length field says")
        var v1 = good
        v1[8] = 1
        try v1.write(to: url)
        assertRefused(url, "format 1", contains: "format version 1, written by an older Tessera whose checksum did not cover the header")
    }
}
