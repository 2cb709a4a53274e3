/// A slide's truth regions rasterised for rendering: one byte per `cell`² level-0 pixels for the
/// tissue kind (painter's order: the last region drawn wins) and one for the artefact, sampled at
/// cell centres.
struct RegionRaster: Sendable {
    static let cell = 8
    let columns: Int
    let rows: Int
    /// `RegionKind.code` of the tissue kind; 0 is normal lung.
    private(set) var tissue: [UInt8]
    /// `RegionKind.code` of the artefact; 0 is none.
    private(set) var artefact: [UInt8]

    /// Artefact bytes of pen regions: `penBase` + colour (0 blue, 1 green, 2 black).
    static let penBase: UInt8 = 200

    init(width: Int, height: Int, layout: RegionLayout) {
        let regions = layout.regions
        var pens = layout.penColours.makeIterator()
        columns = (width + Self.cell - 1) / Self.cell
        rows = (height + Self.cell - 1) / Self.cell
        tissue = [UInt8](repeating: 0, count: columns * rows)
        artefact = tissue
        for region in regions where region.kind != .tissue {
            var code = region.kind.code
            if region.kind == .pen { code = Self.penBase + UInt8(pens.next() ?? 0) }
            let artefactKind = region.kind.isArtefact
            let (columns, rows) = (self.columns, self.rows)
            Self.forEachCell(of: region.polygon, cell: Double(Self.cell), columns: columns, rows: rows) { i in
                if artefactKind { artefact[i] = code } else { tissue[i] = code }
            }
        }
    }

    /// Calls `body` with the index (row × columns + column) of every cell of a `columns` × `rows`
    /// grid of `cell`-pixel cells whose centre lies inside `polygon`.
    static func forEachCell(of polygon: RegionPolygon, cell c: Double, columns: Int, rows: Int, _ body: (Int) -> Void) {
        forEachCell(of: polygon, cellWidth: c, cellHeight: c, columns: columns, rows: rows, body)
    }

    /// The same with cells `cw` × `ch` level-0 pixels (a picture whose scale differs a little in x and y).
    static func forEachCell(of polygon: RegionPolygon, cellWidth cw: Double, cellHeight ch: Double, columns: Int, rows: Int,
                            _ body: (Int) -> Void) {
        let b = polygon.bounds
        let r0 = max(0, Int((b.minY / ch - 0.5).rounded(.down))), r1 = min(rows - 1, Int((b.maxY / ch).rounded(.up)))
        guard r0 <= r1 else { return }
        for r in r0...r1 {
            for (xa, xb) in polygon.spans(y: (Double(r) + 0.5) * ch) {
                // Cells whose centre lies in [xa, xb).
                let c0 = max(0, Int((xa / cw - 0.5).rounded(.up))), c1 = min(columns - 1, Int((xb / cw - 0.5).rounded(.up)) - 1)
                guard c0 <= c1 else { continue }
                for col in c0...c1 { body(r * columns + col) }
            }
        }
    }

    /// The cell holding level-0 pixel (x, y) (clamped to the slide).
    @inline(__always)
    func index(x: Int, y: Int) -> Int {
        min(rows - 1, max(0, y / Self.cell)) * columns + min(columns - 1, max(0, x / Self.cell))
    }

    @inline(__always) func tissueKind(x: Int, y: Int) -> UInt8 { tissue[index(x: x, y: y)] }
    @inline(__always) func artefactKind(x: Int, y: Int) -> UInt8 { artefact[index(x: x, y: y)] }
}
