import Foundation
import TesseraCore

/// A slide's tissue as one QuPath annotation (classification `Tissue`): the tile squares that hold
/// tissue, merged per row into runs of touching squares, as a MultiPolygon of rectangles in level-0
/// pixels — one rectangle per run, like the truth files' tissue outline. Rectangles of neighbouring
/// rows share edges (and overlap when tiles overlap); QuPath reads them as one annotation.
///
/// The tissue is the tiler's when the store has its QC table (`STORE/qc/<slide_id>.csv`: every
/// position that passed the background rule, tiles the QC dropped as pen or blur included), else
/// the slide's predicted tiles.
public struct TissueOutline: Equatable, Sendable {
    /// A run of touching tile squares in one row, [x0, x1) × [y0, y1).
    public struct Run: Equatable, Sendable {
        public var x0, y0, x1, y1: Int

        public init(x0: Int, y0: Int, x1: Int, y1: Int) {
            (self.x0, self.y0, self.x1, self.y1) = (x0, y0, x1, y1)
        }
    }

    /// Sorted by row, then x.
    public var runs: [Run]
    /// What the outline was made from (the annotation's name).
    public var source: String

    /// The union, row by row, of the `extent`-pixel squares at level-0 corners (`x[i]`, `y[i]`).
    public init(x: [Int], y: [Int], extent: Int, source: String) {
        precondition(x.count == y.count && extent > 0, "tile corners without a partner, or an empty extent")
        var rows: [Int: [Int]] = [:]
        for i in x.indices { rows[y[i], default: []].append(x[i]) }
        runs = []
        for row in rows.keys.sorted() {
            var start: Int?, end = 0
            for left in rows[row]!.sorted() {
                if start != nil && left <= end {
                    end = max(end, left + extent)
                } else {
                    if let s = start { runs.append(Run(x0: s, y0: row, x1: end, y1: row + extent)) }
                    (start, end) = (left, left + extent)
                }
            }
            if let s = start { runs.append(Run(x0: s, y0: row, x1: end, y1: row + extent)) }
        }
        self.source = source
    }

    /// From a tiler's QC table (`x,y,decision,…`): the positions whose decision is not
    /// `background`. Nil when the table is missing or unreadable (the caller falls back to the tiles).
    public static func fromQCTable(_ url: URL, extent: Int) -> TissueOutline? {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        var x: [Int] = [], y: [Int] = []
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", maxSplits: 3, omittingEmptySubsequences: false)
            guard f.count >= 3, let a = Int(f[0]), let b = Int(f[1]) else { return nil }
            if f[2] != "background" { x.append(a); y.append(b) }
        }
        return TissueOutline(x: x, y: y, extent: extent, source: "tissue by the tiler (tiles that passed the background rule)")
    }

    /// Grey, as QuPath's own tissue annotations.
    static let colour: (UInt8, UInt8, UInt8) = (128, 128, 128)

    /// The GeoJSON feature; nil without tissue (QuPath refuses an empty geometry).
    public var feature: String? {
        guard !runs.isEmpty else { return nil }
        let polygons = runs.map { r in "[[[\(r.x0),\(r.y0)],[\(r.x1),\(r.y0)],[\(r.x1),\(r.y1)],[\(r.x0),\(r.y1)],[\(r.x0),\(r.y0)]]]" }
        var s = #"{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":["# + polygons.joined(separator: ",") + "]},"
        s += #""properties":{"objectType":"annotation","name":\#(QuPathGeoJSON.jsonString(source)),"isLocked":true,"#
        s += #""classification":{"name":"Tissue","color":[\#(Self.colour.0),\#(Self.colour.1),\#(Self.colour.2)]}}}"#
        return s
    }
}
