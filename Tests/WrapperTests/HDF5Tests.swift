import Foundation
import HDF5
import TesseraTestSupport
import XCTest

final class HDF5Tests: XCTestCase {
    func testGroupsChunkedDatasetsHyperslabsAndExtents() throws {
        let dir = try TestEnvironment.temporaryDirectory(self)
        let path = dir.appendingPathComponent("store.h5").path
        let file = try HDF5File.create(path: path)
        let train = try file.createGroup("train")
        // 2-D uint8 "tiles", extendible along rows, chunked one row at a time.
        let tiles = try train.createDataset("tiles", of: UInt8.self, shape: [0, 48], maxShape: [nil, 48], chunk: [1, 48])
        try tiles.setExtent([5, 48])
        let rows = (0..<5 * 48).map { UInt8(truncatingIfNeeded: $0 * 7) }
        try tiles.write(Array(rows[48...]), offset: [1, 0], count: [4, 48])
        try tiles.write(Array(rows[..<48]), offset: [0, 0], count: [1, 48])
        try train.writeDataset("labels", [Int32(2), 0, 1, 1, 2])
        try train.writeDataset("x", [Int64.max, -1, 0, 1 << 40, 7])
        try train.writeDataset("background", [Float(0.25), 0.5, 0, 1, 0.125])
        try file.writeStrings("slide_ids", ["TCGA-SY-0001-01A-01-TS1", "é-ünïcode", ""])
        try file.close()

        let again = try HDF5File.open(path: path)
        let t = try again.openGroup("train").openDataset("tiles", of: UInt8.self)
        XCTAssertEqual(t.shape, [5, 48])
        XCTAssertEqual(try t.readAll(), rows)
        XCTAssertEqual(try t.read(offset: [2, 10], count: [2, 3]),
                       [rows[2 * 48 + 10], rows[2 * 48 + 11], rows[2 * 48 + 12], rows[3 * 48 + 10], rows[3 * 48 + 11], rows[3 * 48 + 12]])
        // Rows in any order, with repeats, come back in the order asked.
        let picked = try t.readRows([4, 0, 4, 2])
        XCTAssertEqual(Array(picked[0..<48]), Array(rows[(4 * 48)..<(5 * 48)]))
        XCTAssertEqual(Array(picked[48..<96]), Array(rows[0..<48]))
        XCTAssertEqual(Array(picked[96..<144]), Array(rows[(4 * 48)..<(5 * 48)]))
        XCTAssertEqual(Array(picked[144..<192]), Array(rows[(2 * 48)..<(3 * 48)]))
        XCTAssertEqual(try again.readDataset("train/labels", of: Int32.self), [2, 0, 1, 1, 2])
        XCTAssertEqual(try again.readDataset("train/x", of: Int64.self), [Int64.max, -1, 0, 1 << 40, 7])
        XCTAssertEqual(try again.readDataset("train/background", of: Float.self), [0.25, 0.5, 0, 1, 0.125])
        XCTAssertEqual(try again.readStrings("slide_ids"), ["TCGA-SY-0001-01A-01-TS1", "é-ünïcode", ""])
        XCTAssertTrue(again.exists("train/labels"))
        XCTAssertFalse(again.exists("test/labels"))
        try again.close()
    }

    func testAttributes() throws {
        let dir = try TestEnvironment.temporaryDirectory(self)
        let path = dir.appendingPathComponent("attrs.h5").path
        let file = try HDF5File.create(path: path)
        try file.setAttribute("schema_version", .int(1))
        try file.setAttribute("mpp", .double(0.5))
        try file.setAttribute("encoding", .string("jpeg"))
        try file.setAttribute("classes", .strings(["LUAD", "LUSC", "normal"]))
        try file.setAttribute("fractions", .doubles([0.7, 0.15, 0.15]))
        try file.setAttribute("encoding", .string("raw"))  // overwrite
        let group = try file.createGroup("g")
        try group.setAttribute("n", .ints([1, 2, 3]))
        try file.close()

        let again = try HDF5File.open(path: path)
        XCTAssertEqual(try again.intAttribute("schema_version"), 1)
        XCTAssertEqual(try again.doubleAttribute("mpp"), 0.5)
        XCTAssertEqual(try again.stringAttribute("encoding"), "raw")
        XCTAssertEqual(try again.stringsAttribute("classes"), ["LUAD", "LUSC", "normal"])
        XCTAssertEqual(try again.doublesAttribute("fractions"), [0.7, 0.15, 0.15])
        XCTAssertEqual(try again.openGroup("g").attribute("n"), .ints([1, 2, 3]))
        XCTAssertFalse(again.hasAttribute("missing"))
        XCTAssertThrowsError(try again.stringAttribute("mpp")) { error in
            XCTAssertTrue("\(error)".contains("attribute is not a string"), "\(error)")
            XCTAssertTrue("\(error)".contains(path))
        }
        try again.close()
    }

    func testErrorsNameTheFileAndCarryHDF5sStack() throws {
        let dir = try TestEnvironment.temporaryDirectory(self)
        // Not an HDF5 file.
        let text = dir.appendingPathComponent("not.h5")
        try Data("hello".utf8).write(to: text)
        XCTAssertThrowsError(try HDF5File.open(path: text.path)) { error in
            XCTAssertTrue("\(error)".contains(text.path), "\(error)")
            XCTAssertTrue("\(error)".contains("not an HDF5 file"), "\(error)")
        }
        // Missing file.
        XCTAssertThrowsError(try HDF5File.open(path: dir.appendingPathComponent("missing.h5").path)) { error in
            XCTAssertTrue("\(error)".contains("missing.h5"), "\(error)")
        }
        // Missing dataset: HDF5's own stack says why.
        let path = dir.appendingPathComponent("ok.h5").path
        let file = try HDF5File.create(path: path)
        try file.writeDataset("labels", [Int32(1)])
        XCTAssertThrowsError(try file.openDataset("nope", of: Int32.self)) { error in
            let e = error as? HDF5Error
            XCTAssertEqual(e?.call, "H5Dopen(nope)")
            XCTAssertFalse(e?.stack.isEmpty ?? true, "HDF5's error stack should be captured")
            XCTAssertTrue("\(error)".contains(path))
        }
        // Wrong element type for an existing dataset.
        XCTAssertThrowsError(try file.openDataset("labels", of: Double.self)) { error in
            XCTAssertTrue("\(error)".contains("expected Double"), "\(error)")
        }
        // Duplicate name.
        XCTAssertThrowsError(try file.writeDataset("labels", [Int32(2)]))
        try file.close()
        // A file truncated mid-write (a killed job) is refused with the hint to re-run.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let cut = dir.appendingPathComponent("cut.h5")
        try bytes.prefix(bytes.count / 2).write(to: cut)
        XCTAssertThrowsError(try HDF5File.open(path: cut.path).close()) { error in
            XCTAssertTrue("\(error)".contains(cut.path), "\(error)")
        }
    }

    func testObjectsStillOpenDoNotBlockClose() throws {
        let dir = try TestEnvironment.temporaryDirectory(self)
        let path = dir.appendingPathComponent("open.h5").path
        let file = try HDF5File.create(path: path)
        let group = try file.createGroup("g")
        let ds = try group.createDataset("d", of: Float.self, shape: [3])
        try ds.write([1, 2, 3], offset: [0], count: [3])
        // Both still referenced here; close() must still succeed and flush.
        try file.close()
        XCTAssertEqual(try HDF5File.open(path: path).readDataset("g/d", of: Float.self), [1, 2, 3])
        withExtendedLifetime((group, ds)) {}
    }
}
