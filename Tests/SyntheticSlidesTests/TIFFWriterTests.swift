// The TIFF wrapper, written and read back through OpenSlide. `TIFF` reaches this test target
// through `tessera-synth` (Package.swift does not list it for SyntheticSlidesTests), hence the guard.
#if canImport(TIFF)
import Foundation
import OpenSlide
import TIFF
import TesseraTestSupport
import XCTest

final class TIFFWriterTests: XCTestCase {
    /// A smooth test pattern (JPEG-friendly): RGB from the coordinates.
    private func pattern(width: Int, height: Int, scale: Int) -> [UInt8] {
        var p = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                p[i] = UInt8(40 + (x * scale) % 180)
                p[i + 1] = UInt8(60 + (y * scale) % 160)
                p[i + 2] = UInt8(120 + ((x + y) * scale / 2) % 100)
            }
        }
        return p
    }

    func testTwoLevelPyramidWithPartialEdgeTilesReadsBackInOpenSlide() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "tiff")
        let path = dir.appendingPathComponent("pattern.svs").path
        let writer = try PyramidTIFFWriter(path: path, tileSize: 128, quality: 95)
        let sizes = [(300, 200, 1), (75, 50, 4)]
        for (w, h, scale) in sizes {
            let pixels = pattern(width: w, height: h, scale: scale)
            let description = w == 300 ? "Aperio Image Library v11.2.1\n300x200 [0,0 300x200] (128x128) JPEG/RGB Q=95|AppMag = 20|MPP = 0.4990" : nil
            try writer.beginDirectory(width: w, height: h, description: description)
            for row in 0..<((h + 127) / 128) {
                let rows = min(128, h - row * 128)
                try writer.writeTileRow(row, pixels: Array(pixels[(row * 128 * w * 3)..<((row * 128 + rows) * w * 3)]),
                                        width: w, height: rows)
            }
            try writer.finishDirectory()
        }
        try writer.close()

        let slide = try Slide(path: path)
        XCTAssertEqual(slide.vendor, "aperio")
        XCTAssertEqual(slide.mpp?.x ?? 0, 0.499, accuracy: 1e-9)
        XCTAssertEqual(slide.levelCount, 2)
        XCTAssertTrue(slide.dimensions(level: 1) == (75, 50))
        for (level, (w, h, scale)) in sizes.enumerated() {
            let read = try slide.readRegion(x: 0, y: 0, level: level, width: w, height: h)
            let expected = pattern(width: w, height: h, scale: scale)
            var total = 0, worst = 0
            for i in 0..<expected.count {
                let d = abs(Int(read.pixels[i]) - Int(expected[i]))
                total += d
                worst = max(worst, d)
            }
            let mean = Double(total) / Double(expected.count)
            print("level \(level): mean |diff| \(mean), max \(worst)")
            // JPEG q95 4:2:0 on a smooth pattern with a few hard wrap-around edges.
            XCTAssertLessThan(mean, 3, "level \(level)")
        }
        // Past the right edge OpenSlide shows nothing (transparent → white), not the tile padding.
        let beyond = try slide.readRegion(x: 296, y: 0, level: 0, width: 8, height: 8)
        XCTAssertEqual(beyond.pixel(x: 7, y: 3).0, 255)
    }

    func testFailuresBecomeTIFFErrorsWithThePathAndLibtiffsMessage() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "tiff-fail")
        let path = dir.appendingPathComponent("no/such/folder/x.svs").path
        XCTAssertThrowsError(try PyramidTIFFWriter(path: path, tileSize: 240, quality: 90)) { error in
            guard let e = error as? TIFFError else { return XCTFail("not a TIFFError: \(error)") }
            XCTAssertEqual(e.path, path)
            XCTAssertTrue(e.message.contains("No such file or directory"), e.message)
            XCTAssertTrue(e.description.contains("hint:"), e.description)
        }
    }

    func testDiscardRemovesTheFile() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "tiff-discard")
        let path = dir.appendingPathComponent("partial.svs").path
        let writer = try PyramidTIFFWriter(path: path, tileSize: 128, quality: 90)
        try writer.beginDirectory(width: 256, height: 128)
        try writer.writeTile(column: 0, row: 0, pixels: [UInt8](repeating: 200, count: 128 * 128 * 3), width: 128, height: 128)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        writer.discard()
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}
#endif
