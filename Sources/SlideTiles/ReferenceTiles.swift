import Foundation
import TesseraCore
import Tiling

/// Tiles cut from a reference slide for a stain reference (`--stain-reference slide:PATH[@X,Y,W,H]`):
/// the tiles a store tiled by `spec` would hold from the region (or from the whole slide's
/// tissue), read by the tiler's own readers and rules, sampled evenly to a bounded number.
public struct ReferenceTiles: Sendable {
    /// Encoded as the spec says (JPEG bytes, or raw RGB tileSize² × 3), in grid order.
    public var tiles: [TileOutput]
    /// Grid positions looked at, and how many of them the tissue rule kept (before sampling).
    public var considered: Int
    public var kept: Int
    /// The slide's file name and what of it: `slide NAME region X,Y,W,H` or `slide NAME tissue`.
    public var name: String

    /// Cuts the tiles. `limit` bounds the tiles returned (an even sample of those kept) and, 8×,
    /// the grid positions read from a whole slide (every k-th row and column).
    public static func cut(path: String, region: SlideRegion?, spec: TilingSpec, limit: Int, workers: Int = 1) throws -> ReferenceTiles {
        let fix = "name a readable slide file in --stain-reference slide:PATH[@X,Y,W,H] (job key STAIN_REFERENCE)"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ReferenceSlideError(path: path, message: "no such file", hint: fix)
        }
        let source: any SlideSource
        do { source = try SlideSources.open(path: path, log: false) } catch {
            throw ReferenceSlideError(path: path, message: "cannot be opened as a slide (\(error))", hint: fix)
        }
        let tiler = SlideTiler(spec: spec, workers: workers)
        let plan: TilingPlan
        do { plan = try tiler.plan(for: source) } catch {
            throw ReferenceSlideError(path: path, message: "cannot be cut as the store was tiled (\(error))",
                                      hint: "use a reference slide that records its resolution, like the training slides")
        }
        let (w, h) = source.geometry.levelSizes[0]
        if let region, !region.isInside(width: w, height: h) {
            throw ReferenceSlideError(path: path, message: "region \(region) lies outside the slide (level 0 is \(w)×\(h) px)",
                                      hint: "give X,Y,W,H inside 0,0,\(w),\(h) (level-0 pixels)")
        }
        let positions = plan.positions(in: region, maxPositions: 8 * limit)
        if let region, positions.isEmpty {
            throw ReferenceSlideError(path: path, message: "region \(region) holds no whole tile (a tile spans \(plan.levelZeroSpan)×\(plan.levelZeroSpan) level-0 px here)",
                                      hint: "enlarge the region to at least \(plan.levelZeroSpan)×\(plan.levelZeroSpan)")
        }
        var only = tiler
        only.only = Set(positions)
        var kept: [TileOutput] = []
        let summary: SlideTilingSummary
        do { summary = try only.run(source: source, plan: plan, sink: { kept += $0 }) } catch {
            throw ReferenceSlideError(path: path, message: "could not be read (\(error))", hint: fix)
        }
        let name = "slide \((path as NSString).lastPathComponent) " + (region.map { "region \($0)" } ?? "tissue")
        guard !kept.isEmpty else {
            throw ReferenceSlideError(path: path, message: "\(name): none of its \(summary.considered) tile positions passes the tissue rule",
                                      hint: region == nil ? "use a slide with tissue" : "choose a region over tissue, or leave out @X,Y,W,H to use the slide's tissue")
        }
        let sample = kept.count <= limit ? kept : (0..<limit).map { kept[$0 * kept.count / limit] }
        return ReferenceTiles(tiles: sample, considered: summary.considered, kept: kept.count, name: name)
    }
}

/// A reference slide that cannot give a stain reference: which file, what, and the fix.
public struct ReferenceSlideError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String
    public let hint: String

    public var description: String { "--stain-reference: \(path): \(message)\nhint: \(hint)" }
}
