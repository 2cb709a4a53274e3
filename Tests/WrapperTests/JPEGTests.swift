import Foundation
import JPEG
import OpenSlide
import TesseraCore
import TesseraTestSupport
import XCTest

final class JPEGTests: XCTestCase {
    /// A textured, tissue-like test image without needing a slide.
    static func texture(_ w: Int, _ h: Int) -> RGBImage {
        var p = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let i = (y * w + x) * 3
                let v = 0.5 + 0.25 * sin(Double(x) / 7) * cos(Double(y) / 11) + 0.2 * sin(Double(x + y) / 31)
                p[i] = UInt8(max(0, min(255, 200 * v + 40)))
                p[i + 1] = UInt8(max(0, min(255, 120 * v + 30)))
                p[i + 2] = UInt8(max(0, min(255, 160 * v + 60)))
            }
        }
        return RGBImage(width: w, height: h, pixels: p)
    }

    static func psnr(_ a: RGBImage, _ b: RGBImage) -> Double {
        var se = 0.0
        for i in 0..<a.pixels.count { let d = Double(a.pixels[i]) - Double(b.pixels[i]); se += d * d }
        let mse = se / Double(a.pixels.count)
        return 10 * log10(255 * 255 / max(mse, 1e-12))
    }

    func testRoundTripQualityAndSize() throws {
        let image = JPEGTests.texture(512, 512)
        let bytes = try JPEGEncoder(quality: 90).encode(image)
        let decoded = try JPEGDecoder().decode(bytes)
        XCTAssertEqual(decoded.width, 512)
        XCTAssertEqual(decoded.height, 512)
        let psnr = JPEGTests.psnr(image, decoded)
        XCTAssertGreaterThan(psnr, 35, "PSNR \(psnr) dB")
        XCTAssertLessThan(bytes.count, 512 * 512 * 3 / 8, "a smooth 512² tile should compress > 8×")
        XCTAssertEqual(try JPEGDecoder().dimensions(of: bytes).width, 512)
    }

    func testRealTileSize() throws {
        let slide = try Slide(path: try TestEnvironment.realSlide("cmu-1-small-region.svs"))
        let tile = try slide.readRegion(x: 800, y: 1000, level: 0, width: 512, height: 512)
        let bytes = try JPEGEncoder(quality: 90).encode(tile)
        // The store budget: 40–60 KB per 512² H&E tile at q90, not 3 MiB of float32.
        XCTAssertLessThan(bytes.count, 120_000, "\(bytes.count) bytes")
        // Dense nuclei at full resolution are the hard case for JPEG: ~29 dB here at q90.
        XCTAssertGreaterThan(JPEGTests.psnr(tile, try JPEGDecoder().decode(bytes)), 27)
    }

    func testReducedScaleDecodeMatchesAreaAverage() throws {
        let image = JPEGTests.texture(512, 384)
        let bytes = try JPEGEncoder(quality: 95).encode(image)
        let quarter = try JPEGDecoder().decode(bytes, scale: 4)
        XCTAssertEqual(quarter.width, 128)
        XCTAssertEqual(quarter.height, 96)
        // Each output pixel is close to the mean of its 4×4 block of the original.
        var maxDiff = 0.0
        for y in 0..<96 {
            for x in 0..<128 {
                for c in 0..<3 {
                    var sum = 0.0
                    for dy in 0..<4 { for dx in 0..<4 { sum += Double(image.pixels[((4 * y + dy) * 512 + 4 * x + dx) * 3 + c]) } }
                    maxDiff = max(maxDiff, abs(sum / 16 - Double(quarter.pixels[(y * 128 + x) * 3 + c])))
                }
            }
        }
        XCTAssertLessThan(maxDiff, 12, "largest difference to the 4×4 area mean: \(maxDiff)")
    }

    func testCorruptDataIsAnErrorNotACrash() throws {
        let decoder = try JPEGDecoder()
        XCTAssertThrowsError(try decoder.decode([UInt8](repeating: 7, count: 1000))) { error in
            XCTAssertEqual((error as? JPEGError)?.operation, .header)
        }
        XCTAssertThrowsError(try decoder.decode([]))
        let bytes = try JPEGEncoder().encode(JPEGTests.texture(256, 256))
        // Truncated: the header parses, the scan ends early → an error in strict mode.
        XCTAssertThrowsError(try decoder.decode(Array(bytes.prefix(bytes.count / 2)))) { error in
            XCTAssertEqual((error as? JPEGError)?.operation, .decode)
        }
        // The decoder stays usable after errors.
        XCTAssertEqual(try decoder.decode(bytes).width, 256)
    }
}
