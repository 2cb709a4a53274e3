import Foundation
import TesseraTestSupport
import Tiling
import XCTest

/// `Jobs/gdc-manifest`: a GDC sample sheet of TCGA slides → a manifest the tiler accepts, with
/// labels from the sample type (01 tumour → the project, 11 → normal) and patients from the barcode.
final class GDCManifestTests: XCTestCase {
    static let script = TestEnvironment.packageRoot.appendingPathComponent("Jobs/gdc-manifest")

    /// A hand-made sample sheet as the GDC writes it (TSV, CRLF line ends), in a download folder
    /// laid out as gdc-client leaves it (DOWNLOAD/<File ID>/<File Name>).
    func sampleSheet(in work: URL, rows: [[String]]) throws -> (sheet: URL, download: URL) {
        let header = ["File ID", "File Name", "Data Category", "Data Type", "Project ID", "Case ID", "Sample ID", "Sample Type"]
        let sheet = work.appendingPathComponent("gdc_sample_sheet.tsv")
        try (([header] + rows).map { $0.joined(separator: "\t") + "\r\n" }.joined()).write(to: sheet, atomically: true, encoding: .utf8)
        let download = work.appendingPathComponent("download")
        for row in rows where row[1].hasSuffix(".svs") {
            let folder = download.appendingPathComponent(row[0])
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data("slide".utf8).write(to: folder.appendingPathComponent(row[1]))
        }
        return (sheet, download)
    }

    func testSampleSheetBecomesAManifestTheTilerAccepts() throws {
        let work = try TestEnvironment.temporaryDirectory(self, "gdc-manifest")
        func slide(_ id: String, _ barcode: String, _ project: String, _ type: String) -> [String] {
            [id, "\(barcode).0b1c2d3e-aaaa-bbbb-cccc-0123456789ab.svs", "Biospecimen", "Slide Image", project,
             String(barcode.prefix(12)), String(barcode.prefix(16)), type]
        }
        let (sheet, download) = try sampleSheet(in: work, rows: [
            slide("f1", "TCGA-05-4244-01A-01-TS1", "TCGA-LUAD", "Primary Tumor"),
            slide("f2", "TCGA-05-4244-11A-01-BS1", "TCGA-LUAD", "Solid Tissue Normal"),
            slide("f3", "TCGA-18-3406-01Z-00-DX1", "TCGA-LUSC", "Primary Tumor"),
            slide("f4", "TCGA-18-3406-02A-01-TS1", "TCGA-LUSC", "Recurrent Tumor"),
            ["f5", "nationwidechildrens.org_clinical.TCGA-18-3406.xml", "Clinical", "Clinical Supplement", "TCGA-LUSC",
             "TCGA-18-3406", "", ""],
        ])
        let r = try runCommand(Self.script, [sheet.path, download.path])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.stderr.contains("left out 1 slides of sample type 02"), r.stderr)
        XCTAssertTrue(r.stderr.contains("left out 1 files that are not slides"), r.stderr)
        let manifestURL = work.appendingPathComponent("manifest.csv")
        try r.stdout.write(to: manifestURL, atomically: true, encoding: .utf8)

        let manifest = try SlideManifest.load(manifestURL, classes: ["LUAD", "LUSC", "normal"])
        XCTAssertEqual(manifest.entries.map(\.slideID), ["TCGA-05-4244-01A-01-TS1", "TCGA-05-4244-11A-01-BS1", "TCGA-18-3406-01Z-00-DX1"])
        XCTAssertEqual(manifest.entries.map(\.patientID), ["TCGA-05-4244", "TCGA-05-4244", "TCGA-18-3406"])
        XCTAssertEqual(manifest.entries.map(\.label), ["LUAD", "normal", "LUSC"])
        XCTAssertEqual(manifest.entries[0].slidePath,
                       download.appendingPathComponent("f1/TCGA-05-4244-01A-01-TS1.0b1c2d3e-aaaa-bbbb-cccc-0123456789ab.svs").path)

        // Only the diagnostic (FFPE, DX) slides; slides in one folder.
        let flat = try runCommand(Self.script, ["--kind", "diagnostic", "--flat", sheet.path, "/data/slides"])
        XCTAssertEqual(flat.status, 0, flat.output)
        XCTAssertEqual(flat.stdout, "slide_path,slide_id,patient_id,label\n"
            + "/data/slides/TCGA-18-3406-01Z-00-DX1.0b1c2d3e-aaaa-bbbb-cccc-0123456789ab.svs,TCGA-18-3406-01Z-00-DX1,TCGA-18-3406,LUSC\n")
        XCTAssertTrue(flat.stderr.contains("1 slide files are not there yet"), flat.stderr)
    }

    func testBadSheetsAreRefusedWithoutAHalfManifest() throws {
        let work = try TestEnvironment.temporaryDirectory(self, "gdc-bad")
        let notASheet = work.appendingPathComponent("manifest.csv")
        try "slide_path,slide_id\n".write(to: notASheet, atomically: true, encoding: .utf8)
        let r = try runCommand(Self.script, [notASheet.path, work.path])
        XCTAssertEqual(r.status, 64, r.output)
        XCTAssertTrue(r.stderr.contains("no \"File ID\" column"), r.stderr)
        let (sheet, download) = try sampleSheet(in: work, rows: [
            ["f1", "TCGA-05-4244-01A-01-TS1.x.svs", "Biospecimen", "Slide Image", "TCGA-LUAD", "TCGA-05-4244", "", ""],
            ["f2", "TCGA-05-4244-01A-01-TS1.x.svs", "Biospecimen", "Slide Image", "TCGA-LUAD", "TCGA-05-4244", "", ""],
        ])
        let twice = try runCommand(Self.script, [sheet.path, download.path])
        XCTAssertEqual(twice.status, 64, twice.output)
        XCTAssertEqual(twice.stdout, "")
        XCTAssertTrue(twice.stderr.contains("listed twice (lines 2 and 3)"), twice.stderr)
        let usage = try runCommand(Self.script, ["--kind", "fresh", sheet.path, download.path])
        XCTAssertEqual(usage.status, 64, usage.output)
    }
}
