/// How one tissue source site stains and mounts its slides: the centre of its slides' colours.
public struct SiteStain: Codable, Equatable, Sendable {
    public var brightness: Double
    public var glassTint: (r: Double, g: Double, b: Double)
    public var hematoxylinHue: (r: Double, g: Double, b: Double)
    public var hematoxylinStrength: Double
    public var eosinHue: (r: Double, g: Double, b: Double)
    public var eosinStrength: Double

    public init(brightness: Double, glassTint: (r: Double, g: Double, b: Double), hematoxylinHue: (r: Double, g: Double, b: Double),
                hematoxylinStrength: Double, eosinHue: (r: Double, g: Double, b: Double), eosinStrength: Double) {
        self.brightness = brightness
        self.glassTint = glassTint
        self.hematoxylinHue = hematoxylinHue
        self.hematoxylinStrength = hematoxylinStrength
        self.eosinHue = eosinHue
        self.eosinStrength = eosinStrength
    }

    public static func == (a: SiteStain, b: SiteStain) -> Bool {
        a.brightness == b.brightness && a.glassTint == b.glassTint && a.hematoxylinHue == b.hematoxylinHue
            && a.hematoxylinStrength == b.hematoxylinStrength && a.eosinHue == b.eosinHue && a.eosinStrength == b.eosinStrength
    }

    enum CodingKeys: String, CodingKey { case brightness, glass, hematoxylin, eosin }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        brightness = try c.decode(Double.self, forKey: .brightness)
        let g = try c.decode([Double].self, forKey: .glass), h = try c.decode([Double].self, forKey: .hematoxylin)
        let e = try c.decode([Double].self, forKey: .eosin)
        guard g.count == 3, h.count == 4, e.count == 4 else {
            throw DecodingError.dataCorruptedError(forKey: .glass, in: c, debugDescription: "site stain vectors have the wrong length")
        }
        glassTint = (g[0], g[1], g[2])
        hematoxylinHue = (h[0], h[1], h[2]); hematoxylinStrength = h[3]
        eosinHue = (e[0], e[1], e[2]); eosinStrength = e[3]
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(brightness, forKey: .brightness)
        try c.encode([glassTint.r, glassTint.g, glassTint.b], forKey: .glass)
        try c.encode([hematoxylinHue.r, hematoxylinHue.g, hematoxylinHue.b, hematoxylinStrength], forKey: .hematoxylin)
        try c.encode([eosinHue.r, eosinHue.g, eosinHue.b, eosinStrength], forKey: .eosin)
    }
}
