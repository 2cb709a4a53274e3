import Foundation
import TesseraCore
import TesseraTestSupport
import XCTest

/// One small pipeline run shared by the end-to-end tests: a synthetic cohort (tessera-synth),
/// tiled into a store (tessera-tile: 128² tiles at 20×), and a tiny model trained on it
/// (tessera-train: 32² inputs, one epoch) — small enough for debug builds.
enum PredictionFixture {
    struct Pipeline {
        let root: URL
        let cohort: URL
        let store: URL
        let model: URL
        /// The cohort manifest's rows of the store's test slides, with absolute paths.
        let testManifest: URL
        let testSlides: [String]
    }

    nonisolated(unsafe) static var pipeline: Pipeline?

    static func run(_ exe: String, _ args: [String]) throws -> CommandResult {
        let r = try runCommand(TestEnvironment.executable(exe), args, timeout: 900)
        guard r.status == 0 else { throw TesseraError.io(path: exe, message: "exit \(r.status): \(r.output)", hint: "") }
        return r
    }

    static func shared() throws -> Pipeline {
        if let pipeline { return pipeline }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-predict-fixture-\(getpid())")
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let cohort = root.appendingPathComponent("cohort"), store = root.appendingPathComponent("store"), run = root.appendingPathComponent("run")
        _ = try self.run("tessera-synth", ["--out", cohort.path, "--patients", "6", "--width", "1024", "--height", "1024", "--seed", "3"])
        _ = try self.run("tessera-tile", ["--manifest", cohort.appendingPathComponent("manifest.csv").path, "--store", store.path,
                                          "--tile-size", "128", "--assume-mpp", "0.5", "--split", "0.5,0,0.5", "--threads", "2"])
        _ = try self.run("tessera-train", ["--store", store.path, "--out", run.path, "--input-size", "32", "--epochs", "1", "--batch", "8",
                                           "--threads", "1", "--progress-interval", "0"])
        // The test split's slides, as a manifest of their files.
        let splits = try CSV.parse(String(contentsOf: store.appendingPathComponent("splits.csv"), encoding: .utf8))
        let testPatients = Set(splits.dropFirst().filter { $0.fields[1] == "test" }.map { $0.fields[0] })
        let manifest = try CSV.parse(String(contentsOf: cohort.appendingPathComponent("manifest.csv"), encoding: .utf8))
        XCTAssertEqual(manifest.first?.fields, ["slide_path", "slide_id", "patient_id", "label"])
        let rows = manifest.dropFirst().filter { testPatients.contains($0.fields[2]) }.map { r in
            [cohort.appendingPathComponent(r.fields[0]).path, r.fields[1], r.fields[2], r.fields[3]]
        }
        let testManifest = root.appendingPathComponent("test-slides.csv")
        try Data(CSV.document(header: ["slide_path", "slide_id", "patient_id", "label"], rows: rows).utf8).write(to: testManifest)
        pipeline = Pipeline(root: root, cohort: cohort, store: store, model: run.appendingPathComponent("model.tsm"),
                            testManifest: testManifest, testSlides: rows.map { $0[1] }.sorted())
        return pipeline!
    }

    static func tearDown() {
        if let root = pipeline?.root { try? FileManager.default.removeItem(at: root) }
        pipeline = nil
    }
}

/// A CSV file as a header and rows keyed by their first field.
struct CSVTable {
    let header: [String]
    let rows: [[String]]

    init(_ url: URL) throws {
        let records = try CSV.parse(String(contentsOf: url, encoding: .utf8))
        header = records.first?.fields ?? []
        rows = records.dropFirst().map(\.fields)
    }

    func column(_ name: String) -> Int? { header.firstIndex(of: name) }

    func value(_ row: [String], _ name: String) -> String { row[column(name)!] }

    var byKey: [String: [String]] { Dictionary(uniqueKeysWithValues: rows.map { ($0[0], $0) }) }
}
