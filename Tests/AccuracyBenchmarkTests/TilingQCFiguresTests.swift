import Foundation
import XCTest

@testable import AccuracyBenchmark
@testable import SyntheticSlides

/// The tiler's QC judged by the truth, on a hand-made cohort and QC table: which tiles count as
/// artefact and clean, what was kept and lost, and the per-row table of the ablation report.
final class TilingQCFiguresTests: XCTestCase {
    /// Tissue: (0,0)–(1000,1000), its left half LUAD tumour. Pen: the top quarter of the slide
    /// (0,0)–(2000,250), over tissue and glass. Tiles of 500 level-0 px (125 px at 1 µm, 0.25 µm/px).
    private let geoJSON = """
        {"type":"FeatureCollection","properties":{"slide_id":"S1","width":2000,"height":1000},"features":[
        {"type":"Feature","properties":{"kind":"tissue"},"geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1000,0],[1000,1000],[0,1000],[0,0]]]]}},
        {"type":"Feature","properties":{"kind":"tumour_luad"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[500,0],[500,1000],[0,1000],[0,0]]]}},
        {"type":"Feature","properties":{"kind":"pen","colour":"blue"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[2000,0],[2000,250],[0,250],[0,0]]]}}
        ]}
        """

    private func fixture(qcTable: String) throws -> (store: URL, table: TileTruthTable) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qc-figures-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let cohort = dir.appendingPathComponent("cohort"), store = dir.appendingPathComponent("store")
        try FileManager.default.createDirectory(at: cohort.appendingPathComponent("truth"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: store.appendingPathComponent("qc"), withIntermediateDirectories: true)
        try geoJSON.write(to: cohort.appendingPathComponent("truth/S1.geojson"), atomically: true, encoding: .utf8)
        try (TruthTable.header + "S1,P1,44,LUAD,0,0.4000,0.4000,0.25,0.25,40,80,0.5,pen\n")
            .write(to: cohort.appendingPathComponent("truth.csv"), atomically: true, encoding: .utf8)
        try qcTable.write(to: store.appendingPathComponent("qc/S1.csv"), atomically: true, encoding: .utf8)
        return (store, TileTruthTable(cohort: cohort, tileSize: 125, micronsPerPixel: 1.0, assumeMPP: 0.25))
    }

    private let header = "x,y,decision,ink_fraction,focus,fold_share,rim_length,block_focus\n"

    func testArtefactAndCleanTilesAreCountedFromTheDecisionsAgainstTheTruth() throws {
        // (0,0) and (500,0): half under the pen → artefact; one dropped as pen, one kept.
        // (0,500) and (500,500): tissue, no artefact → clean; one kept, one dropped as blur.
        // (1000,0): glass half under the pen → artefact (on glass), dropped as fold here.
        // (1000,500): bare glass, dropped as pen: past the background rule, neither artefact nor clean.
        // (1500,500): background: not past the rule, not counted at all.
        let (store, table) = try fixture(qcTable: header
            + "0,0,pen,0.3,50,0,0,40\n500,0,kept,0.01,50,0,0,40\n0,500,kept,0,60,0,0,45\n500,500,blur,0,12,0,0,10\n"
            + "1000,0,fold,0,30,0.5,0,25\n1000,500,pen,0.2,40,0,0,30\n1500,500,background,,,,,\n")
        let q = try XCTUnwrap(try TilingQCFigures.measure(store: store, table: table))
        XCTAssertEqual(q.slides, 1)
        XCTAssertEqual(q.tilesPassedBackground, 6)
        XCTAssertEqual([q.droppedPen, q.droppedBlur, q.droppedFold, q.droppedBubble], [2, 1, 1, 0])
        XCTAssertEqual([q.artefactTiles, q.artefactTilesKept], [3, 1])
        XCTAssertEqual([q.cleanTiles, q.cleanTilesDropped], [2, 1])
        XCTAssertEqual(q.artefactReduction ?? -1, 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(q.cleanLost ?? -1, 0.5, accuracy: 1e-12)
    }

    func testAStoreTiledWithoutQCHasNoFigures() throws {
        // QC off: the table has decisions but no measures.
        let (store, table) = try fixture(qcTable: header + "0,0,kept,,,,,\n0,500,kept,,,,,\n1500,500,background,,,,,\n")
        XCTAssertNil(try TilingQCFigures.measure(store: store, table: table))
    }

    func testTheAblationReportListsEachRowsQC() throws {
        var q = TilingQCFigures()
        (q.tilesPassedBackground, q.artefactTiles, q.artefactTilesKept, q.cleanTiles, q.cleanTilesDropped) = (1489, 196, 33, 777, 13)
        (q.droppedPen, q.droppedBlur, q.droppedFold, q.droppedBubble) = (97, 140, 147, 44)
        func row(_ name: String, _ qc: TilingQCFigures?) -> AblationRow {
            AblationRow(name: name, overrides: "QC=x", slideMacroAuc: nil, heldOutMacroAuc: nil, tileMacroAuc: nil,
                        versusBaseline: nil, heldOutVersusBaseline: nil, tilingQC: qc)
        }
        let md = BenchmarkReport.ablationMarkdown([row("baseline", nil), row("qc_strict", q)])
        // 33 of 196 kept: 83.2 % fewer; 13 of 777 clean lost: 1.7 %.
        XCTAssertTrue(md.contains("| qc_strict | 1489 | 33 of 196 | −83.2 % | 13 of 777 (1.7 %) | 97 / 140 / 147 / 44 |"), md)
        XCTAssertFalse(md.contains("| baseline | 1489"), "a row tiled without QC has no QC line")
        XCTAssertFalse(BenchmarkReport.ablationMarkdown([row("baseline", nil)]).contains("Tile QC"), "no QC table when no row has QC")
        // benchmark.json carries the row's figures.
        let report = BenchmarkReport(commit: "abc", cohort: .init(patients: 3, slides: 3, seed: 1, width: 1, height: 1, realism: nil,
                                                                  sites: [], heldOutSites: [], medianPurity: 0.5),
                                     splits: [], ablation: [row("baseline", nil), row("qc_strict", q)])
        let json = try XCTUnwrap(String(data: try report.json(), encoding: .utf8))
        XCTAssertTrue(json.contains("\"artefact_tiles_kept\" : 33"), json)
        XCTAssertTrue(json.contains("\"clean_tiles_dropped\" : 13"), json)
    }
}
