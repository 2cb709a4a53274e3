import Foundation
import OpenSlide
import TesseraCore

/// OpenSlide `read_region` of 512² tiles at level 0, as the tiler reads them: distinct,
/// non-overlapping grid cells on tissue, each read once, in a random order. Each pass opens fresh
/// handles, so OpenSlide's tile cache starts empty, as it does for every slide the tiler opens; the
/// file itself is in the page cache (read once beforehand), so the figures measure decoding, not disk.
struct OpenSlideBenchmark: Benchmark {
    static let tileSize = 512
    static let referenceSlide = "tcga-cr-7395-01a-01-ts1.svs"

    /// How the threads of one configuration get their handles.
    struct ReadMode {
        let threads: Int
        let sharedHandle: Bool
        var suffix: String { threads == 1 ? "t1" : "t\(threads)_" + (sharedHandle ? "shared" : "per_thread") }
        var label: String {
            threads == 1 ? "1 thread" : "\(threads) threads, " + (sharedHandle ? "one shared handle" : "one handle per thread")
        }
    }

    static let modes = [
        ReadMode(threads: 1, sharedHandle: true),
        ReadMode(threads: 2, sharedHandle: true),
        ReadMode(threads: 2, sharedHandle: false),
    ]

    func run(in context: BenchContext) throws {
        if let path = context.referenceSlide(Self.referenceSlide, for: "openslide_tcga_*") {
            try measure(path: path, name: "tcga", tilesPerPass: context.count(48, quick: 24), context: context)
        }
        if context.gigapixelSize == nil {
            context.skip("openslide_gigapixel_*", because: "--skip-gigapixel")
        } else {
            let slide = try context.gigapixelSlide()
            try measure(path: slide.path, name: "gigapixel", tilesPerPass: context.count(96, quick: 32), context: context)
        }
    }

    func measure(path: String, name: String, tilesPerPass: Int, context: BenchContext) throws {
        try Self.readIntoPageCache(path)
        let tiles = try TileSample.tissueTiles(of: Slide(path: path), tileSize: Self.tileSize, count: tilesPerPass, seed: 7)
        let passes = context.count(3, quick: 2)
        // Passes of the modes take turns, so that a burst of load from another process slows one pass
        // of each mode rather than every pass of one mode.
        var rates = Array(repeating: [Double](), count: Self.modes.count)
        var use = Array(repeating: CPUUse(), count: Self.modes.count)
        for _ in 0..<passes {
            for (m, mode) in Self.modes.enumerated() {
                let seconds = try Self.readPass(path: path, tiles: tiles, mode: mode, accountingTo: &use[m])
                rates[m].append(Double(tiles.count) / seconds)
            }
        }
        for (m, mode) in Self.modes.enumerated() {
            let samples = Samples(rates[m], cpu: use[m])
            Log.info("OpenSlide read_region \(Self.tileSize)² level 0 on \(name), \(mode.label), \(tiles.count) tiles per pass: \(samples.summary("tiles/s"))")
            Figure("openslide_\(name)_\(mode.suffix)", samples.median, "tiles/s").emit()
        }
    }

    /// Seconds to read every tile once on fresh handles, the tiles dealt round-robin to the threads.
    static func readPass(path: String, tiles: [TilePosition], mode: ReadMode, accountingTo use: inout CPUUse) throws -> Double {
        let handles = try (0..<(mode.sharedHandle ? 1 : mode.threads)).map { _ in try Slide(path: path) }
        let failure = FirstError()
        let seconds = Measure.seconds({
            DispatchQueue.concurrentPerform(iterations: mode.threads) { worker in
                let slide = handles[mode.sharedHandle ? 0 : worker]
                for i in stride(from: worker, to: tiles.count, by: mode.threads) {
                    do {
                        _ = try slide.readRegion(x: tiles[i].x, y: tiles[i].y, level: 0, width: tileSize, height: tileSize)
                    } catch {
                        failure.record(error)
                        return
                    }
                }
            }
        }, accountingTo: &use)
        try failure.rethrow()
        return seconds
    }

    /// Reads the whole file once, so that the first pass does not pay for the disk.
    static func readIntoPageCache(_ path: String) throws {
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw BenchError.missingInput("cannot open \(path) for reading", hint: "check the file's permissions")
        }
        defer { try? file.close() }
        while let chunk = try file.read(upToCount: 16 << 20), !chunk.isEmpty {}
    }
}

/// The first error thrown by any of several threads.
final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?

    func record(_ error: any Error) {
        lock.lock(); defer { lock.unlock() }
        if self.error == nil { self.error = error }
    }

    func rethrow() throws {
        lock.lock(); defer { lock.unlock() }
        if let error { throw error }
    }
}
