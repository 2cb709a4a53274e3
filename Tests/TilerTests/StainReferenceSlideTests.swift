// A stain reference cut from a slide (`--stain-reference slide:PATH[@X,Y,W,H]`): the tiles of a
// region, or of the slide's tissue, through the tiler's readers and rules.
import Foundation
import OpenSlide
import SlideTiles
import Stain
import TIFF
import TesseraCore
import TesseraTestSupport
import Tiling
import XCTest

final class StainReferenceSlideTests: XCTestCase {
    /// H and E optical-density vectors (unit length; those `StainNormalizationTests` recover from
    /// one tile), not the built-in reference, so that a fit that returned the default would fail.
    static let knownStains = MacenkoReference(haematoxylin: unit([0.65, 0.70, 0.29]), eosin: unit([0.30, 0.85, 0.43]),
                                              maxConcentrations: [1.8, 1.4])

    static func unit(_ v: [Float]) -> [Float] { let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot(); return v.map { $0 / n } }

    /// A 1024×768 slide at 0.5 µm/px (level 1 at ¼): 3×3 tiles of 256² made from the known stains
    /// (nuclei over stroma, 20 % glass; `StainedTile`), and a last column of glass.
    static func writeKnownStainSlide(_ path: String) throws {
        let (width, height, tile) = (1024, 768, 256)
        var pixels = [UInt8](repeating: 255, count: width * height * 3)
        for row in 0..<3 {
            for column in 0..<3 {
                let t = StainedTile.make(size: tile, stains: knownStains, glassFraction: 0.2, seed: UInt64(1 + row * 3 + column))
                for y in 0..<tile {
                    let to = ((row * tile + y) * width + column * tile) * 3
                    pixels.replaceSubrange(to..<(to + tile * 3), with: t.pixels[(y * tile * 3)..<((y + 1) * tile * 3)])
                }
            }
        }
        let writer = try PyramidTIFFWriter(path: path, tileSize: 256, quality: 95, colour: .rgb, sharedTables: true)
        for (w, h, scale) in [(width, height, 1), (width / 4, height / 4, 4)] {
            let level = scale == 1 ? pixels : boxMean(pixels, width: width, height: height, by: scale)
            let description = scale == 1 ? "Aperio Image Library v11.2.1\n\(w)x\(h) [0,0 \(w)x\(h)] (256x256) JPEG/RGB Q=95|AppMag = 20|MPP = 0.5" : nil
            try writer.beginDirectory(width: w, height: h, description: description)
            for r in 0..<((h + 255) / 256) {
                let rows = min(256, h - r * 256)
                try writer.writeTileRow(r, pixels: Array(level[(r * 256 * w * 3)..<((r * 256 + rows) * w * 3)]), width: w, height: rows)
            }
            try writer.finishDirectory()
        }
        try writer.close()
    }

    /// The `by`×`by` block means of an RGB image.
    static func boxMean(_ p: [UInt8], width: Int, height: Int, by k: Int) -> [UInt8] {
        let (w, h) = (width / k, height / k)
        return (0..<(w * h * 3)).map { i in
            let (x, y, c) = (i / 3 % w, i / 3 / w, i % 3)
            var sum = 0
            for dy in 0..<k { for dx in 0..<k { sum += Int(p[((y * k + dy) * width + x * k + dx) * 3 + c]) } }
            return UInt8((sum + k * k / 2) / (k * k))
        }
    }

    static let spec = TilingSpec(tileSize: 256, target: .mpp(0.5), jpegQuality: nil)

    private func slide() throws -> String {
        let dir = try TestEnvironment.temporaryDirectory(self, "stain-reference")
        let path = dir.appendingPathComponent("known-stains.svs").path
        try Self.writeKnownStainSlide(path)
        return path
    }

    private func images(_ cut: ReferenceTiles, spec: TilingSpec = spec) -> [RGBImage] {
        cut.tiles.map { RGBImage(width: spec.tileSize, height: spec.tileSize, pixels: $0.bytes) }
    }

    private func fit(_ method: StainNormalization.Method, _ tiles: [RGBImage], from name: String = "direct") -> StainNormalization? {
        var fit = StainReferenceFit(method: method)
        for t in tiles { fit.add(t) }
        return fit.normalization(from: name)
    }

    private func largestDifference(_ a: StainNormalization, _ b: StainNormalization) -> Float {
        let values = { (s: StainNormalization) -> [Float] in
            s.macenko.map { $0.haematoxylin + $0.eosin + $0.maxConcentrations.map { $0 / 10 } } ?? s.reinhard.map { ($0.mean + $0.std).map { $0 / 100 } }!
        }
        return zip(values(a), values(b)).map { abs($0 - $1) }.max()!
    }

    /// The fit of a region's tiles equals the fit of the same four tiles read with OpenSlide's
    /// read_region (the cut goes through the direct JPEG reader; the two readers differ by a few
    /// grey levels at most), and Macenko recovers the stains the slide was made with.
    func testARegionsReferenceEqualsTheFitOfItsTilesReadDirectly() throws {
        let path = try slide()
        let region = SlideRegion(x: 0, y: 0, width: 512, height: 600)
        let cut = try ReferenceTiles.cut(path: path, region: region, spec: Self.spec, limit: 512)
        XCTAssertEqual(cut.name, "slide known-stains.svs region 0,0,512,600")
        XCTAssertEqual(cut.tiles.map { [$0.x, $0.y] }, [[0, 0], [256, 0], [0, 256], [256, 256]], "the whole tiles inside the region, in grid order")
        let osr = try Slide(path: path)
        let direct = try cut.tiles.map { try osr.readRegion(x: $0.x, y: $0.y, level: 0, width: 256, height: 256) }
        for method in StainNormalization.Method.allCases {
            let fromRegion = try XCTUnwrap(fit(method, images(cut), from: cut.name))
            let fromTiles = try XCTUnwrap(fit(method, direct))
            XCTAssertEqual(fromRegion.referenceSource, "slide known-stains.svs region 0,0,512,600 (4 tiles)")
            let d = largestDifference(fromRegion, fromTiles)
            print("\(method): largest difference region vs direct \(d) (unit vectors; maxima /10; Reinhard L*a*b* /100)")
            XCTAssertLessThan(d, 0.005, "\(method)")
        }
        let m = try XCTUnwrap(fit(.macenko, images(cut))?.macenko)
        func degrees(_ a: [Float], _ b: [Float]) -> Float { acos(min(1, zip(a, b).reduce(0) { $0 + $1.0 * $1.1 })) * 180 / .pi }
        let (h, e) = (degrees(m.haematoxylin, Self.knownStains.haematoxylin), degrees(m.eosin, Self.knownStains.eosin))
        print("recovered H \(m.haematoxylin) (\(h)° off), E \(m.eosin) (\(e)° off) of the slide's H \(Self.knownStains.haematoxylin), E \(Self.knownStains.eosin)")
        // 2° on one uncompressed tile (StainNormalizationTests); 3° here, through JPEG at quality 95.
        XCTAssertLessThan(h, 3, "haematoxylin off the slide's by \(h)°")
        XCTAssertLessThan(e, 3, "eosin off the slide's by \(e)°")
    }

    /// Without a region: the tiles the tissue rule keeps (the 3×3 stained tiles, not the glass
    /// column), sampled evenly down to the limit.
    func testWithoutARegionTheSlidesTissueTilesAreSampled() throws {
        let path = try slide()
        let all = try ReferenceTiles.cut(path: path, region: nil, spec: Self.spec, limit: 512)
        XCTAssertEqual(all.name, "slide known-stains.svs tissue")
        XCTAssertEqual([all.considered, all.kept, all.tiles.count], [12, 9, 9])
        XCTAssertFalse(all.tiles.contains { $0.x == 768 }, "the glass column is not in the reference")
        let four = try ReferenceTiles.cut(path: path, region: nil, spec: Self.spec, limit: 4)
        XCTAssertEqual(four.kept, 9)
        XCTAssertEqual(four.tiles.map { [$0.x, $0.y] }, [0, 2, 4, 6].map { [all.tiles[$0].x, all.tiles[$0].y] }, "every (9/4)-th kept tile")
    }

    /// Each failure names the file, what is wrong and the fix.
    func testReferenceSlidesThatGiveNoReferenceAreRefused() throws {
        let path = try slide()
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
        let text = dir.appendingPathComponent("notes.svs")
        try Data("not a slide".utf8).write(to: text)
        let cases: [(String, SlideRegion?, [String])] = [
            (dir.appendingPathComponent("absent.svs").path, nil, ["absent.svs: no such file", "hint: name a readable slide file"]),
            (text.path, nil, ["notes.svs: cannot be opened as a slide", "hint: name a readable slide file"]),
            (path, SlideRegion(x: 900, y: 0, width: 256, height: 256), ["region 900,0,256,256 lies outside the slide (level 0 is 1024×768 px)", "hint: give X,Y,W,H inside 0,0,1024,768"]),
            (path, SlideRegion(x: 0, y: 0, width: 200, height: 600), ["holds no whole tile (a tile spans 256×256 level-0 px here)", "hint: enlarge the region"]),
            (path, SlideRegion(x: 768, y: 0, width: 256, height: 768), ["region 768,0,256,768: none of its 3 tile positions passes the tissue rule", "hint: choose a region over tissue"]),
        ]
        for (file, region, expected) in cases {
            XCTAssertThrowsError(try ReferenceTiles.cut(path: file, region: region, spec: Self.spec, limit: 512)) { error in
                let message = "\(error)"
                XCTAssertTrue(message.hasPrefix("--stain-reference: \(file): "), message)
                for part in expected { XCTAssertTrue(message.contains(part), "\(part) in: \(message)") }
            }
        }
    }

    /// The real CMU slide as a reference: its tissue at 0.5 µm/px, a plausible H&E fit (H the
    /// more red-absorbing vector, the two well apart), and a region's fit equal to the fit of its
    /// tiles read directly.
    func testTheRealCMUSlideAsAReference() throws {
        let path = try TestEnvironment.realSlide("cmu-1-small-region.svs")
        let spec = TilingSpec(tileSize: 256, target: .mpp(0.5), jpegQuality: nil)
        let tissue = try ReferenceTiles.cut(path: path, region: nil, spec: spec, limit: 64, workers: 2)
        XCTAssertGreaterThan(tissue.kept, 0)
        XCTAssertLessThanOrEqual(tissue.tiles.count, 64)
        let m = try XCTUnwrap(fit(.macenko, images(tissue, spec: spec))?.macenko)
        let cos = zip(m.haematoxylin, m.eosin).reduce(0) { $0 + $1.0 * $1.1 }
        print("CMU-1 reference (\(tissue.tiles.count) of \(tissue.kept) tissue tiles): H \(m.haematoxylin), E \(m.eosin), maxima \(m.maxConcentrations)")
        XCTAssertGreaterThan(m.haematoxylin[0], m.eosin[0], "haematoxylin absorbs more red than eosin")
        XCTAssertLessThan(cos, 0.95, "two distinct stains")
        let first = try XCTUnwrap(tissue.tiles.first)
        let region = SlideRegion(x: first.x, y: first.y, width: 1024, height: 1024)
        let cut = try ReferenceTiles.cut(path: path, region: region, spec: spec, limit: 512)
        let osr = try Slide(path: path)
        let plan = try SlideTiler(spec: spec).plan(for: osr)
        let resampler = plan.isExact ? nil : AreaResampler(sourceSize: plan.footprint, outputSize: 256)
        let direct = try cut.tiles.map { t in
            let r = try osr.readRegion(x: t.x, y: t.y, level: plan.level, width: plan.readSize, height: plan.readSize)
            return resampler?.resample(r) ?? r
        }
        for method in StainNormalization.Method.allCases {
            let a = try XCTUnwrap(fit(method, images(cut, spec: spec))), b = try XCTUnwrap(fit(method, direct))
            let d = largestDifference(a, b)
            print("CMU-1 \(method): largest difference region vs direct \(d)")
            XCTAssertLessThan(d, 0.01, "\(method)")
        }
    }
}
