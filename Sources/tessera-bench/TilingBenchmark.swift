import Foundation
import TesseraCore

/// `tessera-tile` end to end, run as users run it (the built executable, one slide, a fresh store):
/// tiles kept and grid positions considered per second of wall time at 1 and 2 threads, on the
/// generated gigapixel slide at 20× and on the real TCGA slide at level 0 (it records no MPP, and
/// level 0 as it is compares honestly with the `openslide_tcga_*` read figures), plus the tiler's
/// peak resident memory, which must not grow with the slide. First the direct JPEG reader against
/// OpenSlide (`ReaderComparison`).
struct TilingBenchmark: Benchmark {
    static let threadCounts = [1, 2]
    static let referenceSlide = OpenSlideBenchmark.referenceSlide

    static let peakRSS = Target.below(500e6 / 1_048_576, "MiB", "(500 MB, whatever the slide size)")
    /// Per CPU second, so that it judges the code rather than how much of the machine it got.
    static let perCore = Target.atLeast(300, "tiles per CPU second",
                                        "(5× a Python openslide tiler's 20–60 tiles/s per core; the aim is ~400)")

    func run(in context: BenchContext) throws {
        try ReaderComparison().run(in: context)
        if context.gigapixelSize == nil {
            context.skip("tile_gigapixel_*", because: "--skip-gigapixel")
        } else {
            try measureGigapixel(context)
        }
        if let path = context.referenceSlide(Self.referenceSlide, for: "tile_tcga_*") {
            try measureTCGA(path: path, context: context)
        }
    }

    /// Few runs per thread count, taking turns: a gigapixel slide takes half a minute or more per run.
    func measureGigapixel(_ context: BenchContext) throws {
        let slide = try context.gigapixelSlide()
        var results: [Int: [TilerRun]] = [:]
        for _ in 0..<context.count(2, quick: 1) {
            for threads in Self.threadCounts {
                let run = try TilerRun.tileGigapixel(slide, threads: threads, in: context.workDirectory)
                Log.info("tessera-tile on the \(slide.size) gigapixel slide at 20×: \(run.summary)")
                results[threads, default: []].append(run)
            }
        }
        context.recordGigapixelStore(results[Self.threadCounts.last!]!.last!)
        logRates(results, on: "the gigapixel slide", figure: "tile_gigapixel_t", keptSuffix: "")
        let peak = results.values.joined().map(\.peakRSSMiB).max()!
        Log.info("tessera-tile peak RSS on a \(Figure.format(slide.size.megapixels)) Mpixel slide: \(Figure.format(peak)) MiB (largest of the runs); \(Self.peakRSS.verdict(peak))")
        Figure("tile_gigapixel_peak_rss", peak, "MiB").emit()
    }

    /// A small slide (tens of positions), so several runs per thread count, taking turns.
    func measureTCGA(path: String, context: BenchContext) throws {
        try OpenSlideBenchmark.readIntoPageCache(path)
        let runs = context.count(3, quick: 1)
        var results: [Int: [TilerRun]] = [:]
        for _ in 0..<runs {
            for threads in Self.threadCounts {
                let store = context.workDirectory.appendingPathComponent("tiling/tcga-t\(threads)")
                let run = try TilerRun.tile(slidePath: path, slideID: "tcga", label: "tumour", target: ["--level", "0"],
                                            threads: threads, store: store)
                Log.info("tessera-tile on \(Self.referenceSlide) at level 0: \(run.summary)")
                results[threads, default: []].append(run)
            }
        }
        logRates(results, on: Self.referenceSlide, note: " (a JPEG 2000 slide: compare with openslide_tcga_t1, OpenSlide's read_region alone)",
                 figure: "tile_tcga_t", keptSuffix: "_kept_per_s")
        try measureQCCost(path: path, runs: runs, with: results[1]!, context: context)
    }

    /// Per thread count: tiles kept and positions read per second, tiles per CPU second against
    /// the per-core target, as a log line and figures `<figure><threads><keptSuffix>` and
    /// `<figure><threads>_positions_per_s`.
    func logRates(_ results: [Int: [TilerRun]], on slide: String, note: String = "", figure: String, keptSuffix: String) {
        for threads in Self.threadCounts {
            let runs = results[threads]!
            let kept = Samples(runs.map(\.keptPerSecond), cpu: TilerRun.cpuUse(of: runs))
            let positions = Samples(runs.map(\.positionsPerSecond))
            let perCPU = Samples(runs.map(\.keptPerCPUSecond))
            Log.info("tessera-tile on \(slide), \(threads) thread\(threads == 1 ? "" : "s"): kept \(kept.summary("tiles/s")), "
                     + "positions \(positions.summary("positions/s")), \(perCPU.summary("tiles per CPU second")); "
                     + "\(Self.perCore.verdict(perCPU.median))\(note)")
            Figure("\(figure)\(threads)\(keptSuffix)", kept.median, "tiles/s").emit()
            Figure("\(figure)\(threads)_positions_per_s", positions.median, "positions/s").emit()
        }
    }

    /// The tile QC's (pen, blur: on by default) share of the tiler's CPU time: the same TCGA runs at
    /// one thread with `--qc none`, CPU seconds per position read compared.
    func measureQCCost(path: String, runs: Int, with qcRuns: [TilerRun], context: BenchContext) throws {
        var plain: [TilerRun] = []
        for _ in 0..<runs {
            let store = context.workDirectory.appendingPathComponent("tiling/tcga-qc-none")
            plain.append(try TilerRun.tile(slidePath: path, slideID: "tcga", label: "tumour", target: ["--level", "0", "--qc", "none"],
                                           threads: 1, store: store))
        }
        func cpuPerPosition(_ r: [TilerRun]) -> Double {
            Samples(r.map { $0.outcome.usage.cpuSeconds / Double(max($0.positions, 1)) }).median
        }
        let on = cpuPerPosition(qcRuns), off = cpuPerPosition(plain)
        let overhead = off > 0 ? 100 * (on / off - 1) : 0
        Log.info("tile QC (pen, blur) on \(Self.referenceSlide) at level 0, 1 thread: \(Figure.format(1000 * on)) ms CPU per position with QC, "
                 + "\(Figure.format(1000 * off)) ms with --qc none: \(Figure.format(overhead)) % more CPU (aim: at most ~10 %)")
        Figure("tile_tcga_t1_qc_cpu_overhead", overhead, "%").emit()
    }
}
