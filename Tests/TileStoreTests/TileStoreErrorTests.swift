import Foundation
import HDF5
import JPEG
import TesseraTestSupport
import TileStore
import XCTest

/// Files that are not what the reader expects: each refused with an error naming the file, what is
/// wrong, and a hint.
final class TileStoreErrorTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = try TestEnvironment.temporaryDirectory(self, "store")
    }

    /// A valid one-slide store of 3 tiles.
    func validStore(_ name: String) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try StoreFixtures.writeJPEGFile(url, slides: [(StoreFixtures.slide("S1", patient: "P1"), 3)])
        return url
    }

    func testOtherSchemaVersion() throws {
        let url = try validStore("version-2.h5")
        let file = try HDF5File.open(path: url.path, mode: .readWrite)
        try file.setAttribute("schema_version", .int(2))
        try file.close()
        XCTAssertThrowsError(try TileStoreReader(url: url)) { error in
            XCTAssertEqual(error as? TileStoreError, .unsupportedSchemaVersion(path: url.path, found: 2, supported: 1))
            XCTAssertEqual("\(error)", """
                \(url.path): tile store schema version 2, but this build reads version 1
                hint: re-tile the slides with this version of tessera-tile, or use the Tessera version that wrote the store
                """)
        }
    }

    func testHDF5FileThatIsNotAStore() throws {
        let url = dir.appendingPathComponent("other.h5")
        let file = try HDF5File.create(path: url.path)
        try file.writeDataset("data", [1.0, 2.0])
        try file.close()
        XCTAssertThrowsError(try TileStoreReader(url: url)) { error in
            XCTAssertEqual(error as? TileStoreError, .notATileStore(path: url.path, found: nil))
            XCTAssertTrue("\(error)".hasPrefix("\(url.path): not a Tessera tile store: it has no format attribute"), "\(error)")
        }
        let other = dir.appendingPathComponent("other-format.h5")
        let f2 = try HDF5File.create(path: other.path)
        try f2.setAttribute("format", .string("clam-patches"))
        try f2.close()
        XCTAssertThrowsError(try TileStoreReader(url: other)) { error in
            XCTAssertEqual(error as? TileStoreError, .notATileStore(path: other.path, found: "clam-patches"))
            XCTAssertTrue("\(error)".contains("its format attribute is \"clam-patches\", expected \"tessera-tile-store\""), "\(error)")
        }
    }

    func testNotHDF5AndMissingFile() throws {
        let text = dir.appendingPathComponent("notes.h5")
        try Data("patient_id,split\n".utf8).write(to: text)
        XCTAssertThrowsError(try TileStoreReader(url: text)) { error in
            XCTAssertEqual(error as? TileStoreError, .unreadableFile(path: text.path, reason: "not an HDF5 file"))
            XCTAssertTrue("\(error)".contains("hint: a file cut short by a killed job"), "\(error)")
        }
        let missing = dir.appendingPathComponent("missing.h5")
        XCTAssertThrowsError(try TileStoreReader(url: missing)) { error in
            guard case let .unreadableFile(path, _) = error as? TileStoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, missing.path)
        }
    }

    /// A file cut short (a killed copy or job) is refused at open, naming the file and HDF5's
    /// reason.
    func testTruncatedFile() throws {
        let url = try validStore("whole.h5")
        let bytes = try Data(contentsOf: url)
        for fraction in [0.1, 0.5, 0.9] {
            let cut = dir.appendingPathComponent("cut-\(fraction).h5")
            try bytes.prefix(Int(Double(bytes.count) * fraction)).write(to: cut)
            XCTAssertThrowsError(try readEverything(cut), "cut at \(fraction)") { error in
                guard case let .unreadableFile(path, reason) = error as? TileStoreError else { return XCTFail("\(error)") }
                XCTAssertEqual(path, cut.path)
                XCTAssertTrue(reason.contains("truncated file"), reason)
            }
        }
    }

    func readEverything(_ url: URL) throws {
        let reader = try TileStoreReader(url: url)
        _ = try reader.tileColumns()
        _ = try reader.encodedTiles(Array(0..<reader.tileCount))
        try reader.close()
    }

    func testInconsistentColumnLengths() throws {
        let url = try validStore("short-column.h5")
        let file = try HDF5File.open(path: url.path, mode: .readWrite)
        try file.openDataset("tiles/x", of: Int64.self).setExtent([2])
        try file.close()
        XCTAssertThrowsError(try TileStoreReader(url: url)) { error in
            XCTAssertEqual(error as? TileStoreError, .inconsistent(
                path: url.path, message: "tile datasets differ in length: /tiles/label has 3 rows, /tiles/x has shape [2]"))
        }
    }

    func testMissingDatasetAndBadAttribute() throws {
        let url = try validStore("bad-encoding.h5")
        let file = try HDF5File.open(path: url.path, mode: .readWrite)
        try file.setAttribute("encoding", .string("png"))
        try file.close()
        XCTAssertThrowsError(try TileStoreReader(url: url)) { error in
            XCTAssertEqual(error as? TileStoreError, .invalidAttribute(path: url.path, name: "encoding", message: "\"png\" is neither jpeg nor raw"))
        }
        let url2 = try validStore("no-classes.h5")
        let f2 = try HDF5File.open(path: url2.path, mode: .readWrite)
        try f2.setAttribute("classes", .int(3))
        try f2.close()
        XCTAssertThrowsError(try TileStoreReader(url: url2)) { error in
            XCTAssertEqual(error as? TileStoreError, .invalidAttribute(path: url2.path, name: "classes", message: "attribute is not a list of strings"))
        }
    }

    func testTileIndexOutOfRangeAndOffsetsPastTheBytes() throws {
        let url = try validStore("offsets.h5")
        let reader = try TileStoreReader(url: url)
        XCTAssertThrowsError(try reader.encodedTile(3)) { error in
            XCTAssertEqual(error as? TileStoreError, .tileIndexOutOfRange(path: url.path, index: 3, count: 3))
            XCTAssertTrue("\(error)".contains("tile 3 does not exist (the file has 3 tiles)"), "\(error)")
        }
        XCTAssertThrowsError(try reader.encodedTiles([0, -1]))
        try reader.close()

        let file = try HDF5File.open(path: url.path, mode: .readWrite)
        try file.openDataset("tiles/offset", of: Int64.self).write([1_000_000], offset: [1], count: [1])
        try file.close()
        let damaged = try TileStoreReader(url: url)
        XCTAssertEqual(try damaged.encodedTile(0).count, Int(damaged.tileLengths[0]))
        XCTAssertThrowsError(try damaged.encodedTile(1)) { error in
            guard case let .inconsistent(path, message) = error as? TileStoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, url.path)
            XCTAssertTrue(message.hasPrefix("tile 1 has bytes 1000000..<"), message)
        }
    }

    func testUndecodableTileNamesTheTileAndTheFile() throws {
        let url = dir.appendingPathComponent("garbage.h5")
        let writer = try TileStoreWriter(url: url, attributes: StoreFixtures.attributes())
        writer.beginSlide(StoreFixtures.slide("S", patient: "P"))
        try writer.addTile(encoded: StoreFixtures.jpeg(seed: 0), record: StoreFixtures.record(0))
        try writer.addTile(encoded: Array("definitely not a JPEG".utf8), record: StoreFixtures.record(1))
        try writer.addTile(encoded: StoreFixtures.jpeg(seed: 0, size: 32), record: StoreFixtures.record(2))
        try writer.finish()
        let reader = try TileStoreReader(url: url)
        let decoder = try JPEGDecoder()
        XCTAssertEqual(try reader.image(0, decoder: decoder).width, 16)
        XCTAssertThrowsError(try reader.image(1, decoder: decoder)) { error in
            guard case let .unreadableTile(path, index, reason) = error as? TileStoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, url.path)
            XCTAssertEqual(index, 1)
            XCTAssertTrue(reason.hasPrefix("JPEG header failed"), reason)
        }
        XCTAssertThrowsError(try reader.image(2, decoder: decoder)) { error in
            XCTAssertEqual(error as? TileStoreError, .unreadableTile(path: url.path, index: 2, reason: "decodes to 32×32 pixels, expected 16×16"))
        }
    }
}
