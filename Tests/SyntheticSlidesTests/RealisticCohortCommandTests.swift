import Foundation
import OpenSlide
import SyntheticSlides
import TesseraCore
import TesseraTestSupport
import XCTest

/// End-to-end: `tessera-synth --profile realistic` writes slides OpenSlide opens, at their site's
/// scan and JPEG quality, the held-out manifest and the truth; the same options give the same
/// bytes; the knobs are refused without the profile.
final class RealisticCohortCommandTests: XCTestCase {
    private let synth = TestEnvironment.executable("tessera-synth")

    private func run(_ arguments: [String]) throws -> CommandResult { try runCommand(synth, arguments, timeout: 300) }

    func testRealisticCohortWritesTruthAndHeldOutManifestIdenticallyTwice() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "synth-realistic")
        let a = dir.appendingPathComponent("a"), b = dir.appendingPathComponent("b")
        let options = ["--patients", "8", "--width", "768", "--height", "512", "--tile-size", "128", "--seed", "4",
                       "--profile", "realistic", "--sites", "4", "--held-out-sites", "1"]
        let first = try run(["--out", a.path] + options)
        XCTAssertEqual(first.status, 0, first.output)
        XCTAssertTrue(first.stderr.contains("realistic profile, 4 sites"), first.stderr)
        XCTAssertEqual(try run(["--out", b.path] + options).status, 0)

        let record = try CohortRecord.decode(Data(contentsOf: a.appendingPathComponent("cohort.json")))
        let truth = try TruthTable.read(a.appendingPathComponent("truth.csv"))
        XCTAssertEqual(truth.map(\.slideID), record.slides.map(\.slideID))
        let main = try String(contentsOf: a.appendingPathComponent("manifest.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
        let held = try String(contentsOf: a.appendingPathComponent("manifest-heldout.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
        XCTAssertEqual(main.count + held.count, record.slides.count)
        XCTAssertEqual(held.count, truth.filter(\.heldOut).count)
        XCTAssertEqual(Set(truth.filter(\.heldOut).map(\.site)), ["55"], "the last of 4 sites")
        let plan = CohortPlan(options: record.options)
        for (spec, entry) in zip(plan.slides, record.slides) {
            let url = a.appendingPathComponent(entry.slidePath)
            let slide = try Slide(path: url.path)
            XCTAssertEqual(slide.vendor, "aperio")
            XCTAssertEqual(slide.mpp?.x, spec.scan.recordedMicronsPerPixel, entry.slideID)
            XCTAssertTrue(slide.properties["tiff.ImageDescription"]?.contains("Q=\(spec.realism!.jpegQuality)") ?? false, entry.slideID)
            // The truth reads back and every file is byte-identical in the second cohort.
            let geo = a.appendingPathComponent("truth/\(entry.slideID).geojson")
            XCTAssertTrue(try SlideTruth.read(geo).regions.contains { $0.kind == .tissue })
            for path in [entry.slidePath, "truth/\(entry.slideID).geojson"] {
                XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent(path)), try Data(contentsOf: b.appendingPathComponent(path)), path)
            }
        }
        for name in ["cohort.json", "truth.csv", "manifest.csv", "manifest-heldout.csv"] {
            XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent(name)), try Data(contentsOf: b.appendingPathComponent(name)), name)
        }
    }

    func testRealisticKnobsAreUsageErrorsNamingTheOption() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "synth-realistic-usage")
        let out = dir.appendingPathComponent("c").path
        let cases: [([String], String)] = [
            (["--purity", "0.1,0.5"], "--purity applies to --profile realistic only"),
            (["--profile", "noisy"], "--profile must be clean or realistic"),
            (["--profile", "realistic", "--purity", "0.5,0.1"], "--purity must be MIN,MAX with 0 ≤ MIN ≤ MAX ≤ 1"),
            (["--profile", "realistic", "--purity", "half"], "--purity must be MIN,MAX"),
            (["--profile", "realistic", "--sites", "3", "--held-out-sites", "3"], "--held-out-sites must be 0...2"),
            (["--profile", "realistic", "--artefact-rate", "11"], "--artefact-rate must be 0...10"),
        ]
        for (arguments, message) in cases {
            let r = try run(["--out", out, "--patients", "2"] + arguments)
            XCTAssertEqual(r.status, 64, arguments.joined(separator: " "))
            XCTAssertTrue(r.stderr.contains(message), "\(arguments): \(r.stderr)")
        }
        let single = try run(["--single-slide", dir.appendingPathComponent("s.svs").path, "--class", "LUAD", "--profile", "realistic"])
        XCTAssertEqual(single.status, 64)
        XCTAssertTrue(single.stderr.contains("--profile realistic applies to cohorts"), single.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}
