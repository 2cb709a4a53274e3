import Foundation
import TesseraCore
import TesseraTestSupport
import Tiling
import XCTest

final class CSVTests: XCTestCase {
    func testQuotingRoundTrip() throws {
        let rows = [["a", "b,c", "say \"hi\""], ["multi\nline", "", " padded "]]
        let doc = CSV.document(header: ["x", "y", "z"], rows: rows)
        XCTAssertEqual(doc, "x,y,z\na,\"b,c\",\"say \"\"hi\"\"\"\n\"multi\nline\",,\" padded \"\n")
        let parsed = try CSV.parse(doc)
        XCTAssertEqual(parsed.map(\.fields), [["x", "y", "z"]] + rows)
        XCTAssertEqual(parsed.map(\.line), [1, 2, 3], "a record is numbered by the line it starts on")
    }

    func testCRLFBOMBlankLinesAndErrors() throws {
        let parsed = try CSV.parse("\u{FEFF}a,b\r\n\r\n1,2")
        XCTAssertEqual(parsed.map(\.fields), [["a", "b"], ["1", "2"]])
        XCTAssertEqual(parsed.map(\.line), [1, 3])
        XCTAssertThrowsError(try CSV.parse("a,\"b\nc")) { XCTAssertEqual(($0 as? CSV.ParseError)?.line, 1) }
        XCTAssertThrowsError(try CSV.parse("a,b\"c\"")) { XCTAssertEqual(($0 as? CSV.ParseError)?.line, 1) }
    }
}

final class ManifestTests: XCTestCase {
    func write(_ text: String) throws -> URL {
        let dir = try TestEnvironment.temporaryDirectory(self, "manifest")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("slides"), withIntermediateDirectories: true)
        for name in ["TCGA-SY-0001-01A-01-TS1", "TCGA-SY-0001-11A-01-TS1", "TCGA-SY-0002-01A-01-TS1", "other"] {
            try Data("x".utf8).write(to: dir.appendingPathComponent("slides/\(name).svs"))
        }
        let url = dir.appendingPathComponent("manifest.csv")
        try Data(text.utf8).write(to: url)
        return url
    }

    func testDefaultsAndResolution() throws {
        let url = try write("""
            slide_path,slide_id,patient_id,label
            slides/TCGA-SY-0001-01A-01-TS1.svs,,,LUAD
            slides/TCGA-SY-0001-11A-01-TS1.svs,,,normal
            slides/other.svs,OTHER-1,P7,
            """)
        let m = try SlideManifest.load(url)
        XCTAssertEqual(m.entries.map(\.slideID), ["TCGA-SY-0001-01A-01-TS1", "TCGA-SY-0001-11A-01-TS1", "OTHER-1"])
        XCTAssertEqual(m.entries.map(\.patientID), ["TCGA-SY-0001", "TCGA-SY-0001", "P7"])
        XCTAssertEqual(m.entries.map(\.label), ["LUAD", "normal", nil])
        XCTAssertEqual(m.entries.map(\.line), [2, 3, 4])
        XCTAssertEqual(m.entries[0].slidePath, url.deletingLastPathComponent().appendingPathComponent("slides/TCGA-SY-0001-01A-01-TS1.svs").path)
        XCTAssertEqual(m.classes, ["LUAD", "normal"])
        // Given classes keep their order.
        XCTAssertEqual(try SlideManifest.load(url, classes: ["normal", "LUSC", "LUAD"]).classes, ["normal", "LUSC", "LUAD"])
    }

    func testEveryProblemIsListedWithItsLine() throws {
        let url = try write("""
            slide_path,slide_id,patient_id,label
            slides/TCGA-SY-0001-01A-01-TS1.svs,,,LUAD
            slides/TCGA-SY-0001-01A-01-TS1.svs,,,LUAD
            slides/missing.svs,,P1,LUAD
            slides/other.svs,,,LUSC
            slides/TCGA-SY-0002-01A-01-TS1.svs,,,adeno
            slides/TCGA-SY-0002-01A-01-TS1.svs,../evil,P2,LUAD
            slides/other.svs,x,P3
            """)
        XCTAssertThrowsError(try SlideManifest.load(url, classes: ["LUAD", "LUSC", "normal"])) { error in
            let e = try! XCTUnwrap(error as? ManifestError)
            XCTAssertEqual(e.problems.count, 7, e.description)
            let text = e.description
            XCTAssertTrue(text.contains("line 3: duplicate slide_id TCGA-SY-0001-01A-01-TS1 (first on line 2)"), text)
            XCTAssertTrue(text.contains("line 4: slide file") && text.contains("missing.svs does not exist"), text)
            XCTAssertTrue(text.contains("line 5: no patient_id for slide other"), text)
            XCTAssertTrue(text.contains("line 6: label 'adeno' is not one of the classes LUAD, LUSC, normal"), text)
            XCTAssertTrue(text.contains("line 7: slide_id '../evil' contains a path separator"), text)
            XCTAssertTrue(text.contains("line 8: 3 fields, the header has 4"), text)
            XCTAssertTrue(text.contains("line 7: slide file") && text.contains("is the same file as line 6's"), text)
            XCTAssertTrue(text.contains(url.path), text)
        }
    }

    func testMissingColumnAndEmptyFile() throws {
        XCTAssertThrowsError(try SlideManifest.load(try write("path,label\nslides/other.svs,LUAD\n"))) { error in
            XCTAssertTrue("\(error)".contains("no slide_path column"), "\(error)")
        }
        XCTAssertThrowsError(try SlideManifest.load(try write(""))) { error in
            XCTAssertTrue("\(error)".contains("empty"), "\(error)")
        }
    }
}

/// What the manifest refuses so that no patient leaks across splits and nothing unsafe reaches the
/// CSVs analysts open in spreadsheets.
final class ManifestInputCheckTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = try TestEnvironment.temporaryDirectory(self, "manifest-checks")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("slides"), withIntermediateDirectories: true)
        for name in ["tcga-sy-0001-01a-01-ts1", "TCGA-SY-0001-11A-01-TS1", "TCGA-SY-0002-01A-01-TS1", "a", "b"] {
            try Data("x".utf8).write(to: dir.appendingPathComponent("slides/\(name).svs"))
        }
    }

    func write(_ text: String) throws -> URL {
        let url = dir.appendingPathComponent("manifest.csv")
        try Data(text.utf8).write(to: url)
        return url
    }

    func problems(_ text: String) throws -> [String] {
        do {
            _ = try SlideManifest.load(try write(text))
        } catch let e as ManifestError {
            return e.problems
        }
        XCTFail("the manifest was accepted:\n\(text)")
        return []
    }

    /// A lower-case barcode is the same patient as its upper-case sibling: one id, one split.
    func testLowerCaseBarcodeGivesTheUpperCasePatient() throws {
        let m = try SlideManifest.load(try write("""
            slide_path,label
            slides/tcga-sy-0001-01a-01-ts1.svs,LUAD
            slides/TCGA-SY-0001-11A-01-TS1.svs,normal
            slides/TCGA-SY-0002-01A-01-TS1.svs,LUAD
            """))
        XCTAssertEqual(m.entries.map(\.slideID), ["tcga-sy-0001-01a-01-ts1", "TCGA-SY-0001-11A-01-TS1", "TCGA-SY-0002-01A-01-TS1"],
                       "slide ids stay as written")
        XCTAssertEqual(m.entries.map(\.patientID), ["TCGA-SY-0001", "TCGA-SY-0001", "TCGA-SY-0002"])
        for seed: UInt64 in 1...20 {
            let split = PatientSplit(entries: m.entries, seed: seed)
            XCTAssertEqual(split.splitOfPatient.count, 2)
            XCTAssertEqual(split.split(of: m.entries[0].patientID), split.split(of: m.entries[1].patientID))
        }
    }

    /// One slide file listed twice, by the same path, through a symlink, by another relative path
    /// or an absolute one: refused, naming both lines.
    func testTheSameSlideFileTwiceIsRefused() throws {
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("link.svs").path,
                                                   withDestinationPath: dir.appendingPathComponent("slides/a.svs").path)
        try FileManager.default.linkItem(atPath: dir.appendingPathComponent("slides/b.svs").path,
                                         toPath: dir.appendingPathComponent("hard.svs").path)
        let absolute = dir.appendingPathComponent("slides/a.svs").path
        for (second, what) in [("slides/a.svs", "the same path"), ("link.svs", "a symlink"), ("./slides/../slides/a.svs", "another relative path"),
                               (absolute, "an absolute path")] {
            let p = try problems("""
                slide_path,slide_id,patient_id,label
                slides/a.svs,S1,P1,LUAD
                slides/b.svs,S2,P2,LUSC
                \(second),S3,P3,normal
                """)
            XCTAssertEqual(p.count, 1, "\(what): \(p)")
            XCTAssertTrue(p.first?.hasPrefix("line 4: slide file") ?? false, "\(what): \(p)")
            XCTAssertTrue(p.first?.contains("is the same file as line 2's") ?? false, "\(what): \(p)")
        }
        let hard = try problems("slide_path,slide_id,patient_id\nslides/b.svs,S1,P1\nhard.svs,S2,P2\n")
        XCTAssertEqual(hard.count, 1, "\(hard)")
        XCTAssertTrue(hard.first?.contains("line 3: slide file") ?? false && hard.first?.contains("same file as line 2's") ?? false, "\(hard)")
    }

    /// A FIFO (or a folder) named as a slide hangs or fails the reader: refused, without opening it.
    func testNonRegularSlideFilesAreRefused() throws {
        let fifo = dir.appendingPathComponent("slides/fifo.svs").path
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        let fifo2 = dir.appendingPathComponent("slides/fifo2.svs").path
        XCTAssertEqual(mkfifo(fifo2, 0o644), 0)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("to-fifo.svs").path, withDestinationPath: fifo2)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("folder.svs"), withIntermediateDirectories: true)
        let text = """
            slide_path,slide_id,patient_id
            slides/fifo.svs,S1,P1
            to-fifo.svs,S2,P2
            folder.svs,S3,P3
            """
        let p = try problems(text)
        XCTAssertEqual(p.count, 3, "\(p)")
        XCTAssertTrue(p[0].hasPrefix("line 2: slide file \(fifo) is a FIFO or other special file, not a regular file"), "\(p)")
        XCTAssertTrue(p[1].hasPrefix("line 3: slide file") && p[1].contains("not a regular file"), "\(p)")
        XCTAssertTrue(p[2].hasPrefix("line 4: slide file") && p[2].contains("is a folder, not a regular file"), "\(p)")
        // Also when missing files are allowed (--skip-missing): a FIFO is not a missing file.
        XCTAssertThrowsError(try SlideManifest.load(try write(text), requireReadable: false))
    }

    /// Ids and labels that a spreadsheet would run as a formula are refused with line and column.
    func testSpreadsheetFormulasAreRefused() throws {
        let p = try problems("""
            slide_path,slide_id,patient_id,label
            slides/a.svs,=HYPERLINK(1),P1,LUAD
            slides/b.svs,S2,+P2,LUAD
            slides/TCGA-SY-0002-01A-01-TS1.svs,,-2+3,LUAD
            slides/TCGA-SY-0001-11A-01-TS1.svs,,,@SUM(A1)
            """)
        XCTAssertEqual(p.count, 4, "\(p)")
        XCTAssertTrue(p[0].hasPrefix("line 2, column slide_id: '=HYPERLINK(1)' starts with '='"), "\(p)")
        XCTAssertTrue(p[1].hasPrefix("line 3, column patient_id: '+P2' starts with '+'"), "\(p)")
        XCTAssertTrue(p[2].hasPrefix("line 4, column patient_id: '-2+3' starts with '-'"), "\(p)")
        XCTAssertTrue(p[3].hasPrefix("line 5, column label: '@SUM(A1)' starts with '@'"), "\(p)")
        XCTAssertTrue(p[3].contains("spreadsheets run as a formula"), "\(p)")
    }

    func testTabLedValueIsRefused() throws {
        let p = try problems("slide_path,slide_id,patient_id,label\nslides/a.svs,S1,P1,\"\t=1\"\n")
        XCTAssertEqual(p.count, 1, "\(p)")
        XCTAssertTrue(p[0].hasPrefix("line 2, column label:") && p[0].contains("formula"), "\(p)")
    }

    func testDuplicateColumnAndLineBreaksInValuesAreRefused() throws {
        let duplicate = try problems("slide_path,slide_id,patient_id,label,label\nslides/a.svs,S1,P1,LUAD,LUSC\n")
        XCTAssertEqual(duplicate, ["line 1: column label appears twice (columns 4 and 5); keep one"])
        let broken = try problems("""
            slide_path,slide_id,patient_id,label
            slides/a.svs,S1,"P1
            P9",LUAD
            slides/b.svs,S2,P2,"LU\rAD"
            """)
        XCTAssertEqual(broken.count, 2, "\(broken)")
        XCTAssertTrue(broken[0].hasPrefix("line 2, column patient_id: 'P1\\nP9' contains a line break"), "\(broken)")
        XCTAssertTrue(broken[1].hasPrefix("line 4, column label: 'LU\\rAD' contains a line break"), "\(broken)")
    }
}

final class PatientSplitTests: XCTestCase {
    /// A cohort like the synthetic one: a third of patients with a tumour and a normal slide.
    static func cohort(_ n: Int) -> [ManifestEntry] {
        var entries: [ManifestEntry] = []
        for p in 1...n {
            let patient = String(format: "TCGA-SY-%04d", p)
            let tumour = p % 2 == 0 ? "LUAD" : "LUSC"
            if p % 3 != 0 {
                entries.append(ManifestEntry(slidePath: "/s/\(patient)-01A", slideID: "\(patient)-01A-01-TS1", patientID: patient, label: p % 5 == 0 ? "normal" : tumour, line: 0))
            }
            if p % 3 == 0 {
                entries.append(ManifestEntry(slidePath: "/s/\(patient)-01A", slideID: "\(patient)-01A-01-TS1", patientID: patient, label: tumour, line: 0))
                entries.append(ManifestEntry(slidePath: "/s/\(patient)-11A", slideID: "\(patient)-11A-01-TS1", patientID: patient, label: "normal", line: 0))
            }
        }
        return entries
    }

    func testPatientsNeverStraddleSplitsAndFractionsHold() {
        let entries = PatientSplitTests.cohort(200)
        let split = PatientSplit(entries: entries, seed: 7)
        XCTAssertEqual(split.splitOfPatient.count, 200)
        var counts: [Split: Int] = [:]
        for s in split.splitOfPatient.values { counts[s, default: 0] += 1 }
        XCTAssertEqual(Double(counts[.train]!) / 200, 0.70, accuracy: 0.02)
        XCTAssertEqual(Double(counts[.validation]!) / 200, 0.15, accuracy: 0.02)
        XCTAssertEqual(Double(counts[.test]!) / 200, 0.15, accuracy: 0.02)
        // By construction a patient maps to one split; check the slides follow it.
        for e in entries { XCTAssertNotNil(split.split(of: e.patientID)) }
        // Stratified: each class is in every split.
        for label in ["LUAD", "LUSC", "normal"] {
            let splits = Set(entries.filter { $0.label == label }.map { split.split(of: $0.patientID)! })
            XCTAssertEqual(splits, Set(Split.allCases), label)
        }
    }

    func testDeterministicAndSeedDependent() {
        let entries = PatientSplitTests.cohort(60)
        XCTAssertEqual(PatientSplit(entries: entries, seed: 1), PatientSplit(entries: entries, seed: 1))
        XCTAssertEqual(PatientSplit(entries: entries.reversed(), seed: 1).splitOfPatient, PatientSplit(entries: entries, seed: 1).splitOfPatient)
        XCTAssertNotEqual(PatientSplit(entries: entries, seed: 1).splitOfPatient, PatientSplit(entries: entries, seed: 2).splitOfPatient)
        let csv = PatientSplit(entries: entries, seed: 1).csv
        XCTAssertTrue(csv.hasPrefix("patient_id,split\nTCGA-SY-0001,"), csv)
        XCTAssertEqual(csv.split(separator: "\n").count, 61)
    }

    func testStableHashIsFixed() {
        // FNV-1a reference values: must never change, or existing splits would move.
        XCTAssertEqual(stableHash(""), 0xCBF2_9CE4_8422_2325)
        XCTAssertEqual(stableHash("a"), 0xAF63_DC4C_8601_EC8C)
        // "foobar" by every path: contiguous bytes, a non-contiguous sequence, a raw buffer.
        let foobar = Array("foobar".utf8)
        XCTAssertEqual(stableHash(bytes: foobar), 0x8594_4171_F739_67E8)
        XCTAssertEqual(stableHash(bytes: AnySequence(foobar)), 0x8594_4171_F739_67E8)
        XCTAssertEqual(foobar.withUnsafeBytes { stableHash(buffer: $0) }, 0x8594_4171_F739_67E8)
    }
}

final class ShardPlanTests: XCTestCase {
    func testCoversEverySlideOnceAndBalancesBySize() {
        let sizes: [Int64] = [100, 90, 10, 10, 10, 10, 10, 10, 10, 10, 80, 5]
        let ids = sizes.indices.map { "s\($0)" }
        let shards = ShardPlan.assign(sizes: sizes, ids: ids, shards: 3)
        XCTAssertEqual(shards.flatMap { $0 }.sorted(), Array(sizes.indices))
        let loads = shards.map { $0.reduce(Int64(0)) { $0 + sizes[$1] } }
        XCTAssertLessThanOrEqual(loads.max()! - loads.min()!, 10, "\(loads)")
        XCTAssertEqual(ShardPlan.assign(sizes: sizes, ids: ids, shards: 3), shards)
        XCTAssertEqual(ShardPlan.assign(sizes: sizes, ids: ids, shards: 1), [Array(sizes.indices)])
        // More shards than slides: some are empty, none is lost.
        let many = ShardPlan.assign(sizes: [5, 5], ids: ["a", "b"], shards: 4)
        XCTAssertEqual(many.flatMap { $0 }.sorted(), [0, 1])
    }
}

final class UTCTimestampTests: XCTestCase {
    /// The hand-computed timestamp against Foundation's ISO 8601 formatter (what every stamp was
    /// before), over leap days, century rules, the epoch, times before it and fractions of a second.
    func testTimestampEqualsTheISO8601Formatter() {
        let formatter = ISO8601DateFormatter()
        var seconds: [Double] = [0, -1, -0.5, 0.999, 59, 86_399.9, 86_400, 951_782_400, 951_868_799, 4_107_542_400, -2_208_988_800,
                                 1_796_220_180.75, 253_402_300_799]
        var rng = SeededGenerator(seed: 7, stream: 1)
        for _ in 0..<2_000 { seconds.append(Double.random(in: -4e9...8e9, using: &rng).rounded(.down) + [0, 0.25, 0.999][Int.random(in: 0..<3, using: &rng)]) }
        for s in seconds {
            let date = Date(timeIntervalSince1970: s)
            XCTAssertEqual(utcTimestamp(date), formatter.string(from: date), "at \(s) s")
        }
        XCTAssertEqual(utcTimestamp(Date(timeIntervalSince1970: 1_796_220_180.75)), "2026-12-02T14:03:00Z")
    }
}
