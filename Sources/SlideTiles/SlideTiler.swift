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
    /// FNV-1a 64 of `bytes` (the store's per-tile digest term), computed on the worker that encoded
    /// the tile so that the store's writer, which runs on one thread, does not.
    public let digest: UInt64
}

/// What became of one grid position that was read: kept (`dropped` nil) or dropped, and why.
public struct TileDecision: Sendable, Equatable {
    public let x: Int
    public let y: Int
    public let dropped: TileDropReason?
    /// The QC measures of a tile that passed the background rule (nil when the check is off).
    public var inkFraction: Double?
    public var focus: Double?
    public var foldShare: Double?
    public var rimLength: Double?
    public var blockFocus: Double?

    public init(x: Int, y: Int, dropped: TileDropReason?, measures v: ArtefactQC.Verdict?) {
        self.x = x
        self.y = y
        self.dropped = dropped
        (inkFraction, focus, foldShare, rimLength) = (v?.inkFraction, v?.focus, v?.foldShare, v?.rimLength)
        blockFocus = v?.blockFocus
    }
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
    /// The fold check's reference OD sum (nil when the check is off or the slide has no thumbnail).
    public var foldReference: Double?
    /// The low-resolution image the mask was built from, and its downsample (for the QC picture).
    public var thumbnail: (image: RGBImage, downsample: Double)?
    public var seconds = 0.0
    /// Which reader served the pixels.
    public var reader: SlideReaderKind = .openSlide
    /// Tiles reduced in the JPEG decoder (DCT-domain scaling) instead of by area averaging.
    public var scaledInDecoder = 0
    /// Source tiles decoded against the ideal (direct reader only; not compared by `==`).
    public var decodeCounts: SourceTileCounts?

    public static func == (a: Self, b: Self) -> Bool {
        a.considered == b.considered && a.kept == b.kept && a.skippedByMask == b.skippedByMask && a.dropped == b.dropped
            && a.decisions == b.decisions && a.saturationThreshold == b.saturationThreshold && a.reader == b.reader
            && a.scaledInDecoder == b.scaledInDecoder
    }
}

/// Cuts one slide into tiles: reads each grid position (one region reader and one JPEG encoder per
/// worker thread), resamples to the target resolution, drops tiles that are mostly background, and
/// encodes the rest. Tiles are handed to `sink` in grid order, batch by batch, on the calling
/// thread while the workers cut the next batch (`TilePipeline`), so the output is the same
/// whatever the thread timing and memory stays bounded.
///
/// The tiler cuts stores with it and the predictor cuts slide files with it, by one `TilingSpec`.
public struct SlideTiler: Sendable {
    /// Tile size, resolution, background rule, and the JPEG quality (nil: raw pixels).
    public let spec: TilingSpec
    public let overlap: Int
    public let assumeMPP: Double?
    public let workers: Int
    public let useTissueMask: Bool
    /// Grid positions per batch handed to the sink. The workers run at most two batches ahead of
    /// the sink (≤ ~5 MB of encoded tiles held at 64) and never wait at a batch's end. Small, so
    /// that what the sink still has to write when the workers finish (which no second thread
    /// shortens) is small: on a 414-position slide, 2 threads gave 1.73× the rate of 1 with 256
    /// here and the store writing every 256 tiles or 8 MB, 1.78× with 64 and 64 tiles or 2 MB.
    public var batchSize = 64
    /// When the target is exactly ½, ¼ or ⅛ of the level read and the reader decodes JPEG tiles
    /// itself, reduce in the decoder's IDCT instead of decoding in full and averaging by area. The
    /// two differ slightly (the reduced IDCT keeps the block's low frequencies rather than taking
    /// box means; at ⅛ it is the block mean exactly); `DirectSlideReaderTests` bounds the difference.
    public var scaleInDecoder = true
    /// Consecutive grid positions a worker claims at once, so that its cache of decoded source
    /// tiles serves neighbouring regions.
    public var positionsPerClaim = 4
    /// Only these grid positions are considered (a stain reference's region); nil: all of them.
    public var only: Set<Int>?

    public init(spec: TilingSpec, overlap: Int = 0, assumeMPP: Double? = nil, workers: Int = 2, useTissueMask: Bool = true) {
        self.spec = spec
        self.overlap = overlap
        self.assumeMPP = assumeMPP
        self.workers = max(1, workers)
        self.useTissueMask = useTissueMask
    }

    private var tileSize: Int { spec.tileSize }

    public static func geometry(of slide: Slide) -> SlideGeometry {
        SlideGeometry(levelSizes: (0..<slide.levelCount).map { slide.dimensions(level: $0) },
                      levelDownsamples: (0..<slide.levelCount).map { slide.downsample(level: $0) },
                      mpp: slide.mpp.map { ($0.x + $0.y) / 2 }, objectivePower: slide.objectivePower)
    }

    public func plan(for slide: Slide) throws -> TilingPlan {
        try TilingPlan(geometry: SlideTiler.geometry(of: slide), target: spec.target, tileSize: tileSize,
                       overlap: overlap, assumeMPP: assumeMPP)
    }

    public func plan(for source: any SlideSource) throws -> TilingPlan { try plan(for: source.slide) }

    /// The decoder reduction (2, 4 or 8) that turns the level read into the target exactly, or nil.
    public func decoderScale(_ plan: TilingPlan) -> Int? {
        guard scaleInDecoder, !plan.isExact else { return nil }
        let factor = plan.footprint / Double(tileSize)
        return [2, 4, 8].first { abs(factor - Double($0)) < 1e-6 }
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

    /// The slide's smallest level when it holds at most 16 Mpixel (the QC picture's and the Otsu
    /// rule's thumbnail), with its downsample, read through the slide's own reader.
    public static func thumbnail(of source: any SlideSource, reader: any RegionReader) throws -> (image: RGBImage, downsample: Double)? {
        let g = SlideTiler.geometry(of: source.slide)
        let level = g.levelSizes.count - 1
        let (w, h) = g.levelSizes[level]
        guard w > 0 && h > 0 && w * h <= 16_000_000 else { return nil }
        return (try readInStrips(reader, level: level, size: (w, h), levelDownsample: g.levelDownsamples[level]), g.levelDownsamples[level])
    }

    /// The background rule for one slide: the spec's, with the slide's Otsu saturation threshold
    /// under the Otsu rule (the luminance rule when the slide has no thumbnail to compute it on).
    public static func slideRule(spec: TilingSpec, thumbnail: RGBImage?) -> BackgroundRule {
        guard spec.tissueRule == .otsu, let thumbnail else { return spec.rule }
        return BackgroundRule(threshold: spec.backgroundThreshold, maxBackground: spec.maxBackground,
                              saturationThreshold: TissueMask.otsuSaturationThreshold(thumbnail: thumbnail))
    }

    /// Tiles an open slide by `plan` (from `plan(for:)`: callers need it before the tiles, so it is
    /// not computed twice), one region reader per worker. Throws OpenSlide, `SlideReadError` and
    /// JPEG errors; on error nothing of the slide should be kept by the caller. `progress` is told
    /// the number of grid positions done.
    public func run(source: any SlideSource, plan: TilingPlan, sink: ([TileOutput]) throws -> Void,
                    progress: ((Int, Int) -> Void)? = nil) throws -> SlideTilingSummary {
        let start = Date()
        let handles = try (0..<workers).map { _ in try source.makeRegionReader() }
        var summary = SlideTilingSummary()
        summary.thumbnail = try SlideTiler.thumbnail(of: source, reader: handles[0])
        let rule = SlideTiler.slideRule(spec: spec, thumbnail: summary.thumbnail?.image)
        summary.saturationThreshold = rule.saturationThreshold
        let mask = try tissueMask(for: source, readers: handles, plan: plan, rule: rule, thumbnail: summary.thumbnail?.image)
        let encoders = try (0..<workers).map { _ in try spec.jpegQuality.map { try JPEGEncoder(quality: $0) } }
        let resampler = plan.isExact ? nil : AreaResampler(sourceSize: plan.footprint, outputSize: tileSize)
        let span0 = plan.levelZeroSpan

        summary.considered = only?.count ?? plan.count
        summary.reader = source.kind
        let scale = decoderScale(plan)
        // Positions the mask rules out are never read; the reader is told of all the others up
        // front, so that source tiles shared by neighbouring regions are decoded once.
        let reads = (0..<plan.count).map { i in
            guard only?.contains(i) ?? true else { return false }
            guard let mask else { return true }
            let o = plan.origin(i)
            return mask.mayContainTissue(x: o.x, y: o.y, width: span0, height: span0)
        }
        source.expect(reads.indices.filter { reads[$0] }.map { i in
            let o = plan.origin(i)
            return scale.map { RegionRequest(x: o.x, y: o.y, level: plan.level, width: tileSize, height: tileSize, scale: $0) }
                ?? RegionRequest(x: o.x, y: o.y, level: plan.level, width: plan.readSize, height: plan.readSize)
        })
        // Batches of grid positions in grid order; the positions of each that are read.
        let spans = stride(from: 0, to: plan.count, by: batchSize).map { $0..<min($0 + batchSize, plan.count) }
        let batches = spans.map { span in (only.map { only in span.filter(only.contains) } ?? Array(span)).filter { reads[$0] } }
        let pipeline = TilePipeline(batches: batches, claim: positionsPerClaim)
        // The fold check's per-slide reference, from the thumbnail read above: the same on a resumed run.
        if spec.qc.contains(.fold), let t = summary.thumbnail {
            let side = Int((Double(ArtefactQC.foldBlock) * plan.downsample / t.downsample).rounded())
            summary.foldReference = ArtefactQC.foldReference(thumbnail: t.image, side: side, backgroundThreshold: spec.backgroundThreshold)
        }
        let cut = self.cut(plan: plan, rule: rule, handles: handles, encoders: encoders, resampler: resampler, scale: scale,
                           foldReference: summary.foldReference)
        try pipeline.run(workers: workers, cut: cut) { b, outcomes in
            let span = spans[b]
            let listed = only.map { only in span.filter(only.contains).count } ?? span.count
            summary.skippedByMask += listed - outcomes.count
            summary.dropped[.mask, default: 0] += listed - outcomes.count
            var kept: [TileOutput] = []
            for (k, outcome) in outcomes.enumerated() {
                let o = plan.origin(batches[b][k])
                switch outcome {
                case let .kept(t, v):
                    kept.append(t)
                    summary.decisions.append(TileDecision(x: o.x, y: o.y, dropped: nil, measures: v))
                case let .dropped(reason, v):
                    summary.dropped[reason, default: 0] += 1
                    summary.decisions.append(TileDecision(x: o.x, y: o.y, dropped: reason, measures: v))
                }
            }
            summary.kept += kept.count
            if !kept.isEmpty { try sink(kept) }
            progress?(span.upperBound, plan.count)
        }
        summary.scaledInDecoder = pipeline.scaledInDecoder
        summary.seconds = Date().timeIntervalSince(start)
        summary.decodeCounts = source.decodeCounts
        return summary
    }

    /// Reads, tests and encodes one grid position on a worker (its own reader and encoder).
    private func cut(plan: TilingPlan, rule: BackgroundRule, handles: [any RegionReader], encoders: [JPEGEncoder?],
                     resampler: AreaResampler?, scale: Int?, foldReference: Double?) -> TilePipeline.Cut {
        let read = plan.readSize
        let qc = { var qc = spec.artefactQC; qc.foldReference = foldReference; return qc }()
        let tileSize = self.tileSize
        // Worker w alone uses handles[w] and encoders[w].
        final class PerWorker: @unchecked Sendable {
            let handles: [any RegionReader]
            let encoders: [JPEGEncoder?]
            init(_ handles: [any RegionReader], _ encoders: [JPEGEncoder?]) { (self.handles, self.encoders) = (handles, encoders) }
        }
        let own = PerWorker(handles, encoders)
        return { position, worker in
            let reader = own.handles[worker]
            let o = plan.origin(position)
            let tile: RGBImage
            var scaled = false
            if let scale, let reduced = try reader.readRegion(x: o.x, y: o.y, level: plan.level, width: tileSize, height: tileSize, scale: scale) {
                tile = reduced
                scaled = true
            } else {
                let region = try reader.readRegion(x: o.x, y: o.y, level: plan.level, width: read, height: read)
                tile = resampler?.resample(region) ?? region
            }
            // Split once: the background rule and the pen check both count on the planes.
            let planes = RGBPlanes(tile)
            let background = rule.backgroundFraction(planes)
            // A background drop is recorded without its QC measures (the QC is not run).
            guard rule.keeps(backgroundFraction: background) else { return (.dropped(.background, nil), scaled) }
            let verdict = qc.evaluate(tile, planes: planes)
            if let reason = verdict.dropped { return (.dropped(reason, verdict), scaled) }
            let bytes = try own.encoders[worker].map { try $0.encode(tile) } ?? tile.pixels
            let digest = bytes.withUnsafeBytes { stableHash(buffer: $0) }
            return (.kept(TileOutput(x: o.x, y: o.y, background: Float(background), bytes: bytes, digest: digest), verdict), scaled)
        }
    }
}
