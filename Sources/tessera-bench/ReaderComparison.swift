import Foundation
import JPEG
import SlideTiles
import TIFF
import TesseraCore
import Tiling

/// The direct JPEG reader against OpenSlide inside `tessera-tile`, side by side on the same slides in
/// one run, with the decode + encode limit of this machine: (a) a 20× JPEG Aperio slide tiled at
/// 20×, (b) a 40× slide tiled at 20× (the decoder's ½ scaling), (c) a single-level tiled TIFF. Per
/// core means per CPU second of the tiler process, so that a neighbour's load does not count.
struct ReaderComparison {
    static let targets = [
        "a": Target.atLeast(250, "kept tiles per CPU second", "(5× the Python tiler's 50 per core)"),
        "b": Target.atLeast(150, "kept tiles per CPU second"),
    ]
    static let scalingTarget = Target.atLeast(1.8, "×", "(near-linear)")

    struct Case {
        let key: String
        let title: String
        let path: String
        let target: [String]
    }

    func run(in context: BenchContext) throws {
        let folder = context.workDirectory.appendingPathComponent("readers")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let side = context.quick ? 6000 : 24000
        let a = try Self.synth(folder.appendingPathComponent("a-20x.svs").path, width: side, height: side * 4 / 5, mpp: 0.499)
        let b = try Self.synth(folder.appendingPathComponent("b-40x.svs").path, width: side, height: side * 4 / 5, mpp: 0.2495)
        let c = folder.appendingPathComponent("c-single-level.tif").path
        try Self.writeSingleLevel(from: a, to: c)
        let cases = [Case(key: "a", title: "(a) 20× JPEG Aperio at 20×", path: a, target: ["--magnification", "20"]),
                     Case(key: "b", title: "(b) 40× JPEG Aperio at 20×", path: b, target: ["--magnification", "20"]),
                     Case(key: "c", title: "(c) single-level tiled TIFF, level 0", path: c, target: ["--level", "0"])]
        for item in cases {
            try measure(item, context: context, folder: folder)
        }
    }

    /// The direct path at 1 and 2 threads, `repeats` times each and taking turns (so that a change
    /// in the machine's load falls on both), and the OpenSlide path once at 1 thread; medians, and
    /// the wall-time scaling from 1 to 2 threads.
    private func measure(_ item: Case, context: BenchContext, folder: URL) throws {
        try OpenSlideBenchmark.readIntoPageCache(item.path)
        let repeats = context.quick ? 1 : 3
        var runs: [String: [TilerRun]] = [:]
        let order = [("openslide", 1)] + Array(repeating: [("auto", 1), ("auto", 2)], count: repeats).flatMap { $0 }
        for (reader, threads) in order {
            let store = folder.appendingPathComponent("store-\(item.key)-\(reader)-t\(threads)")
            let run = try TilerRun.tile(slidePath: item.path, slideID: "slide-\(item.key)", label: SynthRun.slideClass,
                                        target: item.target + ["--slide-reader", reader], threads: threads, store: store)
            runs["\(reader == "auto" ? "direct" : "openslide")_t\(threads)", default: []].append(run)
        }
        for (path, threads) in [("direct", 1), ("openslide", 1), ("direct", 2)] {
            let sample = runs["\(path)_t\(threads)"]!
            let kept = Samples(sample.map(\.keptPerCPUSecond), cpu: TilerRun.cpuUse(of: sample))
            let positions = Samples(sample.map { Double($0.positions) / max($0.outcome.usage.cpuSeconds, 1e-9) })
            let wall = Samples(sample.map(\.keptPerSecond))
            var line = "\(item.title), \(path) path, \(threads) thread\(threads == 1 ? "" : "s"): \(sample[0].tilesKept) tiles kept of "
                + "\(sample[0].positions) positions; \(kept.summary("kept tiles per CPU second")), "
                + "\(positions.summary("positions per CPU second")), \(wall.summary("kept tiles/s"))"
            if threads == 1, path == "direct", let target = Self.targets[item.key] { line += "; \(target.verdict(kept.median))" }
            Log.info(line)
            let name = "tile_reader_\(item.key)_\(path)_t\(threads)"
            Figure("\(name)_kept_per_cpu_s", kept.median, "tiles/CPU-s").emit()
            Figure("\(name)_positions_per_cpu_s", positions.median, "positions/CPU-s").emit()
            Figure("\(name)_kept_per_s", wall.median, "tiles/s").emit()
        }
        // Each turn's 2-thread rate over its 1-thread rate; the median of those.
        let one = runs["direct_t1"]!, two = runs["direct_t2"]!
        let scaling = Samples(zip(one, two).map { $1.keptPerSecond / $0.keptPerSecond })
        Log.info("\(item.title), direct path: 2 threads against 1, wall time: \(scaling.summary("×")); \(Self.scalingTarget.verdict(scaling.median))")
        Figure("tile_reader_\(item.key)_direct_scaling", scaling.median, "x").emit()
        let limit = try decodeEncodeLimit(item)
        Log.info("\(item.title): decode + encode limit on one core \(Figure.format(limit)) kept tiles/s (TurboJPEG only: no background test, no store)")
        Figure("tile_reader_\(item.key)_limit_per_cpu_s", limit, "tiles/CPU-s").emit()
        let peak = runs.values.joined().map(\.peakRSSMiB).max() ?? 0
        Log.info("\(item.title): peak RSS \(Figure.format(peak)) MiB (largest of the runs); \(TilingBenchmark.peakRSS.verdict(peak))")
        Figure("tile_reader_\(item.key)_peak_rss", peak, "MiB").emit()
    }

    /// Kept tiles per CPU second of reading them with the direct reader (decoder scaling as the
    /// tiler uses it) and encoding them, on up to 300 tissue positions of the plan, on this thread.
    private func decodeEncodeLimit(_ item: Case) throws -> Double {
        let source = try SlideSources.open(path: item.path, log: false)
        let target: TilingTarget = item.target[0] == "--level" ? .level(0) : .magnification(20)
        let tiler = SlideTiler(spec: TilingSpec(tileSize: 512, target: target, rule: BackgroundRule(), jpegQuality: 90), workers: 1)
        let plan = try tiler.plan(for: source)
        let reader = try source.makeRegionReader()
        let encoder = try JPEGEncoder(quality: 90)
        let scale = tiler.decoderScale(plan)
        let resampler = plan.isExact ? nil : AreaResampler(sourceSize: plan.footprint, outputSize: 512)
        func cut(_ i: Int) throws -> RGBImage {
            let o = plan.origin(i)
            if let scale, let tile = try reader.readRegion(x: o.x, y: o.y, level: plan.level, width: 512, height: 512, scale: scale) { return tile }
            let region = try reader.readRegion(x: o.x, y: o.y, level: plan.level, width: plan.readSize, height: plan.readSize)
            return resampler?.resample(region) ?? region
        }
        // Tissue positions first (outside the timing), then read + encode them in grid order.
        var tissue: [Int] = []
        for i in 0..<plan.count where tissue.count < 300 {
            if BackgroundRule().keeps(backgroundFraction: BackgroundRule().backgroundFraction(try cut(i))) { tissue.append(i) }
        }
        guard !tissue.isEmpty else { return 0 }
        let before = ResourceUsage.ofThisProcess()
        for i in tissue { _ = try encoder.encode(try cut(i)) }
        let cpu = ResourceUsage.ofThisProcess().cpuSeconds - before.cpuSeconds
        return Double(tissue.count) / max(cpu, 1e-9)
    }

    static func synth(_ path: String, width: Int, height: Int, mpp: Double) throws -> String {
        if FileManager.default.fileExists(atPath: path) { return path }
        let synth = ChildProcess(executable: try ChildProcess.sibling("tessera-synth"), arguments: [
            "--single-slide", path, "--class", SynthRun.slideClass, "--width", String(width), "--height", String(height),
            "--mpp", String(mpp),
        ])
        Log.info("writing \(path): \(synth.commandLine)")
        let outcome = try synth.run()
        guard outcome.succeeded else {
            throw BenchError.toolFailed("tessera-synth \(outcome.ending) while writing \(path)", hint: "run the command shown to reproduce")
        }
        return path
    }

    /// Level 0 of `source` as a single-directory tiled TIFF without Aperio text (OpenSlide: generic-tiff).
    static func writeSingleLevel(from source: String, to path: String) throws {
        if FileManager.default.fileExists(atPath: path) { return }
        let slide = try SlideSources.open(path: source, log: false)
        let reader = try slide.makeRegionReader()
        let (w, h) = slide.slide.dimensions(level: 0)
        let tile = 256
        let writer = try PyramidTIFFWriter(path: path + ".tmp", tileSize: tile, quality: 90)
        do {
            try writer.beginDirectory(width: w, height: h)
            for row in 0..<((h + tile - 1) / tile) {
                let rows = min(tile, h - row * tile)
                let strip = try reader.readRegion(x: 0, y: row * tile, level: 0, width: w, height: rows)
                try writer.writeTileRow(row, pixels: strip.pixels, width: w, height: rows)
            }
            try writer.finishDirectory()
            try writer.close()
        } catch {
            writer.discard()
            throw error
        }
        try FileManager.default.moveItem(atPath: path + ".tmp", toPath: path)
    }
}
