import Foundation
import TesseraCore
import XCTest

@testable import SyntheticSlides

final class PyramidTests: XCTestCase {
    func testLevelsShrinkByFourWhileAtLeastOneTileAcross() {
        func sizes(_ w: Int, _ h: Int, _ t: Int) -> [[Int]] {
            PyramidLayout(width: w, height: h, tileSize: t).levels.map { [$0.width, $0.height, $0.downsample] }
        }
        XCTAssertEqual(sizes(40000, 30000, 240), [[40000, 30000, 1], [10000, 7500, 4], [2500, 1875, 16], [625, 468, 64]])
        XCTAssertEqual(sizes(8192, 8192, 256), [[8192, 8192, 1], [2048, 2048, 4], [512, 512, 16]])
        XCTAssertEqual(sizes(1024, 512, 240), [[1024, 512, 1], [256, 128, 4]])
        XCTAssertEqual(sizes(3840, 512, 240), [[3840, 512, 1], [960, 128, 4], [240, 32, 16]])
        XCTAssertEqual(sizes(480, 480, 240), [[480, 480, 1]])
        let layout = PyramidLayout(width: 1000, height: 700, tileSize: 240)
        XCTAssertEqual(layout.tileColumns(0), 5)
        XCTAssertEqual(layout.tileRows(0), 3)
    }

    /// The streaming box filter against a naive one over the whole image, fed in uneven strips.
    func testAreaDownsamplerMatchesTheNaiveBoxFilter() {
        var rng = SeededGenerator(seed: 9)
        let (w, h) = (37, 23)
        let image = RGBImage(width: w, height: h, pixels: (0..<(w * h * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        var reducer = AreaDownsampler(inputWidth: w)
        var streamed: [UInt8] = []
        var y = 0
        for stripHeight in [1, 6, 3, 8, 5] {
            let strip = RGBImage(width: w, height: stripHeight,
                                 pixels: Array(image.pixels[(y * w * 3)..<((y + stripHeight) * w * 3)]))
            let out = reducer.push(strip)
            XCTAssertEqual(out.width, 9)
            streamed += out.pixels
            y += stripHeight
        }
        XCTAssertEqual(y, h)
        XCTAssertEqual(streamed, naiveBoxFilter(image).pixels)
        XCTAssertEqual(streamed.count, 9 * 5 * 3)
    }

    /// The synthesizer streams every level in order into a sink; each level-0 strip is the
    /// renderer's region and each lower level is the box filter of the level above.
    func testSynthesizerStreamsEveryLevelAndRemovesItsSpoolFiles() throws {
        let spec = SlideSpec(slideID: "S", patientID: "P", tissueClass: .lusc, seed: 3, width: 600, height: 300,
                             scan: .aperio20x)
        let synthesizer = SlideSynthesizer(spec: spec, tileSize: 128)
        XCTAssertEqual(synthesizer.layout.levels.count, 2)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pyr-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        let sink = MemorySink(tileSize: 128)
        try synthesizer.write(to: sink, spoolingAt: dir.appendingPathComponent("slide"))
        XCTAssertEqual(sink.events.first, "begin 0 600x300")
        XCTAssertEqual(sink.events.filter { $0.hasPrefix("begin") }, ["begin 0 600x300", "begin 1 150x75"])
        XCTAssertEqual(sink.levels.count, 2)
        let level0 = sink.levels[0], level1 = sink.levels[1]
        XCTAssertEqual(level0.height, 300)
        XCTAssertEqual(level0, synthesizer.renderer.render(x: 0, y: 0, width: 600, height: 300))
        XCTAssertEqual(level1, naiveBoxFilter(level0))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [], "spool files left behind")
    }

    private func naiveBoxFilter(_ image: RGBImage) -> RGBImage {
        let w = image.width / 4, h = image.height / 4
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 {
                    var sum = 0
                    for dy in 0..<4 { for dx in 0..<4 { sum += Int(image.pixels[((4 * y + dy) * image.width + 4 * x + dx) * 3 + c]) } }
                    out[(y * w + x) * 3 + c] = UInt8((sum + 8) / 16)
                }
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }
}

/// Collects a pyramid in memory, checking the strip protocol as it goes.
final class MemorySink: PyramidSink {
    let tileSize: Int
    private(set) var events: [String] = []
    private(set) var levels: [RGBImage] = []
    private var current: (width: Int, height: Int, pixels: [UInt8], nextRow: Int)?

    init(tileSize: Int) { self.tileSize = tileSize }

    func beginLevel(_ level: Int, width: Int, height: Int) throws {
        XCTAssertNil(current)
        XCTAssertEqual(level, levels.count)
        events.append("begin \(level) \(width)x\(height)")
        current = (width, height, [], 0)
    }

    func writeTileRow(_ row: Int, strip: RGBImage) throws {
        guard var c = current else { return XCTFail("strip outside a level") }
        XCTAssertEqual(row, c.nextRow)
        XCTAssertEqual(strip.width, c.width)
        XCTAssertEqual(strip.height, min(tileSize, c.height - row * tileSize))
        c.pixels += strip.pixels
        c.nextRow += 1
        current = c
    }

    func endLevel() throws {
        guard let c = current else { return XCTFail("endLevel outside a level") }
        XCTAssertEqual(c.pixels.count, c.width * c.height * 3)
        levels.append(RGBImage(width: c.width, height: c.height, pixels: c.pixels))
        events.append("end")
        current = nil
    }

    func close() throws { events.append("close") }
    func discard() { events.append("discard") }
}
