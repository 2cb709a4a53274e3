import ArgumentParser
import FeatureStore
import Foundation
import TesseraCLI
import TesseraCore
import TileStore

/// tessera-audit: summarises a tile store and verifies it. The checks live in `StoreAudit`.
@main
struct TesseraAudit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera-audit",
        abstract: "Summarise a tile store and verify every file and every tile.",
        discussion: """
            Prints tile counts per split and class, slide and patient counts, and tiles per slide; \
            checks that every .h5 file is a tile store of this schema version, that all files agree on \
            the tiling parameters, that every tile decodes and its record is consistent, that no slide \
            appears twice and no patient is in two splits (also against splits.csv), and that each \
            test file holds the one slide it is named after. Every chunk read is checked against its \
            Fletcher-32 checksum (damaged tiles are named). Every file and slide that the tiler's \
            status files (status/task-*.json) record as written must be there (--allow-partial-store \
            lists what is missing without failing), and no slide's content may appear in two splits \
            or under two patients. Slides the tiler gave up on (failures/*.csv) are listed.

            With --features FEAT (a feature store tessera-predict embed made from this store), also \
            checks it: every slide of each split has a feature file in that split with one row per \
            tile of the store, each file records its embedding width and all share it, no value is \
            NaN or infinite, and no file belongs to a slide the store does not have there.

            Examples:
              tessera-audit /scratch/$USER/store
              tessera-audit store --json store-audit.json
              tessera-audit store --no-pixels        # everything but decoding the tiles
              tessera-audit store --strict           # tiler failures fail the audit too
              tessera-audit store --features features   # and its feature store

            Exit status: 0 when every check passed, 1 when any failed (each problem is printed \
            with its file), 64 for usage errors.
            """,
        version: TesseraVersion.line("tessera-audit"))

    @Argument(help: ArgumentHelp("The store folder written by tessera-tile (with train/, validation/, test/).",
                                 valueName: "store"))
    var store: String

    @Option(help: ArgumentHelp("Also write the summary as JSON to this file.", valueName: "file"))
    var json: String?

    @Flag(name: .customLong("no-pixels"), help: "Do not decode the tiles (every other check still runs).")
    var noPixels = false

    @Option(help: ArgumentHelp("Threads decoding tiles, 1…1024 (default: every core).", valueName: "n"))
    var workers: Int?

    @Option(help: ArgumentHelp("Also audit this feature store (tessera-predict embed --out) against the store.", valueName: "folder"))
    var features: String?

    @Flag(help: "Also fail when the tiler recorded failed slides.")
    var strict = false

    @Flag(help: "List files the tiler's status records but the store lacks without failing the audit.")
    var allowPartialStore = false

    func validate() throws {
        guard OptionCheck.isFolder(store) else {
            throw ValidationError("\(store) is not a folder: pass the store folder that tessera-tile wrote")
        }
        guard !TileStoreLayout.storeFiles(in: URL(fileURLWithPath: store)).isEmpty else {
            throw ValidationError("\(store) has no .h5 files in train/, validation/ or test/: is it a tile store, and has tessera-tile finished?")
        }
        if let json {
            let parent = URL(fileURLWithPath: json).deletingLastPathComponent().path
            guard OptionCheck.isFolder(parent) else {
                throw ValidationError("--json \(json): the folder \(parent) does not exist; create it or pick another path")
            }
        }
        if let features, !OptionCheck.isFolder(features) {
            throw ValidationError("--features \(features) is not a folder: pass the --out of tessera-predict embed")
        }
        if let workers, workers < 1 {
            throw ValidationError("--workers must be at least 1, got \(workers)")
        }
        // One JPEG decoder each: an absurd count would exhaust memory before the first tile.
        if let workers, workers > 1024 {
            throw ValidationError("--workers must be at most 1024, got \(workers)")
        }
    }

    func run() throws {
        Log.program = "tessera-audit"
        var options = StoreAuditOptions(checkPixels: !noPixels)
        options.allowPartialStore = allowPartialStore
        if let workers { options.workers = workers }
        let report = try StoreAudit.run(store: URL(fileURLWithPath: store), options: options)
        print(report.text, terminator: "")
        if let json {
            try JSONFile.write(report, to: URL(fileURLWithPath: json), keys: .snakeCase)
        }
        if strict && !report.failures.isEmpty {
            print("FAILED (--strict): the tiler recorded \(report.failures.count) failed slide\(report.failures.count == 1 ? "" : "s")")
            throw ExitStatus.failure.exitCode
        }
        var passed = report.passed
        if let features {
            let featureReport = FeatureStoreAudit.run(features: URL(fileURLWithPath: features),
                                                      expected: try TileStoreReader.tileCounts(store: URL(fileURLWithPath: store)))
            print(featureReport.text, terminator: "")
            passed = passed && featureReport.passed
        }
        if !passed { throw ExitStatus.failure.exitCode }
    }
}
