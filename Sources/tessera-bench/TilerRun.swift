import Foundation
import TesseraCore
import TileStore

/// One run of the `tessera-tile` executable on a one-slide manifest into a fresh store, measured from
/// outside like `SynthRun` (wall time, CPU time and peak RSS of that process), with what it did read
/// back from the store it wrote: the slide table's tiles kept and grid positions considered.
struct TilerRun {
    let slideID: String
    let store: URL
    let threads: Int
    let outcome: ChildProcess.Outcome
    let tilesKept: Int
    /// Grid positions of the tiling plan, including those the tissue mask skipped without reading.
    let positions: Int

    var keptPerSecond: Double { Double(tilesKept) / outcome.wallSeconds }
    var positionsPerSecond: Double { Double(positions) / outcome.wallSeconds }
    var keptPerCPUSecond: Double { Double(tilesKept) / max(outcome.usage.cpuSeconds, 1e-9) }
    var peakRSSMiB: Double { Double(outcome.peakRSSBytes) / 1_048_576 }

    /// "4310 of 4524 positions kept in 21.3 s (202.3 tiles/s, 212.4 positions/s; 108.0 tiles per CPU second); CPU …".
    var summary: String {
        "\(tilesKept) tiles kept of \(positions) positions in \(Figure.format(outcome.wallSeconds)) s with \(threads) thread\(threads == 1 ? "" : "s") "
            + "(\(Figure.format(keptPerSecond)) tiles/s, \(Figure.format(positionsPerSecond)) positions/s, "
            + "\(Figure.format(keptPerCPUSecond)) tiles per CPU second); \(outcome.usageSummary)"
    }

    /// The tiler processes' CPU use over several runs, for the log line of their median.
    static func cpuUse(of runs: [TilerRun]) -> CPUUse {
        var use = CPUUse()
        for run in runs { use.add(wallSeconds: run.outcome.wallSeconds, from: ResourceUsage(rusage()), to: run.outcome.usage) }
        return use
    }

    /// Tiles the gigapixel slide at 20× (it is a 20× slide, MPP 0.499, so level 0 without resampling)
    /// into `directory/tiling/gigapixel-tN`, every patient in the training split.
    static func tileGigapixel(_ slide: SynthRun, threads: Int, in directory: URL) throws -> TilerRun {
        try tile(slidePath: slide.path, slideID: "gigapixel", label: SynthRun.slideClass, target: ["--magnification", "20"],
                 threads: threads, store: directory.appendingPathComponent("tiling/gigapixel-t\(threads)"))
    }

    /// Runs `tessera-tile --threads threads TARGET` on the slide alone into `store`, which is emptied
    /// first (a leftover store would make the tiler resume and skip the slide).
    static func tile(slidePath: String, slideID: String, label: String, target: [String], threads: Int, store: URL) throws -> TilerRun {
        let fm = FileManager.default
        try? fm.removeItem(at: store)
        let folder = store.deletingLastPathComponent()
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        let manifest = folder.appendingPathComponent("\(slideID)-manifest.csv")
        let absolutePath = URL(fileURLWithPath: slidePath).standardizedFileURL.path
        let csv = CSV.document(header: ["slide_path", "slide_id", "patient_id", "label"],
                               rows: [[absolutePath, slideID, "\(slideID)-patient", label]])
        try AtomicFile.write(Data(csv.utf8), to: manifest)

        let tiler = ChildProcess(executable: try ChildProcess.sibling("tessera-tile"), arguments: [
            "--manifest", manifest.path, "--store", store.path, "--threads", String(threads), "--split", "1,0,0",
        ] + target)
        Log.info("tiling \(slideID): \(tiler.commandLine)")
        let outcome = try tiler.run()
        guard outcome.succeeded else {
            let failures = store.appendingPathComponent(TileStoreLayout.failuresFolder).path
            throw BenchError.toolFailed("tessera-tile \(outcome.ending) on \(slidePath)",
                                        hint: "its messages are above (status 3: the slide failed, see \(failures)); run the command shown to reproduce")
        }
        let (kept, positions) = try counts(in: store)
        guard kept > 0 else {
            throw BenchError.wrongResult("tessera-tile kept no tile of \(slidePath) (\(positions) positions)",
                                         hint: "a tiler that writes nothing is fast for nothing; check the slide and the background rule")
        }
        return TilerRun(slideID: slideID, store: store, threads: threads, outcome: outcome, tilesKept: kept, positions: positions)
    }

    /// Tiles kept and positions considered, summed over the slide tables of the store's files, checked
    /// against the tiles actually stored.
    static func counts(in store: URL) throws -> (kept: Int, positions: Int) {
        var kept = 0, positions = 0, stored = 0
        let files = TileStoreLayout.storeFiles(in: store)
        guard !files.isEmpty else {
            throw BenchError.toolFailed("tessera-tile exited 0 but wrote no store file under \(store.path)", hint: "")
        }
        for url in files {
            let reader = try TileStoreReader(url: url)
            kept += reader.slides.reduce(0) { $0 + $1.tilesKept }
            positions += reader.slides.reduce(0) { $0 + $1.tilesConsidered }
            stored += reader.tileCount
            try reader.close()
        }
        guard stored == kept else {
            throw BenchError.wrongResult("\(store.path): the slide tables say \(kept) tiles kept, the files hold \(stored)",
                                         hint: "check the store with tessera-audit")
        }
        return (kept, positions)
    }

    /// The store's one file (the slide's patient is in the training split).
    func storeFile() throws -> URL {
        guard let file = TileStoreLayout.storeFiles(in: store).first else {
            throw BenchError.missingInput("no store file under \(store.path)", hint: "")
        }
        return file
    }
}
