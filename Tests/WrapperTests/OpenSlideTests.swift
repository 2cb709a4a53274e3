import Foundation
import OpenSlide
import TesseraCore
import TesseraTestSupport
import XCTest

final class OpenSlideTests: XCTestCase {
    /// Opens one of the real test slides and checks what every slide's metadata test starts with:
    /// its vendor, number of levels and level-0 size.
    func openRealSlide(_ name: String, vendor: String, levels: Int, width: Int, height: Int,
                       file: StaticString = #filePath, line: UInt = #line) throws -> Slide {
        let slide = try Slide(path: try TestEnvironment.realSlide(name))
        XCTAssertEqual(slide.vendor, vendor, file: file, line: line)
        XCTAssertEqual(slide.levelCount, levels, file: file, line: line)
        XCTAssertEqual(slide.dimensions(level: 0).width, width, file: file, line: line)
        XCTAssertEqual(slide.dimensions(level: 0).height, height, file: file, line: line)
        return slide
    }

    func testAperioJPEGSlideMetadata() throws {
        let slide = try openRealSlide("cmu-1-small-region.svs", vendor: "aperio", levels: 1, width: 2220, height: 2967)
        XCTAssertEqual(slide.downsample(level: 0), 1.0, accuracy: 1e-9)
        let mpp = try XCTUnwrap(slide.mpp)
        XCTAssertEqual(mpp.x, 0.499, accuracy: 1e-6)
        XCTAssertEqual(mpp.y, 0.499, accuracy: 1e-6)
        XCTAssertEqual(slide.objectivePower, 20)
        XCTAssertTrue(slide.associatedImageNames.contains("thumbnail"), "\(slide.associatedImageNames)")
        let thumb = try slide.associatedImage("thumbnail")
        XCTAssertGreaterThan(thumb.width, 10)
        XCTAssertEqual(thumb.pixels.count, thumb.width * thumb.height * 3)
        XCTAssertThrowsError(try slide.associatedImage("no-such-image")) { error in
            XCTAssertEqual((error as? OpenSlideError)?.kind, .noSuchAssociatedImage)
        }
    }

    func testTCGASlideWithoutMPP() throws {
        let slide = try openRealSlide("tcga-cr-7395-01a-01-ts1.svs", vendor: "aperio", levels: 2, width: 4443, height: 3567)
        XCTAssertEqual(slide.dimensions(level: 1).width, 2221)
        XCTAssertEqual(slide.downsample(level: 1), 2.0, accuracy: 0.01)
        XCTAssertNil(slide.mpp)
        XCTAssertNil(slide.objectivePower)
        XCTAssertEqual(slide.bestLevel(forDownsample: 1.5), 0)
        XCTAssertEqual(slide.bestLevel(forDownsample: 2.5), 1)
        XCTAssertEqual(slide.bestLevel(forDownsample: 64), 1)
        // JPEG 2000 tiles decode to tissue-coloured pixels: not all white, not all black.
        let region = try slide.readRegion(x: 2000, y: 1500, level: 0, width: 256, height: 256)
        let mean = Double(region.pixels.reduce(0) { $0 + Int($1) }) / Double(region.pixels.count)
        XCTAssertGreaterThan(mean, 60)
        XCTAssertLessThan(mean, 250)
    }

    func testReadRegionIsDeterministicAndOutsideIsWhite() throws {
        let slide = try Slide(path: try TestEnvironment.realSlide("cmu-1-small-region.svs"))
        let a = try slide.readRegion(x: 1000, y: 1200, level: 0, width: 300, height: 200)
        let b = try slide.readRegion(x: 1000, y: 1200, level: 0, width: 300, height: 200)
        XCTAssertEqual(a, b)
        // A sub-region read at an offset matches the same pixels of the larger read.
        let c = try slide.readRegion(x: 1100, y: 1250, level: 0, width: 50, height: 40)
        for y in 0..<40 { for x in 0..<50 { XCTAssertTrue(c.pixel(x: x, y: y) == a.pixel(x: x + 100, y: y + 50)) } }
        // Entirely outside the slide: transparent in OpenSlide, white (glass) here.
        let outside = try slide.readRegion(x: 5000, y: 5000, level: 0, width: 64, height: 64)
        XCTAssertTrue(outside.pixels.allSatisfy { $0 == 255 })
        // Straddling the right edge: inside pixels keep their colour, outside ones are white.
        let edge = try slide.readRegion(x: 2220 - 16, y: 1000, level: 0, width: 32, height: 8)
        XCTAssertTrue((16..<32).allSatisfy { x in edge.pixel(x: x, y: 3) == (255, 255, 255) })
    }

    func testUnpremultiplyCompositesOverWhite() {
        // Opaque pixel: unchanged. Transparent: white. Half-transparent premultiplied red (a=128,
        // r=128): straight red 255 at 50% over white → (255, 127, 127).
        let argb: [UInt32] = [0xFF10_2030, 0x0000_0000, 0x8080_0000, 0x4000_4000]
        let rgb = Slide.unpremultiply(argb)
        XCTAssertEqual(Array(rgb[0..<3]), [0x10, 0x20, 0x30])
        XCTAssertEqual(Array(rgb[3..<6]), [255, 255, 255])
        XCTAssertEqual(Array(rgb[6..<9]), [255, 127, 127])
        XCTAssertEqual(Array(rgb[9..<12]), [191, 255, 191])
    }

    func testNotASlideIsRefusedNamingTheFile() throws {
        let broken = try TestEnvironment.realSlide("broken.svs")
        XCTAssertThrowsError(try Slide(path: broken)) { error in
            let e = error as? OpenSlideError
            XCTAssertEqual(e?.kind, .unsupportedFormat)
            XCTAssertTrue("\(error)".contains(broken), "\(error)")
            XCTAssertTrue("\(error)".contains("not a supported slide"), "\(error)")
        }
        let dir = try TestEnvironment.temporaryDirectory(self)
        let text = dir.appendingPathComponent("notes.svs")
        try Data("patient notes, not an image\n".utf8).write(to: text)
        XCTAssertThrowsError(try Slide(path: text.path)) { error in
            XCTAssertEqual((error as? OpenSlideError)?.kind, .unsupportedFormat)
        }
    }

    func testMissingFile() {
        XCTAssertThrowsError(try Slide(path: "/nonexistent/slide.svs")) { error in
            XCTAssertEqual((error as? OpenSlideError)?.kind, .missingFile)
            XCTAssertTrue("\(error)".contains("/nonexistent/slide.svs"))
            XCTAssertTrue("\(error)".contains("hint:"))
        }
    }

    func testTruncatedSlideIsRefused() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: try TestEnvironment.realSlide("cmu-1-small-region.svs")))
        let dir = try TestEnvironment.temporaryDirectory(self)
        let truncated = dir.appendingPathComponent("truncated.svs")
        try original.prefix(original.count / 3).write(to: truncated)
        // OpenSlide may refuse the file at open, or open it and fail on the missing tiles; either
        // way the error is thrown and names the file, and no zero-filled pixels come back.
        do {
            let slide = try Slide(path: truncated.path)
            let (w, h) = slide.dimensions(level: 0)
            var failed = false
            for y in stride(from: 0, to: h - 512, by: 512) {
                for x in stride(from: 0, to: w - 512, by: 512) {
                    do { _ = try slide.readRegion(x: x, y: y, level: 0, width: 512, height: 512) } catch {
                        failed = true
                        XCTAssertTrue("\(error)".contains(truncated.path))
                    }
                }
            }
            XCTAssertTrue(failed, "a slide cut to a third of its size read without error")
        } catch {
            XCTAssertTrue("\(error)".contains(truncated.path), "\(error)")
        }
    }

    /// A slide that opens but has a damaged tile: OpenSlide's error is sticky, so after the first
    /// failed read the handle is poisoned and every later read throws (instead of zero pixels).
    func testCorruptTilePoisonsTheHandle() throws {
        let path = try TestEnvironment.realSlide("cmu-1-small-region.svs")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // Overwrite the middle of the tile data (the directory and JPEG tables are at the start).
        let start = bytes.count / 2
        for i in start..<(start + 200_000) { bytes[i] = UInt8(truncatingIfNeeded: i &* 131) }
        let dir = try TestEnvironment.temporaryDirectory(self)
        let damaged = dir.appendingPathComponent("damaged-tiles.svs")
        try Data(bytes).write(to: damaged)
        let slide = try Slide(path: damaged.path)
        let (w, h) = slide.dimensions(level: 0)
        var firstError: Error?
        outer: for y in stride(from: 0, to: h, by: 240) {
            for x in stride(from: 0, to: w, by: 240) {
                do { _ = try slide.readRegion(x: x, y: y, level: 0, width: 240, height: 240) } catch {
                    firstError = error
                    break outer
                }
            }
        }
        let error = try XCTUnwrap(firstError, "no read failed on a slide with 200 KB of garbage in its tiles")
        XCTAssertEqual((error as? OpenSlideError)?.kind, .corrupt)
        // A read of a region that was fine before now throws too: the handle is poisoned.
        XCTAssertThrowsError(try slide.readRegion(x: 0, y: 0, level: 0, width: 16, height: 16)) { again in
            XCTAssertEqual((again as? OpenSlideError)?.kind, .corrupt)
        }
        // A fresh handle reads the good region again.
        let fresh = try Slide(path: damaged.path)
        XCTAssertNoThrow(try fresh.readRegion(x: 0, y: 0, level: 0, width: 16, height: 16))
    }
}
