import Foundation
import HDF5
import TesseraTestSupport
import XCTest

/// The Fletcher-32 option of the HDF5 wrapper: HDF5 verifies each chunk on read, and a damaged
/// chunk surfaces as an `HDF5Error` that names the file and the dataset and says it is a checksum.
final class HDF5ChecksumTests: XCTestCase {
    func testDamagedChunkFailsItsReadAndOthersStillRead() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "hdf5")
        let url = dir.appendingPathComponent("sums.h5")
        // Not periodic: the damaged chunk's bytes occur only once in the file.
        let values = (0..<4096).map { UInt8(truncatingIfNeeded: (UInt64($0) &* 0x9E37_79B9_7F4A_7C15) >> 41) }
        let file = try HDF5File.create(path: url.path)
        let ds = try file.createDataset("data", of: UInt8.self, shape: [values.count], chunk: [1024], checksum: true)
        try ds.write(values, offset: [0], count: [values.count])
        try file.writeDataset("plain", [1.0, 2.0])
        try file.writeStrings("names", ["a", "bc"], checksum: true)
        try file.close()

        // Damage chunk 2 (elements 2048..<3072), found by its bytes.
        XCTAssertNotNil(try FileDamage.flipByte(in: url, inside: Array(values[2048..<3072]), offsetInside: 500))
        let again = try HDF5File.open(path: url.path)
        let data = try again.openDataset("data", of: UInt8.self)
        XCTAssertTrue(data.hasChecksum)
        XCTAssertFalse(try again.openDataset("plain", of: Double.self).hasChecksum)
        XCTAssertEqual(try again.readStrings("names"), ["a", "bc"])
        XCTAssertEqual(try data.read(offset: [0], count: [2048]), Array(values[0..<2048]))
        XCTAssertThrowsError(try data.read(offset: [2500], count: [10])) { error in
            let e = try? XCTUnwrap(error as? HDF5Error)
            XCTAssertEqual(e?.isChecksumMismatch, true, "\(error)")
            XCTAssertEqual(e?.path, url.path)
            XCTAssertEqual(e?.call, "H5Dread(data)")
        }
        XCTAssertEqual(try data.read(offset: [3072], count: [1024]), Array(values[3072...]))
        try again.close()
    }
}
