/// The resolution the tiles are cut at.
public enum TilingTarget: Sendable, Equatable, CustomStringConvertible {
    /// µm per tile pixel.
    case mpp(Double)
    /// Objective power (20 = "20×"); 10/mpp when the slide records mpp but not power.
    case magnification(Double)
    /// A pyramid level as it is, no resampling.
    case level(Int)

    /// The target the three optional fields record (options, store attributes, model files): a
    /// level first, then an mpp, else a magnification, 20× when none is given. The one conversion
    /// from fields; `fields` is its inverse.
    public init(mpp: Double?, magnification: Double?, level: Int?) {
        if let level {
            self = .level(level)
        } else if let mpp {
            self = .mpp(mpp)
        } else {
            self = .magnification(magnification ?? 20)
        }
    }

    /// The target as the three optional fields, exactly one of them set.
    public var fields: (mpp: Double?, magnification: Double?, level: Int?) {
        switch self {
        case let .mpp(v): return (v, nil, nil)
        case let .magnification(v): return (nil, v, nil)
        case let .level(v): return (nil, nil, v)
        }
    }

    /// "0.5 µm/px", "20.0×", "level 1".
    public var description: String {
        switch self {
        case let .mpp(v): return "\(v) µm/px"
        case let .magnification(v): return "\(v)×"
        case let .level(v): return "level \(v)"
        }
    }
}
