import Foundation

/// A realistic slide's ground truth as GeoJSON: a FeatureCollection of its regions in painter's
/// order, each a Feature with property `kind` (`RegionKind`'s raw value; pens also `colour`) and a
/// Polygon — or, for `tissue`, a MultiPolygon of row runs of the tissue mask — in level-0 pixels.
/// Tissue that no tissue region covers is normal lung.
public struct SlideTruth: Sendable {
    public var slideID: String
    public var width: Int
    public var height: Int
    public var regions: [TruthRegion]

    public init(slideID: String, width: Int, height: Int, regions: [TruthRegion]) {
        self.slideID = slideID
        self.width = width
        self.height = height
        self.regions = regions
    }

    static let penColourNames = ["blue", "green", "black"]

    /// The GeoJSON text: the same regions give the same bytes (coordinates to 0.1 pixel).
    public static func geoJSON(slideID: String, width: Int, height: Int, layout: RegionLayout) -> String {
        var s = "{\"type\":\"FeatureCollection\",\"properties\":{\"slide_id\":\"\(slideID)\",\"width\":\(width),\"height\":\(height),"
            + "\"units\":\"level-0 pixels\"},\"features\":[\n"
        var pens = layout.penColours.makeIterator()
        for (i, region) in layout.regions.enumerated() {
            var properties = "\"kind\":\"\(region.kind.rawValue)\""
            if region.kind == .pen { properties += ",\"colour\":\"\(penColourNames[pens.next() ?? 0])\"" }
            func ring(_ points: [RegionPolygon.Point]) -> String {
                "[" + (points + [points[0]]).map { "[\(number($0.x)),\(number($0.y))]" }.joined(separator: ",") + "]"
            }
            let geometry: String
            if region.kind == .tissue {
                geometry = "{\"type\":\"MultiPolygon\",\"coordinates\":[" + region.polygon.rings.map { "[" + ring($0) + "]" }.joined(separator: ",") + "]}"
            } else {
                geometry = "{\"type\":\"Polygon\",\"coordinates\":[" + region.polygon.rings.map(ring).joined(separator: ",") + "]}"
            }
            s += "{\"type\":\"Feature\",\"properties\":{\(properties)},\"geometry\":\(geometry)}"
            s += i + 1 < layout.regions.count ? ",\n" : "\n"
        }
        return s + "]}\n"
    }

    private static func number(_ v: Double) -> String {
        let tenths = Int((v * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        return "\(sign)\(abs(tenths) / 10).\(abs(tenths) % 10)"
    }

    /// Reads a truth GeoJSON (as written by `geoJSON`, or any FeatureCollection of Polygons and
    /// MultiPolygons with a known `kind`). Errors name the file and the feature.
    public static func read(_ url: URL) throws -> SlideTruth {
        func fail(_ what: String) -> TruthError { TruthError(path: url.path, message: what) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw fail("cannot read it: \(error.localizedDescription)") }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              root["type"] as? String == "FeatureCollection", let features = root["features"] as? [[String: Any]] else {
            throw fail("not a GeoJSON FeatureCollection")
        }
        let properties = root["properties"] as? [String: Any] ?? [:]
        var regions: [TruthRegion] = []
        for (i, feature) in features.enumerated() {
            guard let name = (feature["properties"] as? [String: Any])?["kind"] as? String, let kind = RegionKind(rawValue: name) else {
                throw fail("feature \(i) has no known `kind` (known: \(RegionKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let geometry = feature["geometry"] as? [String: Any], let type = geometry["type"] as? String,
                  let coordinates = geometry["coordinates"] as? [Any] else { throw fail("feature \(i) has no geometry") }
            func rings(_ polygon: Any) throws -> [[RegionPolygon.Point]] {
                guard let rings = polygon as? [[[Double]]] else { throw fail("feature \(i): coordinates are not rings of [x, y]") }
                return try rings.map { ring in
                    var points = try ring.map { p -> RegionPolygon.Point in
                        guard p.count >= 2 else { throw fail("feature \(i): a point with \(p.count) numbers") }
                        return RegionPolygon.Point(p[0], p[1])
                    }
                    if points.count > 1 && points.first == points.last { points.removeLast() }
                    return points
                }
            }
            switch type {
            case "Polygon": regions.append(TruthRegion(kind: kind, polygon: RegionPolygon(rings: try rings(coordinates))))
            case "MultiPolygon":
                regions.append(TruthRegion(kind: kind, polygon: RegionPolygon(rings: try coordinates.flatMap { try rings($0) })))
            default: throw fail("feature \(i): geometry \(type) is neither Polygon nor MultiPolygon")
            }
        }
        return SlideTruth(slideID: properties["slide_id"] as? String ?? url.deletingPathExtension().lastPathComponent,
                          width: properties["width"] as? Int ?? 0, height: properties["height"] as? Int ?? 0, regions: regions)
    }

    /// What covers level-0 point (x, y): whether it is tissue, its tissue kind (normal lung where
    /// no tissue region holds it; nil on glass), and whether an artefact lies over it.
    /// Without a `tissue` region, every point counts as tissue.
    public func composition(x: Double, y: Double) -> (kind: RegionKind?, artefact: Bool) {
        var tissue = !regions.contains { $0.kind == .tissue }
        var kind = RegionKind.normal
        var artefact = false
        for region in regions where region.polygon.contains(x: x, y: y) {
            if region.kind == .tissue { tissue = true } else if region.kind.isArtefact { artefact = true } else { kind = region.kind }
        }
        return (tissue ? kind : nil, artefact)
    }

    /// The truth at the centre of every cell of a `columns` × `rows` grid over the slide (a
    /// picture of it): the tissue kind (nil on glass) and the artefact over it (nil when none), as
    /// `composition` decides them, by scan lines rather than a point test per cell.
    public func sampled(columns: Int, rows: Int) -> [(kind: RegionKind?, artefact: RegionKind?)] {
        precondition(width > 0 && height > 0 && columns > 0 && rows > 0, "truth of \(slideID) without a size, or an empty grid")
        let n = columns * rows
        var tissue = [Bool](repeating: !regions.contains { $0.kind == .tissue }, count: n)
        var kind = [RegionKind](repeating: .normal, count: n)
        var artefact = [RegionKind?](repeating: nil, count: n)
        let cw = Double(width) / Double(columns), ch = Double(height) / Double(rows)
        for region in regions {
            RegionRaster.forEachCell(of: region.polygon, cellWidth: cw, cellHeight: ch, columns: columns, rows: rows) { i in
                if region.kind == .tissue { tissue[i] = true } else if region.kind.isArtefact { artefact[i] = region.kind } else { kind[i] = region.kind }
            }
        }
        return (0..<n).map { (tissue[$0] ? kind[$0] : nil, artefact[$0]) }
    }
}

/// A truth file that cannot be used.
public struct TruthError: Error, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}
