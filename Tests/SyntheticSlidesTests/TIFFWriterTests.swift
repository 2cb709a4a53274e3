// The TIFF wrapper, written and read back through OpenSlide.
import Foundation
import OpenSlide
import TIFF
import TesseraTestSupport
import XCTest

final class TIFFWriterTests: XCTestCase {
    /// A smooth test pattern (JPEG-friendly): RGB waves over the coordinates.
    private func pattern(width: Int, height: Int, scale: Int) -> [UInt8] {
        var p = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let u = Double(x * scale), v = Double(y * scale)
                let i = (y * width + x) * 3
                p[i] = UInt8(128 + 90 * sin(u / 40))
                p[i + 1] = UInt8(128 + 90 * cos(v / 33))
                p[i + 2] = UInt8(128 + 60 * sin((u + v) / 57))
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
            var total = 0, worstInside = 0, worstAtEdge = 0
            for i in 0..<expected.count {
                let d = abs(Int(read.pixels[i]) - Int(expected[i]))
                total += d
                let x = (i / 3) % w, y = (i / 3) / w
                // The last 8 px share JPEG blocks (and 2×2 chroma) with the white padding.
                if x < w - 8 && y < h - 8 { worstInside = max(worstInside, d) } else { worstAtEdge = max(worstAtEdge, d) }
            }
            let mean = Double(total) / Double(expected.count)
            print("level \(level): mean |diff| \(mean), max \(worstInside) inside, \(worstAtEdge) within 8 px of the padding")
            // JPEG q95 with 4:2:0 chroma on a smooth pattern: about one level on average.
            XCTAssertLessThan(mean, 1.5, "level \(level)")
            XCTAssertLessThan(worstInside, 16, "level \(level)")
            XCTAssertLessThan(worstAtEdge, 64, "level \(level)")
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
