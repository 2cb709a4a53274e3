// tessera-tile with the direct JPEG reader: the same store as through OpenSlide, the reader recorded
// per slide, a corrupt source tile failing its slide (with the tile's position) while the task goes on.
import Foundation
import JPEG
import TesseraCore
import TesseraTestSupport
import TileStore
import XCTest

final class DirectReaderTilingTests: XCTestCase {
    private func slides(in store: URL) throws -> [String: SlideRecord] {
        var out: [String: SlideRecord] = [:]
        for url in TileStoreLayout.storeFiles(in: store) {
            for record in try TileStoreReader(url: url).slides { out[record.slideID] = record }
        }
        return out
    }

    private func digests(in store: URL) throws -> [String: String] {
        var out: [String: String] = [:]
        for url in TileStoreLayout.storeFiles(in: store) {
            let reader = try TileStoreReader(url: url)
            for (record, digest) in zip(reader.slides, reader.contentDigests) { out[record.slideID] = digest }
        }
        return out
    }

    func testDirectPathTilesLikeOpenSlideRecordsItsReaderAndFailsACorruptSlideByItsTile() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "direct-tiling")
        let rgb = dir.appendingPathComponent("rgb.svs").path, ycbcr = dir.appendingPathComponent("ycbcr.svs").path
        let corrupt = dir.appendingPathComponent("corrupt.svs").path
        try DirectSlideReaderTests.writeSlide(rgb, width: 1300, height: 1100, colour: .rgb, sharedTables: true)
        try DirectSlideReaderTests.writeSlide(ycbcr, width: 1300, height: 1100, colour: .ycbcr, sharedTables: false)
        try DirectSlideReaderTests.writeSlide(corrupt, width: 1300, height: 1100, colour: .ycbcr, sharedTables: true)
        try DirectSlideReaderTests.damageTile(path: corrupt, column: 2, row: 1)
        var rows = [["rgb.svs", "rgb", "p1", "a"], ["ycbcr.svs", "ycbcr", "p2", "b"], ["corrupt.svs", "corrupt", "p3", "a"]]
        let tcga = try? TestEnvironment.realSlide("tcga-cr-7395-01a-01-ts1.svs")
        if let tcga { rows.append([tcga, "tcga", "p4", "b"]) }
        let manifest = dir.appendingPathComponent("manifest.csv")
        try CSV.document(header: ["slide_path", "slide_id", "patient_id", "label"], rows: rows).write(to: manifest, atomically: true, encoding: .utf8)

        let args = ["--manifest", manifest.path, "--level", "0", "--tile-size", "256", "--split", "1,0,0", "--threads", "2",
                    "--max-background", "1"]
        let direct = dir.appendingPathComponent("direct"), openslide = dir.appendingPathComponent("openslide")
        let a = try runCommand(TestEnvironment.executable("tessera-tile"), args + ["--store", direct.path])
        XCTAssertEqual(a.status, 3, "the corrupt slide fails, the others are tiled: \(a.output)")
        XCTAssertTrue(a.stderr.contains("direct JPEG reader"), a.stderr)
        let failures = try String(contentsOf: direct.appendingPathComponent("failures/task-0000-of-0001.csv"), encoding: .utf8)
        XCTAssertTrue(failures.contains("corrupt") && failures.contains("level 0 tile (2, 1)") && failures.contains(",read,"), failures)

        let b = try runCommand(TestEnvironment.executable("tessera-tile"), args + ["--store", openslide.path, "--slide-reader", "openslide"])
        // (OpenSlide happens to fail this damage too; what matters here is the other slides.)
        XCTAssertTrue([0, 3].contains(b.status), b.output)

        let directSlides = try slides(in: direct), openSlides = try slides(in: openslide)
        XCTAssertEqual(directSlides["rgb"]?.reader, "direct-jpeg")
        XCTAssertEqual(directSlides["ycbcr"]?.reader, "direct-jpeg")
        XCTAssertEqual(openSlides["rgb"]?.reader, "openslide")
        if tcga != nil { XCTAssertEqual(directSlides["tcga"]?.reader, "openslide", "JPEG 2000 goes through OpenSlide") }
        XCTAssertNil(directSlides["corrupt"])
        // Same pixels at level 0, same encoder: the same tiles, byte for byte.
        let d = try digests(in: direct), o = try digests(in: openslide)
        for id in ["rgb", "ycbcr"] {
            XCTAssertGreaterThan(directSlides[id]?.tilesKept ?? 0, 0, id)
            XCTAssertEqual(directSlides[id]?.tilesKept, openSlides[id]?.tilesKept, id)
            XCTAssertEqual(d[id], o[id], "\(id): the direct path's tiles differ from OpenSlide's")
        }
        // The digest the tiler's workers computed is that of the stored bytes, read back.
        for url in TileStoreLayout.storeFiles(in: direct) {
            let reader = try TileStoreReader(url: url)
            let columns = try reader.tileColumns()
            for (slide, record) in reader.slides.enumerated() where record.tilesKept > 0 {
                var recomputed = SlideDigest()
                for i in 0..<reader.tileCount where columns.slides[i] == Int32(slide) { recomputed.add(try reader.encodedTile(i)) }
                XCTAssertEqual(reader.contentDigests[slide], recomputed.text, record.slideID)
            }
        }
    }

    /// A 40× slide tiled at 20×: reduced in the decoder on the direct path, close to OpenSlide's
    /// full read averaged by area.
    func testFortyXSlideAtTwentyXIsReducedInTheDecoder() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "direct-40x")
        let path = dir.appendingPathComponent("s40.svs").path
        try DirectSlideReaderTests.writeSlide(path, width: 2048, height: 1536, colour: .ycbcr, sharedTables: true, mpp: 0.25)
        let manifest = dir.appendingPathComponent("manifest.csv")
        try CSV.document(header: ["slide_path", "slide_id", "patient_id", "label"], rows: [["s40.svs", "s40", "p1", "a"]])
            .write(to: manifest, atomically: true, encoding: .utf8)
        let args = ["--manifest", manifest.path, "--magnification", "20", "--tile-size", "256", "--split", "1,0,0", "--threads", "1",
                    "--max-background", "1", "--encoding", "raw", "--qc", "none"]
        // QC off: this compares the two reductions pixel by pixel, and the test pattern is no H&E
        // (the blur check would judge the slightly smoother decoder reduction differently).
        let direct = dir.appendingPathComponent("direct"), openslide = dir.appendingPathComponent("openslide")
        XCTAssertEqual(try runCommand(TestEnvironment.executable("tessera-tile"), args + ["--store", direct.path]).status, 0)
        XCTAssertEqual(try runCommand(TestEnvironment.executable("tessera-tile"), args + ["--store", openslide.path, "--slide-reader", "openslide"]).status, 0)
        let a = try TileStoreReader(url: try XCTUnwrap(TileStoreLayout.storeFiles(in: direct).first))
        let b = try TileStoreReader(url: try XCTUnwrap(TileStoreLayout.storeFiles(in: openslide).first))
        XCTAssertEqual(a.tileCount, 12)
        XCTAssertEqual(a.tileCount, b.tileCount)
        let decoder = try JPEGDecoder()
        let pa = try a.images(Array(0..<a.tileCount), decoder: decoder).flatMap(\.pixels)
        let pb = try b.images(Array(0..<b.tileCount), decoder: decoder).flatMap(\.pixels)
        var total = 0, worst = 0
        for (x, y) in zip(pa, pb) {
            let diff = abs(Int(x) - Int(y))
            total += diff
            worst = max(worst, diff)
        }
        let mean = Double(total) / Double(pa.count)
        print("40× at 20×: decoder ½ against area averaging of OpenSlide's pixels: mean |difference| \(mean), max \(worst)")
        XCTAssertLessThan(mean, 3.0)
        XCTAssertLessThan(worst, 96)
        XCTAssertGreaterThan(mean, 0, "the direct path did not reduce in the decoder")
    }
}
