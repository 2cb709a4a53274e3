import Foundation
import JPEG
import OpenSlide
import TesseraCore
import TesseraTestSupport
import TileStore
import Tiler
import Tiling
import XCTest

/// The tiler run as users run it: the built `tessera-tile` on a cohort from `tessera-synth`.
final class TilerEndToEndTests: XCTestCase {
    /// One small cohort shared by the tests of this class (6 patients, 8 slides of 1024²).
    nonisolated(unsafe) static var cohortDir: URL?

    static func cohort() throws -> URL {
        if let cohortDir { return cohortDir }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-tiler-cohort-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let result = try runCommand(TestEnvironment.executable("tessera-synth"),
                                    ["--out", dir.appendingPathComponent("cohort").path, "--patients", "6",
                                     "--width", "1024", "--height", "1024", "--seed", "3"])
        guard result.status == 0 else { throw TesseraError.io(path: dir.path, message: "tessera-synth failed: \(result.output)", hint: "") }
        cohortDir = dir.appendingPathComponent("cohort")
        return cohortDir!
    }

    override class func tearDown() {
        if let dir = cohortDir { try? FileManager.default.removeItem(at: dir.deletingLastPathComponent()) }
        super.tearDown()
    }

    func tile(_ arguments: [String]) throws -> CommandResult {
        try runCommand(TestEnvironment.executable("tessera-tile"), arguments, timeout: 600)
    }

    /// Every tile of a store as "split|slide|x|y|label" → JPEG bytes (raw: pixels), plus the slide tables.
    func contents(of store: URL) throws -> (tiles: [String: [UInt8]], slides: [String: SlideRecord]) {
        var tiles: [String: [UInt8]] = [:]
        var slides: [String: SlideRecord] = [:]
        for split in ["train", "validation", "test"] {
            let folder = store.appendingPathComponent(split)
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() where name.hasSuffix(".h5") {
                let reader = try TileStoreReader(url: folder.appendingPathComponent(name))
                let columns = try reader.tileColumns()
                for s in reader.slides { XCTAssertNil(slides[s.slideID], "slide \(s.slideID) twice"); slides[s.slideID] = s }
                for i in 0..<reader.tileCount {
                    let slide = reader.slides[Int(columns.slides[i])].slideID
                    let key = "\(split)|\(slide)|\(columns.x[i])|\(columns.y[i])|\(columns.labels[i])"
                    XCTAssertNil(tiles[key], "tile \(key) twice")
                    // Raw stores: the pixels (`image` reads them without decoding).
                    tiles[key] = reader.attributes.encoding == .raw ? try reader.image(i, decoder: JPEGDecoder()).pixels : try reader.encodedTile(i)
                }
                try reader.close()
            }
        }
        return (tiles, slides)
    }

    func splits(of store: URL) throws -> [String: String] {
        let rows = try CSV.parse(String(contentsOf: store.appendingPathComponent("splits.csv"), encoding: .utf8))
        XCTAssertEqual(rows.first?.fields, ["patient_id", "split"])
        return Dictionary(uniqueKeysWithValues: rows.dropFirst().map { ($0.fields[0], $0.fields[1]) })
    }

    /// The arguments, but --store, of a run over the shared cohort: 256-pixel tiles, 0.5 µm per
    /// pixel assumed where a slide records no resolution.
    func cohortArguments(threads: Int) throws -> [String] {
        let manifest = try TilerEndToEndTests.cohort().appendingPathComponent("manifest.csv").path
        return ["--manifest", manifest, "--tile-size", "256", "--assume-mpp", "0.5", "--threads", "\(threads)"]
    }

    func testOneTaskAndThreeTasksGiveTheSameTilesAndTheAuditIsClean() throws {
        let common = try cohortArguments(threads: 2)
        let dir = try TestEnvironment.temporaryDirectory(self, "tiler")
        let one = dir.appendingPathComponent("one")
        let r1 = try tile(common + ["--store", one.path])
        XCTAssertEqual(r1.status, 0, r1.output)
        let three = dir.appendingPathComponent("three")
        for shard in 0..<3 {
            // Shards from the Slurm array variables, as in an array job.
            let r = try runCommand(TestEnvironment.executable("tessera-tile"), common + ["--store", three.path],
                                   environment: ["SLURM_ARRAY_TASK_ID": "\(shard + 5)", "SLURM_ARRAY_TASK_MIN": "5",
                                                 "SLURM_ARRAY_TASK_COUNT": "3"])
            XCTAssertEqual(r.status, 0, r.output)
            XCTAssertTrue(r.stderr.contains("tessera-tile[\(shard)/3]"), r.stderr)
        }
        let a = try contents(of: one), b = try contents(of: three)
        XCTAssertGreaterThan(a.tiles.count, 40)
        XCTAssertEqual(Set(a.tiles.keys), Set(b.tiles.keys))
        for (k, v) in a.tiles { XCTAssertEqual(v, b.tiles[k], "tile \(k) differs between 1 and 3 tasks") }
        XCTAssertEqual(a.slides, b.slides)
        XCTAssertEqual(a.slides.count, 8, "every slide of the cohort (no-MPP ones with --assume-mpp)")
        let partFiles = try FileManager.default.contentsOfDirectory(atPath: three.appendingPathComponent("train").path).filter { $0.hasSuffix(".h5") }
        XCTAssertTrue(partFiles.allSatisfy { $0.hasPrefix("part-") && $0.hasSuffix("-of-0003.h5") }, "\(partFiles)")

        // No patient in two splits; every slide's tiles are in its patient's split.
        let split = try splits(of: one)
        XCTAssertEqual(try splits(of: three), split)
        for key in a.tiles.keys {
            let parts = key.split(separator: "|")
            XCTAssertEqual(split[String(parts[1].prefix(12))], String(parts[0]), key)
        }
        // Test slides: one file each, named after the slide.
        let testFiles = try FileManager.default.contentsOfDirectory(atPath: one.appendingPathComponent("test").path).filter { $0.hasSuffix(".h5") }
        let testSlides = a.slides.values.filter { split[$0.patientID] == "test" }.map { "\($0.slideID).h5" }
        XCTAssertEqual(Set(testFiles), Set(testSlides))

        for store in [one, three] {
            let audit = try runCommand(TestEnvironment.executable("tessera-audit"), [store.path])
            XCTAssertEqual(audit.status, 0, audit.output)
        }
        // Nothing temporary is left behind.
        let leftovers = FileManager.default.enumerator(atPath: three.path)!.compactMap { $0 as? String }.filter { $0.contains(".tmp-") || $0.hasPrefix(".work/") }
        XCTAssertEqual(leftovers, [])
    }

    func testSlidesWithoutMagnificationAreSkippedWithTheReason() throws {
        let cohort = try TilerEndToEndTests.cohort()
        let dir = try TestEnvironment.temporaryDirectory(self, "tiler")
        let store = dir.appendingPathComponent("store")
        let r = try tile(["--manifest", cohort.appendingPathComponent("manifest.csv").path, "--store", store.path, "--tile-size", "256"])
        // The slides that record neither MPP nor objective power, as OpenSlide sees them.
        let manifest = try SlideManifest.load(cohort.appendingPathComponent("manifest.csv"))
        let withoutMetadata = try Set(manifest.entries.filter { e in
            let slide = try Slide(path: e.slidePath)
            return slide.mpp == nil && slide.objectivePower == nil
        }.map(\.slideID))
        XCTAssertFalse(withoutMetadata.isEmpty, "the synthetic cohort should include slides without MPP")
        XCTAssertEqual(r.status, 3, "done with failed slides:\n\(r.output)")
        let failures = try CSV.parse(String(contentsOf: store.appendingPathComponent("failures/task-0000-of-0001.csv"), encoding: .utf8))
        XCTAssertEqual(failures.first?.fields, ["slide_id", "slide_path", "stage", "message"])
        XCTAssertEqual(Set(failures.dropFirst().map { $0.fields[0] }), withoutMetadata)
        for row in failures.dropFirst() {
            XCTAssertEqual(row.fields[2], "metadata")
            XCTAssertTrue(row.fields[3].contains("--assume-mpp"), row.fields[3])
        }
        // --strict makes the same outcome fatal.
        let strict = try tile(["--manifest", cohort.appendingPathComponent("manifest.csv").path, "--store", store.path, "--tile-size", "256", "--strict"])
        XCTAssertEqual(strict.status, 1, strict.output)
    }

    func testBrokenTruncatedNonSlideAndMissingFilesAreReportedAndSkipped() throws {
        let cohort = try TilerEndToEndTests.cohort()
        let dir = try TestEnvironment.temporaryDirectory(self, "tiler")
        let slides = cohort.appendingPathComponent("slides")
        let good = try FileManager.default.contentsOfDirectory(atPath: slides.path).filter { $0.hasSuffix(".svs") }.sorted()
        // A truncated copy of a real synthetic slide, a text file, a missing path, the real broken.svs.
        let original = try Data(contentsOf: slides.appendingPathComponent(good[0]))
        try original.prefix(original.count / 2).write(to: dir.appendingPathComponent("truncated.svs"))
        try Data("not a slide\n".utf8).write(to: dir.appendingPathComponent("notes.svs"))
        // The real broken.svs where it is present (CI), else a text file like it.
        let broken: String
        if let real = try? TestEnvironment.realSlide("broken.svs") {
            broken = real
        } else {
            broken = dir.appendingPathComponent("broken.svs").path
            try Data("U2xpZGUgZGF0YSBsb3N0Cg==\n".utf8).write(to: URL(fileURLWithPath: broken))
        }
        var lines = ["slide_path,slide_id,patient_id,label"]
        lines.append("\(slides.appendingPathComponent(good[1]).path),GOOD-1,P1,LUAD")
        lines.append("\(slides.appendingPathComponent(good[2]).path),GOOD-2,P2,LUSC")
        lines.append("\(dir.appendingPathComponent("truncated.svs").path),TRUNCATED,P3,LUAD")
        lines.append("\(dir.appendingPathComponent("notes.svs").path),NOTES,P4,LUSC")
        lines.append("\(dir.appendingPathComponent("missing.svs").path),MISSING,P5,normal")
        lines.append("\(broken),BROKEN,P6,normal")
        let manifest = dir.appendingPathComponent("m.csv")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: manifest)
        let store = dir.appendingPathComponent("store")

        // A missing file is a manifest error by default, listing the line.
        let refused = try tile(["--manifest", manifest.path, "--store", store.path])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("line 6: slide file") && refused.stderr.contains("missing.svs does not exist"), refused.stderr)

        let r = try tile(["--manifest", manifest.path, "--store", store.path, "--tile-size", "256", "--assume-mpp", "0.5",
                          "--skip-missing", "--split", "1,0,0"])
        XCTAssertEqual(r.status, 3, r.output)
        let failures = try CSV.parse(String(contentsOf: store.appendingPathComponent("failures/task-0000-of-0001.csv"), encoding: .utf8))
        let failed = Dictionary(uniqueKeysWithValues: failures.dropFirst().map { ($0.fields[0], $0.fields) })
        XCTAssertEqual(Set(failed.keys), ["TRUNCATED", "NOTES", "MISSING", "BROKEN"])
        XCTAssertEqual(failed["MISSING"]?[2], "open")
        XCTAssertTrue(failed["MISSING"]![3].contains("no such slide file"), failed["MISSING"]![3])
        XCTAssertTrue(failed["BROKEN"]![3].contains("not a supported slide"), failed["BROKEN"]![3])
        XCTAssertTrue(failed["NOTES"]![3].contains("notes.svs"), failed["NOTES"]![3])
        // The good slides were tiled; nothing of the bad ones is in the store.
        let c = try contents(of: store)
        XCTAssertEqual(Set(c.slides.keys), ["GOOD-1", "GOOD-2"])
        XCTAssertTrue(c.tiles.keys.allSatisfy { $0.contains("GOOD-") })
        XCTAssertEqual(try runCommand(TestEnvironment.executable("tessera-audit"), [store.path]).status, 0)
    }

    /// A task killed mid-run (SIGKILL: no chance to clean up) and run again resumes, and the store
    /// ends up with the same tiles as an uninterrupted run.
    func testKilledTaskResumesToTheSameStore() throws {
        let args = try cohortArguments(threads: 1)
        let dir = try TestEnvironment.temporaryDirectory(self, "tiler")
        let reference = dir.appendingPathComponent("reference")
        XCTAssertEqual(try tile(args + ["--store", reference.path]).status, 0)

        let store = dir.appendingPathComponent("store")
        let process = Process()
        process.executableURL = TestEnvironment.executable("tessera-tile")
        process.arguments = args + ["--store", store.path]
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Kill it once at least two slides are recorded as done, before it has finished.
        let status = store.appendingPathComponent("status/task-0000-of-0001.json")
        let deadline = Date().addingTimeInterval(120)
        var killedMidway = false
        while Date() < deadline && process.isRunning {
            if let data = try? Data(contentsOf: status), let s = try? JSONKeyStyle.snakeCase.decoder().decode(TaskStatus.self, from: data),
               s.slides.count >= 2 {
                kill(process.processIdentifier, SIGKILL)
                killedMidway = !s.complete
                break
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        process.waitUntilExit()
        XCTAssertTrue(killedMidway, "the task finished before it could be killed")
        let resumed = try tile(args + ["--store", store.path])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.stderr.contains("resuming: "), resumed.stderr)
        let a = try contents(of: reference), b = try contents(of: store)
        XCTAssertEqual(Set(a.tiles.keys), Set(b.tiles.keys))
        for (k, v) in a.tiles { XCTAssertEqual(v, b.tiles[k], k) }
        XCTAssertEqual(a.slides, b.slides)
        // A second run of a complete task does nothing; other parameters are refused.
        let again = try tile(args + ["--store", store.path])
        XCTAssertTrue(again.stderr.contains("already complete"), again.stderr)
        let other = try tile(args + ["--store", store.path, "--max-background", "0.3"])
        XCTAssertEqual(other.status, 1)
        XCTAssertTrue(other.stderr.contains("maxBackground: 0.5 → 0.3"), other.stderr)
    }

    /// Stored tiles are exactly what OpenSlide reads at that place (raw encoding, exact level).
    func testRawTilesEqualOpenSlidePixels() throws {
        let cohort = try TilerEndToEndTests.cohort()
        let dir = try TestEnvironment.temporaryDirectory(self, "tiler")
        let store = dir.appendingPathComponent("store")
        let r = try tile(["--manifest", cohort.appendingPathComponent("manifest.csv").path, "--store", store.path,
                          "--level", "0", "--tile-size", "256", "--encoding", "raw", "--split", "1,0,0", "--no-tissue-mask"])
        XCTAssertEqual(r.status, 0, r.output)
        let reader = try TileStoreReader(url: store.appendingPathComponent("train/part-0000-of-0001.h5"))
        XCTAssertEqual(reader.attributes.encoding, .raw)
        let columns = try reader.tileColumns()
        let decoder = try JPEGDecoder()
        var checked = 0
        for i in stride(from: 0, to: reader.tileCount, by: 5) {
            let record = reader.slides[Int(columns.slides[i])]
            let path = cohort.appendingPathComponent("slides/\(record.slideID).svs").path
            let expected = try Slide(path: path).readRegion(x: Int(columns.x[i]), y: Int(columns.y[i]), level: 0, width: 256, height: 256)
            XCTAssertEqual(try reader.image(i, decoder: decoder), expected)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 5)
        try reader.close()
    }

    func testOptionValidation() throws {
        let cohort = try TilerEndToEndTests.cohort()
        let manifest = cohort.appendingPathComponent("manifest.csv").path
        let cases: [([String], String)] = [
            (["--mpp", "0.5", "--magnification", "20"], "give one of --magnification, --mpp and --level"),
            (["--split", "0.5,0.5"], "--split takes three fractions"),
            (["--shard", "3", "--shards", "3"], "--shard 3 is outside 0…2"),
            (["--encoding", "png"], "--encoding must be jpeg or raw"),
            (["--max-background", "2"], "--max-background is a fraction"),
        ]
        try assertUsageErrors(cases) { try tile(["--manifest", manifest, "--store", "/tmp/unused"] + $0) }
        let missing = try tile(["--manifest", "/nonexistent.csv", "--store", "/tmp/unused"])
        XCTAssertEqual(missing.status, 64)
        XCTAssertTrue(missing.stderr.contains("--manifest /nonexistent.csv does not exist"))
        let help = try tile(["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("Examples:"))
    }
}
