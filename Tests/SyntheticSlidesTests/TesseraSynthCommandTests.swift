import Foundation
import OpenSlide
import SyntheticSlides
import TesseraCore
import TesseraTestSupport
import XCTest

/// End-to-end: the built `tessera-synth` writes cohorts and slides that OpenSlide opens, with the
/// metadata, pyramid and pixels the plan and the renderer say.
final class TesseraSynthCommandTests: XCTestCase {
    private let synth = TestEnvironment.executable("tessera-synth")

    /// JPEG at quality 90 with 4:2:0 chroma on this fine-grained content: the mean absolute
    /// difference from the renderer is 1.5–3.7 levels per channel; allow 5. (A region 24 px off
    /// differs by ~14 on average, checked below, so the tolerance still tells right from wrong.)
    private let jpegTolerance = 5.0

    private func run(_ arguments: [String]) throws -> CommandResult {
        try runCommand(synth, arguments, timeout: 300)
    }

    func testSixPatientCohortOpensInOpenSlideAndMatchesTheRenderer() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "synth-cohort")
        let a = dir.appendingPathComponent("a"), b = dir.appendingPathComponent("b"), c = dir.appendingPathComponent("c")
        // Small slides with 128 px tiles keep the debug build fast; 600×280 leaves partial edge
        // tiles on both levels (600×280 and 150×70).
        let options = ["--patients", "6", "--width", "600", "--height", "280", "--tile-size", "128", "--seed", "11"]
        let first = try run(["--out", a.path] + options)
        XCTAssertEqual(first.status, 0, first.output)
        XCTAssertTrue(first.stderr.contains("slides: 8/8 slides (100.0%)"), first.stderr)

        // Manifest: header, one row per slide, relative paths, TCGA-style names.
        let manifest = try String(contentsOf: a.appendingPathComponent("manifest.csv"), encoding: .utf8)
        let rows = manifest.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(rows.first, ["slide_path", "slide_id", "patient_id", "label"])
        let body = Array(rows.dropFirst())
        XCTAssertEqual(body.count, 8, "6 patients, 2 of them with two slides")
        for row in body {
            XCTAssertEqual(row.count, 4)
            XCTAssertEqual(row[0], "slides/\(row[1]).svs")
            XCTAssertTrue(row[1].hasPrefix(row[2] + "-"))
            XCTAssertTrue(["LUAD", "LUSC", "normal"].contains(row[3]))
            XCTAssertEqual(row[1].hasSuffix("-11A-01-TS1"), row[3] == "normal", row[1])
        }
        XCTAssertEqual(Set(body.map { $0[2] }).count, 6)
        XCTAssertEqual(Dictionary(grouping: body, by: { $0[2] }).values.filter { $0.count == 2 }.count, 2)

        // Every slide: Aperio vendor, the planned resolution (or none), levels, pixels.
        let record = try CohortRecord.decode(Data(contentsOf: a.appendingPathComponent("cohort.json")))
        let plan = CohortPlan(options: record.options)
        XCTAssertEqual(record.slides.map(\.slideID), body.map { $0[1] })
        var worst = 0.0, offsetDiffs: [Double] = []
        for (spec, entry) in zip(plan.slides, record.slides) {
            let slide = try Slide(path: a.appendingPathComponent(entry.slidePath).path)
            XCTAssertEqual(slide.vendor, "aperio", entry.slideID)
            if let mpp = spec.scan.recordedMicronsPerPixel {
                XCTAssertEqual(slide.mpp?.x ?? 0, mpp, accuracy: 1e-6, entry.slideID)
                XCTAssertEqual(slide.mpp?.y ?? 0, mpp, accuracy: 1e-6, entry.slideID)
                XCTAssertEqual(slide.objectivePower ?? 0, Double(spec.scan.objectivePower), entry.slideID)
            } else {
                XCTAssertNil(slide.mpp, entry.slideID)
                XCTAssertNil(slide.objectivePower, entry.slideID)
            }
            XCTAssertEqual(slide.levelCount, 2, entry.slideID)
            XCTAssertTrue(slide.dimensions(level: 0) == (600, 280))
            XCTAssertTrue(slide.dimensions(level: 1) == (150, 70))
            XCTAssertEqual(slide.downsample(level: 1), 4, accuracy: 1e-9)

            let renderer = SlideRenderer(spec: spec)
            // Level 0: the centre, and the bottom-right corner (partial, padded edge tiles).
            for (x, y, w, h) in [(236, 76, 128, 128), (520, 200, 80, 80)] {
                let read = try slide.readRegion(x: x, y: y, level: 0, width: w, height: h)
                let diff = meanAbsDifference(read.pixels, renderer.render(x: x, y: y, width: w, height: h).pixels)
                worst = max(worst, diff)
                XCTAssertLessThan(diff, jpegTolerance, "\(entry.slideID) level 0 at (\(x), \(y))")
            }
            offsetDiffs.append(meanAbsDifference(try slide.readRegion(x: 236, y: 76, level: 0, width: 128, height: 128).pixels,
                                                 renderer.render(x: 260, y: 76, width: 128, height: 128).pixels))
            // Level 1 is the 4×4 box filter of level 0.
            let level1 = try slide.readRegion(x: 0, y: 0, level: 1, width: 150, height: 70)
            let full = renderer.render(x: 0, y: 0, width: 600, height: 280)
            var reducer = AreaDownsampler(inputWidth: 600)
            let diff1 = meanAbsDifference(level1.pixels, reducer.push(full).pixels)
            worst = max(worst, diff1)
            XCTAssertLessThan(diff1, jpegTolerance, "\(entry.slideID) level 1")
            // Glass in the corner: near white.
            let corner = try slide.readRegion(x: 4, y: 4, level: 0, width: 16, height: 16)
            let lum = stride(from: 0, to: corner.pixels.count, by: 3).map {
                0.299 * Double(corner.pixels[$0]) + 0.587 * Double(corner.pixels[$0 + 1]) + 0.114 * Double(corner.pixels[$0 + 2])
            }
            XCTAssertGreaterThanOrEqual(lum.min()!, 220, "\(entry.slideID): glass corner")
        }
        let meanOffset = offsetDiffs.reduce(0, +) / Double(offsetDiffs.count)
        print(String(format: "largest mean |OpenSlide − renderer| over regions: %.2f; mean with the render 24 px off: %.2f",
                     worst, meanOffset))
        XCTAssertGreaterThan(meanOffset, 2 * jpegTolerance, "a region 24 px off matches about as well: the check tells nothing")

        // Same options → byte-identical files; another seed → different slides.
        let second = try run(["--out", b.path] + options)
        XCTAssertEqual(second.status, 0, second.output)
        for name in ["manifest.csv", "cohort.json"] + record.slides.map(\.slidePath) {
            let x = try Data(contentsOf: a.appendingPathComponent(name)), y = try Data(contentsOf: b.appendingPathComponent(name))
            XCTAssertTrue(x == y, "\(name) differs between two runs with the same options")
        }
        let other = try run(["--out", c.path, "--patients", "1", "--width", "600", "--height", "280", "--tile-size", "128", "--seed", "12"])
        XCTAssertEqual(other.status, 0, other.output)
        let otherRecord = try CohortRecord.decode(Data(contentsOf: c.appendingPathComponent("cohort.json")))
        let otherSlide = try Data(contentsOf: c.appendingPathComponent(otherRecord.slides[0].slidePath))
        let firstSlide = try Data(contentsOf: a.appendingPathComponent(record.slides[0].slidePath))
        XCTAssertNotEqual(otherSlide, firstSlide)
        XCTAssertNotEqual(otherRecord.slides[0].seed, record.slides[0].seed)

        // Running again with the same options keeps the finished slides.
        let slidePath = a.appendingPathComponent(record.slides[0].slidePath).path
        let before = try FileManager.default.attributesOfItem(atPath: slidePath)[.modificationDate] as? Date
        let again = try run(["--out", a.path] + options)
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertTrue(again.stderr.contains("wrote 0 slides, kept 8"), again.stderr)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: slidePath)[.modificationDate] as? Date, before)
    }

    func testSingleFortyXSlideHasThreeLevels() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "synth-single")
        let path = dir.appendingPathComponent("bench.svs").path
        let result = try run(["--single-slide", path, "--class", "LUSC", "--width", "2048", "--height", "256",
                              "--tile-size", "128", "--mpp", "0.2495", "--seed", "3"])
        XCTAssertEqual(result.status, 0, result.output)
        let slide = try Slide(path: path)
        XCTAssertEqual(slide.vendor, "aperio")
        XCTAssertEqual(slide.mpp?.x ?? 0, 0.2495, accuracy: 1e-6)
        XCTAssertEqual(slide.objectivePower, 40)
        XCTAssertEqual(slide.levelCount, 3)
        XCTAssertTrue(slide.dimensions(level: 0) == (2048, 256))
        XCTAssertTrue(slide.dimensions(level: 1) == (512, 64))
        XCTAssertTrue(slide.dimensions(level: 2) == (128, 16))
        XCTAssertEqual(slide.downsample(level: 2), 16, accuracy: 1e-9)
        let spec = SlideSpec(slideID: "bench", patientID: "bench", tissueClass: .lusc, seed: 3, width: 2048, height: 256,
                             scan: ScanProfile(micronsPerPixel: 0.2495))
        let read = try slide.readRegion(x: 1000, y: 60, level: 0, width: 160, height: 160)
        XCTAssertLessThan(meanAbsDifference(read.pixels, SlideRenderer(spec: spec).render(x: 1000, y: 60, width: 160, height: 160).pixels),
                          jpegTolerance)
        XCTAssertEqual(slide.properties["aperio.AppMag"], "40")
        XCTAssertEqual(slide.properties["openslide.level[0].tile-width"], "128")

        // --no-mpp: still Aperio, no resolution.
        let bare = dir.appendingPathComponent("bare.svs").path
        let noMPP = try run(["--single-slide", bare, "--class", "normal", "--width", "480", "--height", "480", "--no-mpp"])
        XCTAssertEqual(noMPP.status, 0, noMPP.output)
        let bareSlide = try Slide(path: bare)
        XCTAssertEqual(bareSlide.vendor, "aperio")
        XCTAssertNil(bareSlide.mpp)
        XCTAssertNil(bareSlide.objectivePower)
        XCTAssertEqual(bareSlide.levelCount, 1)
        XCTAssertEqual(bareSlide.properties["openslide.level[0].tile-width"], "240", "240 px tiles by default")
    }

    func testInvalidOptionsFailNamingTheFlag() throws {
        let dir = try TestEnvironment.temporaryDirectory(self, "synth-invalid")
        let foreign = dir.appendingPathComponent("foreign")
        try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: foreign.appendingPathComponent("notes.txt"))
        let out = dir.appendingPathComponent("new").path
        let cases: [([String], String)] = [
            (["--patients", "6"], "--out"),
            (["--out", out, "--patients", "0"], "--patients"),
            (["--out", out, "--width", "300"], "--width"),
            (["--out", out, "--height", "100"], "--height"),
            (["--out", out, "--tile-size", "250"], "--tile-size"),
            (["--out", out, "--quality", "0"], "--quality"),
            (["--out", out, "--class", "LUAD"], "--class"),
            (["--out", foreign.path], "--force"),
            (["--out", out, "--single-slide", out + ".svs"], "--single-slide"),
            (["--single-slide", out + ".svs"], "--class"),
            (["--single-slide", out + ".svs", "--class", "adeno"], "--class"),
            (["--single-slide", out + ".svs", "--class", "LUAD", "--mpp", "-1"], "--mpp"),
            (["--single-slide", dir.appendingPathComponent("missing/x.svs").path, "--class", "LUAD"], "--single-slide"),
            (["--single-slide", foreign.appendingPathComponent("notes.txt/x.svs").path, "--class", "LUAD"], "--single-slide"),
        ]
        for (arguments, flag) in cases {
            let result = try run(arguments)
            XCTAssertNotEqual(result.status, 0, "accepted: \(arguments)")
            XCTAssertTrue(result.stderr.contains(flag), "\(arguments): message does not name \(flag):\n\(result.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a rejected run created its output folder")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: foreign.path), ["notes.txt"])

        let help = try run(["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("--single-slide"))
        XCTAssertTrue(help.stdout.contains("Examples:"))
    }
}
