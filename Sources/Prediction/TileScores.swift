import TesseraCore

/// The network's class probabilities for the tiles of one slide, column by column.
public struct TileScores: Equatable, Sendable, Codable {
    public var classes: Int
    /// Level-0 top-left corner of each tile.
    public var x: [Int]
    public var y: [Int]
    /// tiles × classes, row-major: tile t's probability of class c is `probabilities[t * classes + c]`.
    public var probabilities: [Float]
    /// Level-0 extent of every tile of the slide (tile size × level-0 pixels per tile pixel,
    /// rounded); nil when unknown (a slide without tiles, or a result of an earlier version).
    public var tileWidth: Int?
    public var tileHeight: Int?

    public init(classes: Int, x: [Int] = [], y: [Int] = [], probabilities: [Float] = []) {
        precondition(x.count == y.count && probabilities.count == x.count * classes, "tile columns of different lengths")
        self.classes = classes
        self.x = x
        self.y = y
        self.probabilities = probabilities
    }

    public var count: Int { x.count }

    public func row(_ t: Int) -> ArraySlice<Float> { probabilities[(t * classes)..<((t + 1) * classes)] }

    public mutating func append(x: Int, y: Int, probabilities p: some Collection<Float>) {
        precondition(p.count == classes, "\(p.count) probabilities for \(classes) classes")
        self.x.append(x)
        self.y.append(y)
        probabilities.append(contentsOf: p)
    }

    public var aggregate: SlideAggregate { SlideAggregator.aggregate(probabilities: probabilities, classes: classes) }

    // MARK: tiles.csv

    /// `slide_id, x, y, width, height, p_<class>…`: x, y the level-0 top-left corner, width and
    /// height the level-0 extent.
    public static func header(classes: [String]) -> [String] { ["slide_id", "x", "y", "width", "height"] + classes.map { "p_\($0)" } }

    /// The CSV lines (each ended by "\n") of this slide's tiles, in tile order.
    public func csvLines(slideID: String) -> String {
        var s = ""
        let id = CSV.quote(slideID)
        let extent = "," + (tileWidth.map(String.init) ?? "") + "," + (tileHeight.map(String.init) ?? "")
        for t in 0..<count {
            s += id + ",\(x[t]),\(y[t])" + extent
            for p in row(t) { s += "," + DecimalText.format(p) }
            s += "\n"
        }
        return s
    }
}
