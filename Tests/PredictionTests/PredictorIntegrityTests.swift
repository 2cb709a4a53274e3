import Foundation
import Model
import TesseraCore
import TesseraTestSupport
import TileStore
import XCTest

/// tessera-predict (and tessera-audit) on a copy of the real pipeline's store that was damaged
/// after tiling: a flipped tile byte, a deleted test file, a damaged model file.
final class PredictorIntegrityTests: XCTestCase {
    override class func tearDown() {
        PredictionFixture.tearDown()
        super.tearDown()
    }

    func predict(_ args: [String]) throws -> CommandResult {
        try runCommand(TestEnvironment.executable("tessera-predict"), args + ["--threads", "1", "--bootstrap", "50"], timeout: 900)
    }

    func audit(_ store: URL, _ args: [String] = []) throws -> CommandResult {
        try runCommand(TestEnvironment.executable("tessera-audit"), [store.path, "--workers", "2"] + args, timeout: 300)
    }

    /// A private copy of the fixture's store, to damage.
    func storeCopy(_ dir: URL) throws -> URL {
        let store = dir.appendingPathComponent("store")
        try FileDamage.copyFolder(try PredictionFixture.shared().store, to: store)
        return store
    }

    func testTheTilersStoreIsCompleteForTheAudit() throws {
        let f = try PredictionFixture.shared()
        let r = try audit(f.store)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertFalse(r.stdout.contains("Completeness not checked"), r.stdout)
        let completeness = StoreCompleteness.check(store: f.store, splits: [TileStoreLayout.testSplit])
        XCTAssertTrue(completeness.verifiable)
        XCTAssertEqual(completeness.expected.keys.sorted(), f.testSlides.map { "test/\($0).h5" })
    }

    func testFlippedTileByteIsRefusedByPredictionAndAudit() throws {
        let f = try PredictionFixture.shared()
        let dir = try TestEnvironment.temporaryDirectory(self, "predict-integrity")
        let store = try storeCopy(dir)
        let slide = try XCTUnwrap(f.testSlides.last)
        let file = store.appendingPathComponent("test/\(slide).h5")
        let reader = try TileStoreReader(url: file)
        XCTAssertGreaterThan(reader.tileCount, 2)
        let bytes = try reader.encodedTile(2)
        try reader.close()
        XCTAssertNotNil(try FileDamage.flipByte(in: file, inside: bytes, offsetInside: bytes.count / 2))

        let out = dir.appendingPathComponent("out")
        let r = try predict(["--model", f.model.path, "--store", store.path, "--out", out.path])
        XCTAssertEqual(r.status, 1, r.output)
        XCTAssertTrue(r.stderr.contains("\(file.path): tile ") && r.stderr.contains(" is damaged: its stored bytes fail the Fletcher-32 checksum"),
                      r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("slides.csv").path), "no result from a damaged store")

        let a = try audit(store)
        XCTAssertEqual(a.status, 1, a.output)
        XCTAssertTrue(a.stdout.contains("test/\(slide).h5: [damaged-tile] tiles whose stored bytes fail their Fletcher-32 checksum")
                      && a.stdout.contains("tile 2"), a.stdout)
    }

    func testDeletedTestFileIsRefusedUnlessAllowed() throws {
        let f = try PredictionFixture.shared()
        XCTAssertGreaterThanOrEqual(f.testSlides.count, 2)
        let dir = try TestEnvironment.temporaryDirectory(self, "predict-integrity")
        let store = try storeCopy(dir)
        let gone = f.testSlides[0]
        try FileManager.default.removeItem(at: store.appendingPathComponent("test/\(gone).h5"))

        let refused = try predict(["--model", f.model.path, "--store", store.path, "--out", dir.appendingPathComponent("p1").path])
        XCTAssertEqual(refused.status, 1, refused.output)
        XCTAssertTrue(refused.stderr.contains("the store is incomplete: 1 item the tiler recorded as written is missing:\n  test/\(gone).h5 (1 slide: \(gone))"),
                      refused.stderr)

        let out = dir.appendingPathComponent("p2")
        let allowed = try predict(["--model", f.model.path, "--store", store.path, "--out", out.path, "--allow-partial-store"])
        XCTAssertEqual(allowed.status, 0, allowed.output)
        XCTAssertTrue(allowed.stderr.contains("going on with a partial store (--allow-partial-store); missing:")
                      && allowed.stderr.contains("  test/\(gone).h5 (1 slide: \(gone))"), allowed.stderr)
        let slides = try CSVTable(out.appendingPathComponent("slides.csv")).rows.map { $0[0] }
        XCTAssertEqual(slides, Array(f.testSlides.dropFirst()))

        let a = try audit(store, ["--no-pixels"])
        XCTAssertEqual(a.status, 1, a.output)
        XCTAssertTrue(a.stdout.contains("[incomplete-store] missing: test/\(gone).h5 (1 slide: \(gone))"), a.stdout)
        XCTAssertEqual(try audit(store, ["--no-pixels", "--allow-partial-store"]).status, 0)

        let manifestUse = try predict(["--model", f.model.path, "--manifest", f.testManifest.path, "--out", out.path, "--allow-partial-store"])
        XCTAssertEqual(manifestUse.status, 64, manifestUse.output)
    }

    func testDamagedModelFileIsRefusedWithoutACrash() throws {
        let f = try PredictionFixture.shared()
        let dir = try TestEnvironment.temporaryDirectory(self, "predict-integrity")
        let good = try Data(contentsOf: f.model)
        let model = dir.appendingPathComponent("model.tsm")
        // The top bit of the header length (it trapped before: SIGILL, exit 132).
        var damaged = good
        damaged[7] ^= 0x80
        try damaged.write(to: model)
        let r1 = try predict(["--model", model.path, "--store", f.store.path, "--out", dir.appendingPathComponent("p1").path])
        XCTAssertEqual(r1.status, 1, r1.output)
        XCTAssertTrue(r1.stderr.contains("\(model.path): the header length field says"), r1.stderr)
        // A digit of the normalisation mean, inside the JSON header.
        let header = String(decoding: good.prefix(8 + 8192), as: UTF8.self)
        let mean = try XCTUnwrap(header.range(of: #"mean\":["#))
        let digitAt = try XCTUnwrap(header[mean.upperBound...].firstIndex { ("1"..."8").contains($0) })
        let offset = header.utf8.distance(from: header.startIndex, to: digitAt)
        damaged = good
        damaged[offset] += 1
        try damaged.write(to: model)
        let r2 = try predict(["--model", model.path, "--store", f.store.path, "--out", dir.appendingPathComponent("p2").path])
        XCTAssertEqual(r2.status, 1, r2.output)
        XCTAssertTrue(r2.stderr.contains("\(model.path): checksum mismatch: the header or the weights changed"), r2.stderr)
    }
}
