import Foundation
import TesseraCore

/// A polygon in level-0 pixel coordinates: an outer ring and optional holes (a pen circle is a ring
/// with a hole). Points inside follow the even–odd rule over all rings, as GeoJSON's do for
/// non-overlapping holes.
public struct RegionPolygon: Equatable, Sendable {
    /// Each ring's vertices, not repeated at the end.
    public let rings: [[Point]]
    /// Each ring's y range, and the whole polygon's bounding box: most rings of a tissue outline
    /// (one per row run) are skipped by their y range alone.
    private let ringRows: [(Double, Double)]
    /// Bounding box (minX, minY, maxX, maxY).
    public let bounds: (minX: Double, minY: Double, maxX: Double, maxY: Double)

    public static func == (a: RegionPolygon, b: RegionPolygon) -> Bool { a.rings == b.rings }

    public struct Point: Equatable, Sendable {
        public var x: Double
        public var y: Double
        public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
    }

    public init(rings: [[Point]]) {
        self.rings = rings
        var b = (Double.infinity, Double.infinity, -Double.infinity, -Double.infinity)
        var rows: [(Double, Double)] = []
        for ring in rings {
            var r = (Double.infinity, -Double.infinity)
            for p in ring {
                b = (min(b.0, p.x), min(b.1, p.y), max(b.2, p.x), max(b.3, p.y))
                r = (min(r.0, p.y), max(r.1, p.y))
            }
            rows.append(r)
        }
        bounds = b
        ringRows = rows
    }

    /// An axis-aligned rectangle.
    public static func rectangle(x: Double, y: Double, width: Double, height: Double) -> RegionPolygon {
        RegionPolygon(rings: [[Point(x, y), Point(x + width, y), Point(x + width, y + height), Point(x, y + height)]])
    }

    /// Whether (x, y) is inside (even–odd over every ring).
    public func contains(x: Double, y: Double) -> Bool {
        let b = bounds
        guard x >= b.minX && x <= b.maxX && y >= b.minY && y <= b.maxY else { return false }
        var inside = false
        for (k, ring) in rings.enumerated() where y >= ringRows[k].0 && y <= ringRows[k].1 {
            var j = ring.count - 1
            for i in 0..<ring.count {
                let a = ring[i], c = ring[j]
                if (a.y > y) != (c.y > y) && x < (c.x - a.x) * (y - a.y) / (c.y - a.y) + a.x { inside.toggle() }
                j = i
            }
        }
        return inside
    }

    /// The x intervals of row `y` inside the polygon (even–odd), sorted.
    func spans(y: Double) -> [(Double, Double)] {
        var xs: [Double] = []
        for (k, ring) in rings.enumerated() where y >= ringRows[k].0 && y <= ringRows[k].1 {
            var j = ring.count - 1
            for i in 0..<ring.count {
                let a = ring[i], c = ring[j]
                if (a.y > y) != (c.y > y) { xs.append((c.x - a.x) * (y - a.y) / (c.y - a.y) + a.x) }
                j = i
            }
        }
        xs.sort()
        return stride(from: 0, to: xs.count - 1, by: 2).map { (xs[$0], xs[$0 + 1]) }
    }

    /// A ragged blob: `vertices` points around (cx, cy) at radius `radius` × (1 ± `roughness`),
    /// the radius varying smoothly with the angle; `elongation` ≥ 1 stretches it along `angle`.
    static func blob(cx: Double, cy: Double, radius: Double, elongation: Double = 1, angle: Double = 0,
                     roughness: Double = 0.3, vertices: Int = 40, seed: UInt64) -> RegionPolygon {
        let c = cos(angle), s = sin(angle)
        let ring = (0..<vertices).map { i -> Point in
            let t = Double(i) / Double(vertices) * 2 * Double.pi
            // Noise sampled on a circle: periodic in the angle.
            let n = ValueNoise.fractal(seed, 1.6 * cos(t) + 5, 1.6 * sin(t) + 5, octaves: 3) - 0.5
            let r = radius * (1 + 2 * roughness * n)
            let ax = r * elongation * cos(t), ay = r * sin(t)
            return Point(cx + ax * c - ay * s, cy + ax * s + ay * c)
        }
        return RegionPolygon(rings: [ring])
    }

    /// A circle outline of width `width` (a ring with a hole), as a pen draws around a region.
    static func annulus(cx: Double, cy: Double, radius: Double, width: Double, wobble: Double, seed: UInt64,
                        vertices: Int = 64) -> RegionPolygon {
        var outer: [Point] = [], inner: [Point] = []
        for i in 0..<vertices {
            let t = Double(i) / Double(vertices) * 2 * Double.pi
            let n = ValueNoise.fractal(seed, 1.2 * cos(t) + 9, 1.2 * sin(t) + 9, octaves: 2) - 0.5
            let r = radius * (1 + 2 * wobble * n)
            outer.append(Point(cx + (r + width / 2) * cos(t), cy + (r + width / 2) * sin(t)))
            inner.append(Point(cx + (r - width / 2) * cos(t), cy + (r - width / 2) * sin(t)))
        }
        return RegionPolygon(rings: [outer, inner.reversed()])
    }

    /// A straight stroke from (x0, y0) to (x1, y1), `width` wide.
    static func stroke(x0: Double, y0: Double, x1: Double, y1: Double, width: Double) -> RegionPolygon {
        let dx = x1 - x0, dy = y1 - y0
        let len = max(1e-9, (dx * dx + dy * dy).squareRoot())
        let nx = -dy / len * width / 2, ny = dx / len * width / 2
        return RegionPolygon(rings: [[Point(x0 + nx, y0 + ny), Point(x1 + nx, y1 + ny), Point(x1 - nx, y1 - ny), Point(x0 - nx, y0 - ny)]])
    }
}

/// One region of a slide's ground truth.
public struct TruthRegion: Equatable, Sendable {
    public var kind: RegionKind
    public var polygon: RegionPolygon
    public init(kind: RegionKind, polygon: RegionPolygon) { self.kind = kind; self.polygon = polygon }
}
