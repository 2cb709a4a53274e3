import Foundation
import OpenSlide
import TesseraCore
import TesseraTestSupport
import Tiling
import XCTest

/// Neither real slide is known to hold an air bubble or a fold: every tissue tile at 20× (level 0:
/// the CMU slide is 0.499 µm/px, the TCGA slide is taken as 0.5) that the background rule keeps
/// must pass the bubble check, and at 512 px the fold check with the slide's reference taken from
/// its smallest level as the tiler takes it (README, "Tile QC": at 256 px the fold check drops a
/// few of these tiles, which is why it is opt-in).
final class QCOnRealSlidesTests: XCTestCase {
    func judge(_ name: String, tile: Int) throws -> (tiles: Int, dropped: [String]) {
        let slide = try Slide(path: try TestEnvironment.realSlide(name))
        let last = slide.levelCount - 1
        let (tw, th) = slide.dimensions(level: last)
        let thumbnail = try slide.readRegion(x: 0, y: 0, level: last, width: tw, height: th)
        let side = Int((Double(ArtefactQC.foldBlock) / slide.downsample(level: last)).rounded())
        let qc = ArtefactQC(checks: [.fold, .bubble], foldReference: ArtefactQC.foldReference(thumbnail: thumbnail, side: side))
        XCTAssertNotNil(qc.foldReference, name)
        let rule = BackgroundRule()
        let (w, h) = slide.dimensions(level: 0)
        var tiles = 0
        var dropped: [String] = []
        for y in stride(from: 0, through: h - tile, by: tile) {
            for x in stride(from: 0, through: w - tile, by: tile) {
                let image = try slide.readRegion(x: x, y: y, level: 0, width: tile, height: tile)
                guard rule.keeps(backgroundFraction: rule.backgroundFraction(image)) else { continue }
                tiles += 1
                let v = qc.evaluate(image)
                if let reason = v.dropped { dropped.append("\(x),\(y) \(reason): fold share \(v.foldShare ?? -1), rim \(v.rimLength ?? -1)") }
            }
        }
        return (tiles, dropped)
    }

    func testNoRealTissueTileIsDroppedAsAFoldOrABubbleAt512() throws {
        for name in ["cmu-1-small-region.svs", "tcga-cr-7395-01a-01-ts1.svs"] {
            let (tiles, dropped) = try judge(name, tile: 512)
            XCTAssertGreaterThan(tiles, 5, name)
            XCTAssertEqual(dropped, [], name)
        }
    }

    func testNoRealTissueTileIsDroppedAsABubbleAt256() throws {
        for name in ["cmu-1-small-region.svs", "tcga-cr-7395-01a-01-ts1.svs"] {
            let (tiles, dropped) = try judge(name, tile: 256)
            XCTAssertGreaterThan(tiles, 30, name)
            XCTAssertEqual(dropped.filter { $0.contains(" bubble:") }, [], name)
        }
    }
}
