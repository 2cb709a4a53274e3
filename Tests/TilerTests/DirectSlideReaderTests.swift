// The direct JPEG reader (libtiff raw tiles + TurboJPEG) against OpenSlide's read_region.
import Foundation
import OpenSlide
import TIFF
import TesseraCore
import TesseraTestSupport
import Tiling
import XCTest

@testable import SlideTiles

final class DirectSlideReaderTests: XCTestCase {
    /// Stain-like colours with fine texture, so that JPEG blocks and chroma subsampling matter.
    static func pattern(width: Int, height: Int, scale: Int) -> [UInt8] {
        var p = [UInt8](repeating: 0, count: width * height * 3)
        for pixel in 0..<(width * height) {
            let x = pixel % width * scale, y = pixel / width * scale
            let u = Double(x), v = Double(y)
            var h = UInt32(truncatingIfNeeded: x &* 73_856_093 ^ y &* 19_349_663)
            h = (h ^ (h >> 13)) &* 0x5BD1_E995
            let noise = Double(h >> 24) / 255 - 0.5
            p[3 * pixel] = UInt8(max(0, min(255, 170 + 60 * sin(u / 23) + 30 * noise)))
            p[3 * pixel + 1] = UInt8(max(0, min(255, 110 + 70 * cos(v / 17) * sin(u / 41) + 30 * noise)))
            p[3 * pixel + 2] = UInt8(max(0, min(255, 180 + 50 * sin((u + v) / 29) + 20 * noise)))
        }
        return p
    }

    /// Writes a two-level slide (level 1 at ¼) with partial edge tiles; Aperio text unless `generic`.
    static func writeSlide(_ path: String, width: Int = 1000, height: Int = 736, tileSize: Int = 240,
                           colour: PyramidTIFFWriter.Colour, sharedTables: Bool, generic: Bool = false, mpp: Double = 0.499) throws {
        let writer = try PyramidTIFFWriter(path: path, tileSize: tileSize, quality: 90, colour: colour, sharedTables: sharedTables)
        for (w, h, scale) in [(width, height, 1), (width / 4, height / 4, 4)] {
            let pixels = pattern(width: w, height: h, scale: scale)
            let description = scale == 1 && !generic
                ? "Aperio Image Library v11.2.1\n\(w)x\(h) [0,0 \(w)x\(h)] (\(tileSize)x\(tileSize)) JPEG/RGB Q=90|AppMag = \(Int((10 / mpp).rounded()))|MPP = \(mpp)" : nil
            try writer.beginDirectory(width: w, height: h, description: description)
            for row in 0..<((h + tileSize - 1) / tileSize) {
                let rows = min(tileSize, h - row * tileSize)
                try writer.writeTileRow(row, pixels: Array(pixels[(row * tileSize * w * 3)..<((row * tileSize + rows) * w * 3)]),
                                        width: w, height: rows)
            }
            try writer.finishDirectory()
        }
        try writer.close()
    }

    /// Cuts the entropy-coded data of tile (`column`, `row`) of level 0 short with an EOI marker halfway
    /// (libjpeg warns "premature end of data segment" and fills the rest with grey).
    static func damageTile(path: String, column: Int, row: Int) throws {
        let tiff = try TIFFTileReader(path: path)
        var raw: [UInt8] = []
        let count = try tiff.readRawTile(directory: 0, column: column, row: row, into: &raw)
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        let at = try XCTUnwrap(data.range(of: Data(raw[0..<count]))).lowerBound + count / 2
        data.replaceSubrange(at..<(at + 8), with: [0xFF, 0xD9, 0, 0, 0, 0, 0, 0])
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// Largest per-channel difference between the two readers over `regions` (x, y, level, w, h).
    private func worstDifference(_ source: any SlideSource, _ regions: [(Int, Int, Int, Int, Int)],
                                 file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let direct = try source.makeRegionReader()
        let slide = try Slide(path: source.path)
        var worst = 0
        for (x, y, level, w, h) in regions {
            let a = try direct.readRegion(x: x, y: y, level: level, width: w, height: h)
            let b = try slide.readRegion(x: x, y: y, level: level, width: w, height: h)
            XCTAssertEqual(a.width, b.width, file: file, line: line)
            let d = zip(a.pixels, b.pixels).reduce(0) { max($0, abs(Int($1.0) - Int($1.1))) }
            if d > 0 { print("region (\(x), \(y)) level \(level) \(w)×\(h): max difference \(d)") }
            worst = max(worst, d)
        }
        return worst
    }

    func testRealAperioJPEGSlideGivesOpenSlidesPixels() throws {
        let path = try TestEnvironment.realSlide("cmu-1-small-region.svs")
        let source = try SlideSources.open(path: path, log: false)
        XCTAssertEqual(source.kind, .directJPEG)
        let (w, h) = source.slide.dimensions(level: 0)
        // Origin, straddling tile corners (240² tiles), a partial edge tile, and past the slide's edges.
        let regions = [(0, 0, 0, 512, 512), (239, 239, 0, 3, 3), (700, 1100, 0, 512, 300), (w - 100, h - 70, 0, 256, 256),
                       (w - 20, 5, 0, 64, 64), (2000, 2900, 0, 700, 200)]
        XCTAssertEqual(try worstDifference(source, regions), 0, "at native resolution the direct path must give OpenSlide's pixels")
    }

    func testGeneratedSlidesInEveryJPEGVariantGiveOpenSlidesPixels() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "direct")
        let variants: [(PyramidTIFFWriter.Colour, Bool, Bool)] = [(.ycbcr, true, false), (.ycbcr, false, false), (.rgb, true, false),
                                                                  (.rgb, false, false), (.ycbcr, true, true)]
        for (colour, tables, generic) in variants {
            let name = "\(colour)-\(tables ? "tables" : "self-contained")\(generic ? "-generic" : "")"
            let path = dir.appendingPathComponent("\(name).tif").path
            try Self.writeSlide(path, colour: colour, sharedTables: tables, generic: generic)
            let level0 = try TIFFTileReader(path: path).directories[0]
            XCTAssertEqual(level0.photometric, colour == .rgb ? TIFFDirectoryInfo.photometricRGB : TIFFDirectoryInfo.photometricYCbCr, name)
            XCTAssertEqual(level0.jpegTables != nil, tables, name)
            let source = try SlideSources.open(path: path, log: false)
            XCTAssertEqual(source.kind, .directJPEG, name)
            XCTAssertEqual(source.slide.vendor, generic ? "generic-tiff" : "aperio", name)
            // Level 1 is 250×184, downsample exactly 4: origins at multiples of 4 are whole level-1 pixels.
            // (Where a level's downsample is not whole, e.g. 730 / 182, OpenSlide paints level-1 pixels at a
            // fractional offset, interpolating; the direct path rounds to the nearest pixel.)
            let regions = [(0, 0, 0, 512, 512), (236, 100, 0, 300, 300), (1000 - 128, 736 - 100, 0, 256, 256),
                           (480, 480, 0, 240, 240), (0, 0, 1, 250, 184), (400, 240, 1, 128, 128), (960, 720, 1, 64, 64)]
            XCTAssertEqual(try worstDifference(source, regions), 0, name)
        }
    }

    func testCorruptTileFailsWithItsPosition() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "corrupt")
        let path = dir.appendingPathComponent("corrupt.svs").path
        try Self.writeSlide(path, colour: .ycbcr, sharedTables: true)
        try Self.damageTile(path: path, column: 2, row: 1)

        let source = try SlideSources.open(path: path, log: false)
        XCTAssertEqual(source.kind, .directJPEG)
        let reader = try source.makeRegionReader()
        XCTAssertNoThrow(try reader.readRegion(x: 0, y: 0, level: 0, width: 240, height: 240), "other tiles read")
        XCTAssertThrowsError(try reader.readRegion(x: 400, y: 200, level: 0, width: 200, height: 200)) { error in
            let text = "\(error)"
            XCTAssertTrue(error is SlideReadError, text)
            XCTAssertTrue(text.contains("level 0 tile (2, 1)") && text.contains("(480, 240)"), text)
        }
    }

    func testJPEG2000AperioFallsBackToOpenSlide() throws {
        let source = try SlideSources.open(path: try TestEnvironment.realSlide("tcga-cr-7395-01a-01-ts1.svs"), log: false)
        XCTAssertEqual(source.kind, .openSlide)
        let reason = try XCTUnwrap(DirectJPEGSource.open(slide: source.slide).failureMessage)
        XCTAssertTrue(reason.contains("compression 33005"), reason)
        let forced = try SlideSources.open(path: try TestEnvironment.realSlide("cmu-1-small-region.svs"), choice: .openSlide, log: false)
        XCTAssertEqual(forced.kind, .openSlide)
    }

    /// A single-level slide (no pyramid to mask from) is masked by the streamed ⅛-decoder pass: it
    /// skips glass without reading it and never skips a tile the per-tile rule keeps.
    func testSingleLevelSlideIsMaskedByTheStreamedPass() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "single")
        let path = dir.appendingPathComponent("single.tif").path
        let (w, h) = (1200, 720)
        var pixels = Self.pattern(width: w, height: h, scale: 1)
        for i in 0..<(w * h) where i % w >= w / 2 { pixels[3 * i] = 255; pixels[3 * i + 1] = 255; pixels[3 * i + 2] = 255 }
        let writer = try PyramidTIFFWriter(path: path, tileSize: 240, quality: 90)
        try writer.beginDirectory(width: w, height: h)
        for row in 0..<3 { try writer.writeTileRow(row, pixels: Array(pixels[(row * 240 * w * 3)..<((row + 1) * 240 * w * 3)]), width: w, height: 240) }
        try writer.finishDirectory()
        try writer.close()
        let source = try SlideSources.open(path: path, log: false)
        XCTAssertEqual(source.kind, .directJPEG)
        XCTAssertEqual(source.slide.levelCount, 1)
        func tile(mask: Bool) throws -> (SlideTilingSummary, [Int]) {
            let tiler = SlideTiler(spec: TilingSpec(tileSize: 64, target: .level(0), rule: BackgroundRule(), jpegQuality: nil),
                                   workers: 2, useTissueMask: mask)
            var kept: [Int] = []
            let summary = try tiler.run(source: source, plan: try tiler.plan(for: source), sink: { kept += $0.map { $0.y * w + $0.x } })
            return (summary, kept)
        }
        let (masked, keptMasked) = try tile(mask: true)
        let (all, keptAll) = try tile(mask: false)
        XCTAssertGreaterThan(masked.skippedByMask, masked.considered / 3, "the glass half is skipped without reading")
        XCTAssertEqual(all.skippedByMask, 0)
        XCTAssertGreaterThan(keptAll.count, 0)
        XCTAssertEqual(keptMasked, keptAll, "the mask skipped a tile the rule keeps")

        // The pass shares its strips (8 mask rows each: 6 here) among the readers: 1, 2 or 3 give
        // the same mask, each pixel the integer mean of its 2×2 block of the level read whole at ⅛.
        let whole = try XCTUnwrap(try source.makeRegionReader().readRegion(x: 0, y: 0, level: 0, width: w / 8, height: h / 8, scale: 8))
        var expected: [UInt8] = []
        for my in 0..<(h / 16) {
            for mx in 0..<(w / 16) {
                for c in 0..<3 {
                    let sum = [(0, 0), (0, 1), (1, 0), (1, 1)].reduce(0) { $0 + Int(whole.pixels[((2 * my + $1.0) * (w / 8) + 2 * mx + $1.1) * 3 + c]) }
                    expected.append(UInt8(sum / 4))
                }
            }
        }
        for readers in 1...3 {
            let mask = try XCTUnwrap(SlideTiler.blockAveraged(try (0..<readers).map { _ in try source.makeRegionReader() }, size: (w, h), block: 2))
            XCTAssertEqual([mask.width, mask.height], [w / 16, h / 16])
            XCTAssertEqual(mask.pixels, expected, "\(readers) readers")
        }
    }

    /// Tiling plans its regions, so each source tile is decoded once on one thread or two (the
    /// threads share the cache), and the tiles are those of reading each region alone; with a cache
    /// too small for a row, tiles are decoded again but the pixels are the same.
    func testEachSourceTileIsDecodedOnceWhateverTheThreads() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "decode-once")
        // 240² source tiles; 500² windows at 20× (not on the source grid: neighbours share tiles), and
        // a 40× slide at 20× (400² of level 0 reduced ½ to 200² in the decoder).
        for (mpp, size, name) in [(0.499, 500, "20x"), (0.25, 200, "40x")] {
            let path = dir.appendingPathComponent("\(name).svs").path
            try Self.writeSlide(path, width: 1700, height: 1300, colour: .ycbcr, sharedTables: true, mpp: mpp)
            let spec = TilingSpec(tileSize: size, target: .magnification(20), rule: BackgroundRule(maxBackground: 1), jpegQuality: nil)
            func tile(workers: Int, cacheBytes: Int = DirectJPEGSource.defaultCacheBytes) throws -> (SlideTilingSummary, [[UInt8]]) {
                let source = try DirectJPEGSource.open(slide: try Slide(path: path), cacheBytes: cacheBytes).get()
                let tiler = SlideTiler(spec: spec, workers: workers, useTissueMask: false)
                var tiles: [[UInt8]] = []
                let summary = try tiler.run(source: source, plan: try tiler.plan(for: source), sink: { tiles += $0.map(\.bytes) })
                return (summary, tiles)
            }
            let (one, tilesOne) = try tile(workers: 1)
            let (two, tilesTwo) = try tile(workers: 2)
            let (small, tilesSmall) = try tile(workers: 2, cacheBytes: 4 * 240 * 240 * 3)
            // Source tiles under the windows, by hand: a window at level-0 (x, y) of side size · s covers
            // level-0 columns x …< x + size · s, i.e. source columns x / 240 … (x + size · s − 1) / 240.
            let s = mpp < 0.3 ? 2 : 1, side = size * s
            let columns = (1700 - side) / side + 1, rows = (1300 - side) / side + 1
            var needed = Set<[Int]>()
            for r in 0..<rows {
                for c in 0..<columns {
                    for ty in (r * side / 240)...((r * side + side - 1) / 240) {
                        for tx in (c * side / 240)...((c * side + side - 1) / 240) { needed.insert([tx, ty]) }
                    }
                }
            }
            XCTAssertEqual(one.considered, columns * rows, name)
            XCTAssertEqual(one.scaledInDecoder, s == 2 ? columns * rows : 0, name)
            for (label, summary) in [("1 thread", one), ("2 threads", two)] {
                let counts = try XCTUnwrap(summary.decodeCounts, name)
                XCTAssertEqual(counts.planned, needed.count, "\(name), \(label)")
                XCTAssertEqual(counts.decoded, needed.count, "\(name), \(label): a source tile decoded twice")
                XCTAssertGreaterThan(counts.decodedInPlace, 0, "\(name), \(label)")
            }
            XCTAssertGreaterThan(try XCTUnwrap(small.decodeCounts).decoded, needed.count, "\(name): a 4-tile cache must decode again")
            // The same pixels as reading each region alone with a reader nobody told of the plan.
            let reference = try SlideSources.open(path: path, log: false)
            let reader = try reference.makeRegionReader()
            let plan = try SlideTiler(spec: spec).plan(for: reference)
            let alone = try (0..<plan.count).map { i -> [UInt8] in
                let o = plan.origin(i)
                return try XCTUnwrap(reader.readRegion(x: o.x, y: o.y, level: 0, width: size, height: size, scale: s)).pixels
            }
            XCTAssertEqual(tilesOne, alone, name)
            XCTAssertEqual(tilesTwo, alone, name)
            XCTAssertEqual(tilesSmall, alone, name)
        }
    }

    /// Reducing in the IDCT against decoding in full and averaging 2×2, 4×4, 8×8 blocks.
    func testDecoderScalingStaysCloseToAreaAveraging() throws {
        let path = try TestEnvironment.realSlide("cmu-1-small-region.svs")
        let source = try SlideSources.open(path: path, log: false)
        let reader = try source.makeRegionReader()
        for scale in [2, 4, 8] {
            let side = 1920 / scale
            let full = try reader.readRegion(x: 240, y: 480, level: 0, width: 1920, height: 1920)
            let averaged = AreaResampler(sourceSize: 1920, outputSize: side).resample(full)
            let reduced = try XCTUnwrap(try reader.readRegion(x: 240, y: 480, level: 0, width: side, height: side, scale: scale))
            var total = 0, worst = 0
            for (a, b) in zip(averaged.pixels, reduced.pixels) {
                let d = abs(Int(a) - Int(b))
                total += d
                worst = max(worst, d)
            }
            let mean = Double(total) / Double(averaged.pixels.count)
            print("decoder scale 1/\(scale): mean |difference| \(mean), max \(worst) against area averaging")
            XCTAssertLessThan(mean, 3.0, "1/\(scale)")
            XCTAssertLessThan(worst, 96, "1/\(scale)")
        }
        // An origin that is not a whole reduced pixel is refused (the caller then averages by area).
        XCTAssertNil(try reader.readRegion(x: 3, y: 0, level: 0, width: 64, height: 64, scale: 2))
    }
}

extension Result {
    var failureMessage: String? {
        if case .failure(let e) = self { return (e as? DirectJPEGSource.Ineligible)?.message ?? "\(e)" }
        return nil
    }
}
