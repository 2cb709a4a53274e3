import Foundation
import TesseraCore

/// A slide's tiles as a GeoJSON FeatureCollection that QuPath (0.4 and later) imports as tile
/// objects on the slide — drag the file onto the open slide, or File → Import objects from file:
///
///     {"type": "FeatureCollection", "features": [
///       {"type": "Feature",
///        "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x+w, y], [x+w, y+h], [x, y+h], [x, y]]]},
///        "properties": {"objectType": "tile", "isLocked": true,
///                       "classification": {"name": "LUAD", "color": [213, 94, 0]},
///                       "measurements": {"p_LUAD": 0.91, "p_LUSC": 0.09}}}, …]}
///
/// Coordinates are level-0 pixels from the slide's top-left corner (QuPath's own frame), one
/// feature per tile in `tiles.csv` order; the class is the tile's most probable one, in the
/// heatmap's colour. Measurements are named per-tile values: every `p_<class>`, then any
/// `extraMeasurements` (another per-tile score, such as an attention weight, is one more entry).
/// After the tiles, the slide's tissue outline as one annotation (`TissueOutline`), when given.
public enum QuPathGeoJSON {
    /// One named value per tile, in tile order.
    public struct Measurement: Equatable, Sendable {
        public var name: String
        public var values: [Float]

        public init(name: String, values: [Float]) {
            self.name = name
            self.values = values
        }
    }

    /// `p_<class>` for every class, from the tile scores.
    public static func probabilityMeasurements(_ tiles: TileScores, classes: [String]) -> [Measurement] {
        classes.indices.map { k in Measurement(name: "p_\(classes[k])", values: (0..<tiles.count).map { tiles.probabilities[$0 * tiles.classes + k] }) }
    }

    /// The document for one slide whose tiles are `tileWidth` × `tileHeight` level-0 pixels.
    public static func document(tiles: TileScores, classes: [String], tileWidth: Int, tileHeight: Int,
                                extraMeasurements: [Measurement] = [], outline: TissueOutline? = nil) -> String {
        precondition(classes.count == tiles.classes, "\(classes.count) class names for \(tiles.classes) classes")
        let measurements = probabilityMeasurements(tiles, classes: classes) + extraMeasurements
        precondition(measurements.allSatisfy { $0.values.count == tiles.count }, "a measurement without one value per tile")
        let names = measurements.map { jsonString($0.name) }
        let classJSON = classes.indices.map { k in
            let c = Heatmap.colour(ofClass: k)
            return #"{"name":\#(jsonString(classes[k])),"color":[\#(c.0),\#(c.1),\#(c.2)]}"#
        }
        var s = #"{"type":"FeatureCollection","features":["#
        s.reserveCapacity(tiles.count * (220 + 30 * measurements.count))
        for t in 0..<tiles.count {
            let x0 = tiles.x[t], y0 = tiles.y[t], x1 = x0 + tileWidth, y1 = y0 + tileHeight
            if t > 0 { s += "," }
            s += #"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[\#(x0),\#(y0)],[\#(x1),\#(y0)],[\#(x1),\#(y1)],[\#(x0),\#(y1)],[\#(x0),\#(y0)]]]},"#
            s += #""properties":{"objectType":"tile","isLocked":true,"classification":"#
            s += classJSON[SlideAggregator.tileClass(Array(tiles.row(t)))]
            s += #","measurements":{"#
            for (i, m) in measurements.enumerated() {
                s += (i == 0 ? "" : ",") + names[i] + ":" + DecimalText.format(m.values[t])
            }
            s += "}}}"
        }
        if let feature = outline?.feature { s += (tiles.count > 0 ? "," : "") + feature }
        return s + "]}\n"
    }

    static func jsonString(_ text: String) -> String {
        var s = "\""
        for c in text.unicodeScalars {
            switch c {
            case "\"": s += "\\\""
            case "\\": s += "\\\\"
            case _ where c.value < 0x20: s += String(format: "\\u%04x", c.value)
            default: s.unicodeScalars.append(c)
            }
        }
        return s + "\""
    }
}
