import Foundation

/// Each tile's true composition, for a table of tiles (`slide_id,x,y,…` with level-0 corners, as
/// tessera-predict's tiles.csv) and a realistic cohort's truth:
///
///     slide_id,x,y,size,tissue_fraction,tumour_fraction,artefact_fraction,true_label
///
/// A tile's level-0 side is its `size` column when the table has one, else `tileSize` pixels at
/// `micronsPerPixel` on the slide's recorded resolution (`assumeMPP` when it records none), as the
/// tiler reads it.
public struct TileTruthTable {
    public static let header = "slide_id,x,y,size,tissue_fraction,tumour_fraction,artefact_fraction,true_label\n"

    public let cohort: URL
    public let tileSize: Int
    public let micronsPerPixel: Double
    public let assumeMPP: Double

    public init(cohort: URL, tileSize: Int, micronsPerPixel: Double, assumeMPP: Double) {
        self.cohort = cohort
        self.tileSize = tileSize
        self.micronsPerPixel = micronsPerPixel
        self.assumeMPP = assumeMPP
    }

    /// The table for the tiles in `tilesCSV` (the text of a CSV with a header). Errors name the file.
    public func compute(tilesCSV text: String, tilesPath: String) throws -> String {
        let truthRows = try TruthTable.read(cohort.appendingPathComponent(CohortDirectory.truthTableName))
        let slides = Dictionary(truthRows.map { ($0.slideID, $0) }, uniquingKeysWith: { a, _ in a })
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard let head = lines.first else { throw TruthError(path: tilesPath, message: "empty; expected a header with slide_id,x,y") }
        lines.removeFirst()
        let names = head.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let si = names.firstIndex(of: "slide_id"), let xi = names.firstIndex(of: "x"), let yi = names.firstIndex(of: "y") else {
            throw TruthError(path: tilesPath, message: "the header has no slide_id, x and y columns (got \(head))")
        }
        // tessera-predict's tiles.csv gives the level-0 tile extent as width (= height).
        let sizeIndex = names.firstIndex(of: "size") ?? names.firstIndex(of: "width")
        var truths: [String: SlideTruth] = [:]
        var out = Self.header
        for (n, line) in lines.enumerated() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count == names.count, let x = Int(f[xi]), let y = Int(f[yi]) else {
                throw TruthError(path: tilesPath, message: "line \(n + 2): expected \(names.count) fields with integer x and y")
            }
            let id = f[si]
            guard let slide = slides[id] else {
                throw TruthError(path: tilesPath, message: "line \(n + 2): slide \(id) is not in \(cohort.path)/\(CohortDirectory.truthTableName)")
            }
            let size: Int
            if let sizeIndex {
                guard let s = Int(f[sizeIndex]), s > 0 else { throw TruthError(path: tilesPath, message: "line \(n + 2): size '\(f[sizeIndex])' is not a positive integer") }
                size = s
            } else {
                size = Int((Double(tileSize) * micronsPerPixel / (slide.recordedMicronsPerPixel ?? assumeMPP)).rounded())
            }
            if truths[id] == nil {
                truths[id] = try SlideTruth.read(cohort.appendingPathComponent(CohortDirectory.truthFolder).appendingPathComponent("\(id).geojson"))
            }
            let t = TileTruth(truth: truths[id]!, x: x, y: y, size: size, tumourLabel: slide.label)
            func r(_ v: Double) -> String { String(format: "%.4f", v) }
            out += "\(id),\(x),\(y),\(size),\(r(t.tissueFraction)),\(r(t.tumourFraction)),\(r(t.artefactFraction)),\(t.label)\n"
        }
        return out
    }
}
