import Foundation
import JPEG
import TesseraCore
import TesseraTestSupport
import TileStore
import Tiling
import XCTest

/// Tile QC as users run it: `tessera-tile` on a small realistic cohort (pen marks and blur drawn
/// in), the drop counts in the store, `tessera-audit`'s table, the QC picture and table, and the
/// refusal of a resumed run with other QC parameters.
final class TileQCEndToEndTests: XCTestCase {
    func tile(_ arguments: [String]) throws -> CommandResult {
        try runCommand(TestEnvironment.executable("tessera-tile"), arguments, timeout: 900)
    }

    func slideRecords(_ store: URL) throws -> [String: SlideRecord] {
        var slides: [String: SlideRecord] = [:]
        for split in ["train", "validation", "test"] {
            let folder = store.appendingPathComponent(split)
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".h5") {
                let reader = try TileStoreReader(url: folder.appendingPathComponent(name))
                for s in reader.slides { slides[s.slideID] = s }
                try reader.close()
            }
        }
        return slides
    }

    func testDropsAreCountedByReasonAuditedPicturedAndQCChangesAreRefusedOnResume() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "tile-qc")
        let cohort = dir.appendingPathComponent("cohort")
        let synth = try runCommand(TestEnvironment.executable("tessera-synth"),
                                   ["--out", cohort.path, "--patients", "3", "--width", "2048", "--height", "1536", "--seed", "5",
                                    "--profile", "realistic", "--artefact-rate", "4"], timeout: 900)
        XCTAssertEqual(synth.status, 0, synth.output)
        let common = ["--manifest", cohort.appendingPathComponent("manifest.csv").path, "--tile-size", "128",
                      "--assume-mpp", "0.5", "--threads", "2", "--split", "0.4,0.3,0.3"]
        let on = dir.appendingPathComponent("on"), off = dir.appendingPathComponent("off")
        let r1 = try tile(common + ["--store", on.path])
        XCTAssertEqual(r1.status, 0, r1.output)
        let r2 = try tile(common + ["--store", off.path, "--qc", "none"])
        XCTAssertEqual(r2.status, 0, r2.output)

        let withQC = try slideRecords(on), without = try slideRecords(off)
        XCTAssertEqual(Set(withQC.keys), Set(without.keys))
        XCTAssertGreaterThan(withQC.count, 0)
        var qcDrops = 0
        for (id, s) in withQC {
            let d = s.tilesDropped
            XCTAssertEqual(s.tilesConsidered, s.tilesKept + TileDropReason.allCases.reduce(0) { $0 + (d[$1] ?? 0) },
                           "\(id): considered = kept + every drop")
            let plain = without[id]!
            XCTAssertEqual(plain.tilesDropped[.pen] ?? 0, 0)
            XCTAssertEqual(plain.tilesDropped[.blur] ?? 0, 0)
            // QC only drops among the tiles that passed the background rule.
            XCTAssertEqual(plain.tilesKept, s.tilesKept + (d[.pen] ?? 0) + (d[.blur] ?? 0) + (d[.bubble] ?? 0), id)
            XCTAssertEqual(plain.tilesDropped[.background], d[.background], id)
            qcDrops += (d[.pen] ?? 0) + (d[.blur] ?? 0) + (d[.bubble] ?? 0)

            // The QC table lists every position read; its kept rows are the stored tiles.
            let table = try CSV.parse(String(contentsOf: on.appendingPathComponent("qc/\(id).csv"), encoding: .utf8))
            XCTAssertEqual(table.first?.fields, ["x", "y", "decision", "ink_fraction", "focus", "fold_share", "rim_length", "block_focus"])
            let rows = table.dropFirst().map(\.fields)
            XCTAssertEqual(rows.count, s.tilesConsidered - (d[.mask] ?? 0), id)
            XCTAssertEqual(rows.filter { $0[2] == "kept" }.count, s.tilesKept, id)
            XCTAssertEqual(rows.filter { $0[2] == "pen" }.count, d[.pen] ?? 0, id)
            // The picture: a JPEG of the thumbnail (at least) with the legend band below it.
            let bytes = [UInt8](try Data(contentsOf: on.appendingPathComponent("qc/\(id).jpg")))
            let picture = try JPEGDecoder().decode(bytes)
            XCTAssertGreaterThan(picture.height, 22, id)
            XCTAssertGreaterThanOrEqual(picture.width, 420, id)
        }
        XCTAssertGreaterThan(qcDrops, 0, "the realistic cohort's pen marks and blur give QC drops")

        let audit = try runCommand(TestEnvironment.executable("tessera-audit"), [on.path])
        XCTAssertEqual(audit.status, 0, audit.output)
        XCTAssertTrue(audit.stdout.contains("Tissue and QC: tissue rule luminance; QC pen,blur,bubble (pen max 0.05, blur min 20.0, bubble max 100.0)"), audit.stdout)
        let header = audit.stdout.split(separator: "\n").first { $0.hasPrefix("split") && $0.contains("dropped pen") }
        XCTAssertNotNil(header, audit.stdout)
        let total = audit.stdout.split(separator: "\n").last { $0.hasPrefix("total") }.map { $0.split(separator: " ").map(String.init) }
        let pens = withQC.values.reduce(0) { $0 + ($1.tilesDropped[.pen] ?? 0) }
        let blurs = withQC.values.reduce(0) { $0 + ($1.tilesDropped[.blur] ?? 0) }
        let bubbles = withQC.values.reduce(0) { $0 + ($1.tilesDropped[.bubble] ?? 0) }
        // Columns …, pen, blur, fold, bubble.
        XCTAssertEqual(total.map { Array($0.suffix(4)) }, ["\(pens)", "\(blurs)", "0", "\(bubbles)"], audit.stdout)

        // A resumed or sibling task with other QC parameters is refused, naming the difference.
        let again = try tile(common + ["--store", on.path, "--pen-max", "0.2"])
        XCTAssertEqual(again.status, 1, again.output)
        XCTAssertTrue(again.stderr.contains("penMax: 0.05 → 0.2") || again.stderr.contains("pen max"), again.stderr)
        // The job-file keys reach the options.
        let job = dir.appendingPathComponent("qc.env")
        try "QC=none\nTISSUE_MASK=otsu\nBLUR_BLOCK_MIN=4\n".write(to: job, atomically: true, encoding: .utf8)
        let otsu = dir.appendingPathComponent("otsu")
        let r3 = try tile(common + ["--store", otsu.path, "--job", job.path])
        XCTAssertEqual(r3.status, 0, r3.output)
        let file = try ["train", "validation", "test"].flatMap { split in
            try FileManager.default.contentsOfDirectory(atPath: otsu.appendingPathComponent(split).path)
                .filter { $0.hasSuffix(".h5") }.map { otsu.appendingPathComponent(split).appendingPathComponent($0) }
        }.first!
        let reader = try TileStoreReader(url: file)
        XCTAssertEqual(reader.attributes.tiling.tissueRule, .otsu)
        XCTAssertEqual(reader.attributes.tiling.qc, QCChecks.none)
        XCTAssertEqual(reader.attributes.tiling.blurBlockMin, 4)
        try reader.close()

        // --qc strict is every check with the block blur rule at 9, recorded as such: the spelled-out
        // options resume the same store, and the audit names them.
        let strict = dir.appendingPathComponent("strict")
        let r4 = try tile(common + ["--store", strict.path, "--qc", "strict"])
        XCTAssertEqual(r4.status, 0, r4.output)
        let r5 = try tile(common + ["--store", strict.path, "--qc", "pen,blur,fold,bubble", "--blur-block-min", "9"])
        XCTAssertEqual(r5.status, 0, r5.output)
        let strictAudit = try runCommand(TestEnvironment.executable("tessera-audit"), [strict.path])
        XCTAssertTrue(strictAudit.stdout.contains("QC pen,blur,fold,bubble (") && strictAudit.stdout.contains("blur block min 9.0"),
                      strictAudit.stdout)
        let bad = try tile(common + ["--store", dir.appendingPathComponent("bad").path, "--qc", "strict,pen"])
        XCTAssertEqual(bad.status, 64, bad.output)
        XCTAssertTrue(bad.stderr.contains("none or strict"), bad.stderr)
    }
}
