import Tiling
import XCTest

final class SlideRegionTests: XCTestCase {
    /// Grid positions inside a region, and the thinning of a whole slide's, by hand.
    func testPositionsInARegionAndThinning() throws {
        let g = SlideGeometry(levelSizes: [(1024, 768)], levelDownsamples: [1], mpp: 0.5, objectivePower: nil)
        let plan = try TilingPlan(geometry: g, target: .mpp(0.5), tileSize: 128)
        XCTAssertEqual([plan.columns, plan.rows], [8, 6])
        XCTAssertEqual(plan.positions(in: SlideRegion(x: 100, y: 0, width: 300, height: 256), maxPositions: 100), [1, 2, 9, 10])
        XCTAssertEqual(plan.positions(in: nil, maxPositions: 100).count, 48)
        // 48 positions, at most 12: every 2nd row and column (ceil √(48/12) = 2) → 4 × 3.
        XCTAssertEqual(plan.positions(in: nil, maxPositions: 12), [0, 2, 4, 6, 16, 18, 20, 22, 32, 34, 36, 38])
    }

    func testARegionContainsWholeTilesAndLiesInsideTheSlide() {
        let r = SlideRegion(x: 10, y: 20, width: 100, height: 50)
        XCTAssertEqual(r.description, "10,20,100,50")
        XCTAssertTrue(r.contains(x: 10, y: 20, size: 50))
        XCTAssertFalse(r.contains(x: 61, y: 20, size: 50), "one pixel past the right edge")
        XCTAssertFalse(r.contains(x: 9, y: 20, size: 10))
        XCTAssertTrue(r.isInside(width: 110, height: 70))
        XCTAssertFalse(r.isInside(width: 109, height: 70))
    }
}
