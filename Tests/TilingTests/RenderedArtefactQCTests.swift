import TesseraCore
import XCTest

@testable import SyntheticSlides
@testable import Tiling

/// The bubble check on tiles of the realistic synthetic renderer (a bubble: a pale interior with a
/// 12-px dark rim over glass or tissue alike), and clean rendered tissue kept by the bubble and fold
/// checks, the fold reference taken from the rendered slide as the tiler takes it from a
/// single-level slide's thumbnail.
final class RenderedArtefactQCTests: XCTestCase {
    func testARenderedBubbleRimIsDroppedAndCleanTissueKept() throws {
        let plan = CohortPlan(options: CohortOptions(patients: 8, seed: 5, width: 2048, height: 2048, realism: RealismOptions()))
        let artefacts: Set<RegionKind> = [.pen, .blur, .fold, .bubble, .dust]
        var checked: Set<String> = []
        for spec in plan.slides where abs(spec.scan.micronsPerPixel - 0.5) < 0.05 {
            let renderer = SlideRenderer(spec: spec)
            let regions = renderer.regions!.regions
            if !checked.contains("bubble"), let b = regions.first(where: { $0.kind == .bubble })?.polygon.bounds, b.maxX - b.minX > 256 {
                // The top of the bubble: its rim crosses the tile from side to side.
                let x = min(max(0, Int((b.minX + b.maxX) / 2) - 128), spec.width - 256), y = min(max(0, Int(b.minY) - 64), spec.height - 256)
                let verdict = ArtefactQC(checks: .bubble).evaluate(renderer.render(x: x, y: y, width: 256, height: 256))
                XCTAssertEqual(verdict.dropped, .bubble, "\(spec.slideID) bubble at \(x), \(y): \(verdict)")
                checked.insert("bubble")
            }
            // Clean: a tile all tissue and in no artefact at its 16-px sample points.
            let marked = regions.filter { artefacts.contains($0.kind) }.map(\.polygon)
            let clean = stride(from: 0, through: spec.width - 256, by: 64).flatMap { x in stride(from: 0, through: spec.height - 256, by: 64).map { (x, $0) } }
                .first { x, y in
                    (0..<256).allSatisfy { k in
                        let (px, py) = (Double(x + 8 + 16 * (k % 16)), Double(y + 8 + 16 * (k / 16)))
                        return regions[0].polygon.contains(x: px, y: py) && !marked.contains { $0.contains(x: px, y: py) }
                    }
                }
            if !checked.contains("clean"), let (x, y) = clean {
                // The slide's middle quarter stands for its thumbnail (rendering all of it is slow in a debug build).
                let middle = renderer.render(x: spec.width / 4, y: spec.height / 4, width: spec.width / 2, height: spec.height / 2)
                let reference = try XCTUnwrap(ArtefactQC.foldReference(thumbnail: middle, side: ArtefactQC.foldBlock))
                let verdict = ArtefactQC(checks: [.fold, .bubble], foldReference: reference).evaluate(renderer.render(x: x, y: y, width: 256, height: 256))
                XCTAssertNil(verdict.dropped, "\(spec.slideID) clean tissue at \(x), \(y): \(verdict)")
                XCTAssertLessThan(verdict.rimLength ?? .infinity, 50)
                checked.insert("clean")
            }
            if checked.count == 2 { break }
        }
        XCTAssertEqual(checked, ["bubble", "clean"])
    }
}
