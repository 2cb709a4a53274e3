import Foundation
import JPEG
import OpenSlide
import TesseraCore
import Tiling

/// One kept tile, encoded, with where it came from.
public struct TileOutput: Sendable {
    public let x: Int
    public let y: Int
    public let background: Float
    /// JPEG bytes, or raw RGB bytes (tileSize² × 3) with the raw encoding.
    public let bytes: [UInt8]
}

/// What became of one grid position that was read: kept (`dropped` nil) or dropped, and why.
public struct TileDecision: Sendable, Equatable {
    public let x: Int
    public let y: Int
    public let dropped: TileDropReason?
    /// The QC measures of a tile that passed the background rule (nil when the check is off).
    public var inkFraction: Double?
    public var focus: Double?
}

/// Per-slide tiling result.
public struct SlideTilingSummary: Sendable, Equatable {
    public var considered = 0
    public var kept = 0
    /// Grid positions the tissue mask let us skip without reading.
    public var skippedByMask = 0
    /// Tiles dropped by each reason (`mask` included: positions never read).
    public var dropped: [TileDropReason: Int] = [:]
    /// Every position read, in grid order (for the QC table and picture).
    public var decisions: [TileDecision] = []
    /// The Otsu rule's saturation threshold for this slide; nil under the luminance rule.
    public var saturationThreshold: Int?
    /// The low-resolution image the mask was built from, and its downsample (for the QC picture).
    public var thumbnail: (image: RGBImage, downsample: Double)?
    public var seconds = 0.0

    public static func == (a: Self, b: Self) -> Bool {
        a.considered == b.considered && a.kept == b.kept && a.skippedByMask == b.skippedByMask && a.dropped == b.dropped
            && a.decisions == b.decisions && a.saturationThreshold == b.saturationThreshold
    }
}

/// Cuts one slide into tiles: reads each grid position (one OpenSlide handle and one JPEG encoder
/// per worker thread), resamples by area to the target resolution, drops tiles that are mostly
/// background, and encodes the rest. Tiles are handed to `sink` in grid order, batch by batch, so
/// the output is the same whatever the thread timing and memory stays bounded.
///
/// The tiler cuts stores with it and the predictor cuts slide files with it, by one `TilingSpec`.
public struct SlideTiler: Sendable {
    /// Tile size, resolution, background rule, and the JPEG quality (nil: raw pixels).
    public let spec: TilingSpec
    public let overlap: Int
    public let assumeMPP: Double?
    public let workers: Int
    public let useTissueMask: Bool
    /// Tiles per batch handed to the workers (and then to the sink).
    public var batchSize = 64

    public init(spec: TilingSpec, overlap: Int = 0, assumeMPP: Double? = nil, workers: Int = 2, useTissueMask: Bool = true) {
        self.spec = spec
        self.overlap = overlap
        self.assumeMPP = assumeMPP
        self.workers = max(1, workers)
        self.useTissueMask = useTissueMask
    }

    private var tileSize: Int { spec.tileSize }
    private var rule: BackgroundRule { spec.rule }

    public static func geometry(of slide: Slide) -> SlideGeometry {
        SlideGeometry(levelSizes: (0..<slide.levelCount).map { slide.dimensions(level: $0) },
                      levelDownsamples: (0..<slide.levelCount).map { slide.downsample(level: $0) },
                      mpp: slide.mpp.map { ($0.x + $0.y) / 2 }, objectivePower: slide.objectivePower)
    }

    public func plan(for slide: Slide) throws -> TilingPlan {
        try TilingPlan(geometry: SlideTiler.geometry(of: slide), target: spec.target, tileSize: tileSize,
                       overlap: overlap, assumeMPP: assumeMPP)
    }

    /// The pyramid level used for the tissue mask: the coarsest one on which a tile still covers at
    /// least 4×4 pixels, at a downsample of 8 or more (a finer mask would cost as much as reading
    /// the tiles), and small enough to hold (≤ 16 Mpixel). nil when there is none.
    public static func maskLevel(geometry g: SlideGeometry, plan: TilingPlan) -> Int? {
        let tileSpan = Double(plan.tileSize) * plan.downsample
        var choice: Int?
        for (i, d) in g.levelDownsamples.enumerated() where d >= 8 && tileSpan / d >= 4 {
            let (w, h) = g.levelSizes[i]
            if w * h <= 16_000_000 { choice = i }
        }
        return choice
    }

    /// The mask by `rule` (the spec's when nil); `thumbnail` (the smallest level) is reused when
    /// the mask is built on that level.
    public func tissueMask(for slide: Slide, plan: TilingPlan, rule slideRule: BackgroundRule? = nil,
                           thumbnail: RGBImage? = nil) throws -> TissueMask? {
        guard useTissueMask, let level = SlideTiler.maskLevel(geometry: SlideTiler.geometry(of: slide), plan: plan) else { return nil }
        let (w, h) = slide.dimensions(level: level)
        let image = try level == slide.levelCount - 1 ? thumbnail ?? slide.readRegion(x: 0, y: 0, level: level, width: w, height: h)
            : slide.readRegion(x: 0, y: 0, level: level, width: w, height: h)
        return TissueMask(image: image, downsample: slide.downsample(level: level), rule: slideRule ?? rule)
    }

    /// The slide's smallest level when it holds at most 16 Mpixel (the QC picture's and the Otsu
    /// rule's thumbnail), with its downsample.
    public static func thumbnail(of slide: Slide) throws -> (image: RGBImage, downsample: Double)? {
        let level = slide.levelCount - 1
        let (w, h) = slide.dimensions(level: level)
        guard w > 0 && h > 0 && w * h <= 16_000_000 else { return nil }
        return (try slide.readRegion(x: 0, y: 0, level: level, width: w, height: h), slide.downsample(level: level))
    }

    /// The background rule for one slide: the spec's, with the slide's Otsu saturation threshold
    /// under the Otsu rule (the luminance rule when the slide has no thumbnail to compute it on).
    public static func slideRule(spec: TilingSpec, thumbnail: RGBImage?) -> BackgroundRule {
        guard spec.tissueRule == .otsu, let thumbnail else { return spec.rule }
        return BackgroundRule(threshold: spec.backgroundThreshold, maxBackground: spec.maxBackground,
                              saturationThreshold: TissueMask.otsuSaturationThreshold(thumbnail: thumbnail))
    }

    /// Tiles an open slide by `plan` (from `plan(for:)`: callers need it before the tiles, so it is
    /// not computed twice). The slide's handle serves the first worker; the others open their own.
    /// Throws OpenSlide and JPEG errors; on error nothing of the slide should be kept by the
    /// caller. `progress` is told the number of grid positions done.
    public func run(slide first: Slide, plan: TilingPlan, sink: ([TileOutput]) throws -> Void,
                    progress: ((Int, Int) -> Void)? = nil) throws -> SlideTilingSummary {
        let start = Date()
        var summary = SlideTilingSummary()
        summary.thumbnail = try SlideTiler.thumbnail(of: first)
        let rule = SlideTiler.slideRule(spec: spec, thumbnail: summary.thumbnail?.image)
        summary.saturationThreshold = rule.saturationThreshold
        let mask = try tissueMask(for: first, plan: plan, rule: rule, thumbnail: summary.thumbnail?.image)
        var handles = [first]
        for _ in 1..<workers { handles.append(try Slide(path: first.path)) }
        let encoders = try (0..<workers).map { _ in try spec.jpegQuality.map { try JPEGEncoder(quality: $0) } }
        let resampler = plan.isExact ? nil : AreaResampler(sourceSize: plan.footprint, outputSize: tileSize)
        let span0 = Int((Double(tileSize) * plan.downsample).rounded(.up))

        summary.considered = plan.count
        var index = 0
        while index < plan.count {
            let batch = Array(index..<min(index + batchSize, plan.count))
            index += batch.count
            // Positions the mask rules out are never read.
            let todo = batch.filter { i in
                guard let mask else { return true }
                let o = plan.origin(i)
                return mask.mayContainTissue(x: o.x, y: o.y, width: span0, height: span0)
            }
            summary.skippedByMask += batch.count - todo.count
            summary.dropped[.mask, default: 0] += batch.count - todo.count
            let results = try evaluate(todo, plan: plan, rule: rule, handles: handles, encoders: encoders, resampler: resampler)
            var kept: [TileOutput] = []
            for (k, result) in results.enumerated() {
                let o = plan.origin(todo[k])
                switch result {
                case let .kept(t, v):
                    kept.append(t)
                    summary.decisions.append(TileDecision(x: o.x, y: o.y, dropped: nil, inkFraction: v.inkFraction, focus: v.focus))
                case let .dropped(reason, v):
                    summary.dropped[reason, default: 0] += 1
                    summary.decisions.append(TileDecision(x: o.x, y: o.y, dropped: reason, inkFraction: v?.inkFraction, focus: v?.focus))
                }
            }
            summary.kept += kept.count
            if !kept.isEmpty { try sink(kept) }
            progress?(index, plan.count)
        }
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }

    private enum Outcome {
        case kept(TileOutput, ArtefactQC.Verdict)
        case dropped(TileDropReason, ArtefactQC.Verdict?)
    }

    /// Reads, tests and encodes the given positions on the worker threads; results in input order.
    private func evaluate(_ positions: [Int], plan: TilingPlan, rule: BackgroundRule, handles: [Slide], encoders: [JPEGEncoder?],
                          resampler: AreaResampler?) throws -> [Outcome] {
        // Each worker uses only its own handle and encoder; the lock guards the rest.
        final class Shared: @unchecked Sendable {
            let handles: [Slide]
            let encoders: [JPEGEncoder?]
            var results: [Outcome]
            var error: Error?
            var next = 0
            let lock = NSLock()
            init(_ n: Int, _ handles: [Slide], _ encoders: [JPEGEncoder?]) {
                results = [Outcome](repeating: .dropped(.background, nil), count: n)
                self.handles = handles
                self.encoders = encoders
            }
        }
        let shared = Shared(positions.count, handles, encoders)
        let read = plan.readSize
        let qc = spec.artefactQC
        DispatchQueue.concurrentPerform(iterations: min(workers, max(positions.count, 1))) { worker in
            let slide = shared.handles[worker]
            let encoder = shared.encoders[worker]
            while true {
                shared.lock.lock()
                let k = shared.next
                shared.next += 1
                let stop = shared.error != nil
                shared.lock.unlock()
                if stop || k >= positions.count { return }
                do {
                    let o = plan.origin(positions[k])
                    let region = try slide.readRegion(x: o.x, y: o.y, level: plan.level, width: read, height: read)
                    let tile = resampler?.resample(region) ?? region
                    let background = rule.backgroundFraction(tile)
                    // A background drop is the results' initial value.
                    guard rule.keeps(backgroundFraction: background) else { continue }
                    let verdict = qc.evaluate(tile)
                    if let reason = verdict.dropped {
                        shared.lock.lock()
                        shared.results[k] = .dropped(reason, verdict)
                        shared.lock.unlock()
                        continue
                    }
                    let bytes = try encoder.map { try $0.encode(tile) } ?? tile.pixels
                    let output = TileOutput(x: o.x, y: o.y, background: Float(background), bytes: bytes)
                    shared.lock.lock()
                    shared.results[k] = .kept(output, verdict)
                    shared.lock.unlock()
                } catch {
                    shared.lock.lock()
                    if shared.error == nil { shared.error = error }
                    shared.lock.unlock()
                    return
                }
            }
        }
        if let error = shared.error { throw error }
        return shared.results
    }
}
