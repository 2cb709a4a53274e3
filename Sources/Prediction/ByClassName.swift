/// Per-class values, in class order, that JSON holds as an object keyed by class name
/// (`{"LUAD": {...}, "normal": null}`) when the encoder's `userInfo[LevelMetrics.classNamesKey]`
/// names the classes, else as a list in class order (as reports of earlier versions have it; both
/// are read).
@propertyWrapper
public struct ByClassName<Value: Codable & Equatable & Sendable>: Codable, Equatable, Sendable {
    public var wrappedValue: [Value?]

    public init(wrappedValue: [Value?]) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let names = decoder.userInfo[LevelMetrics.classNamesKey] as? [String], let byName = try? c.decode([String: Value?].self) {
            wrappedValue = names.map { byName[$0] ?? nil }
        } else {
            wrappedValue = try c.decode([Value?].self)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if let names = encoder.userInfo[LevelMetrics.classNamesKey] as? [String], names.count == wrappedValue.count {
            try c.encode(Dictionary(uniqueKeysWithValues: zip(names, wrappedValue)))
        } else {
            try c.encode(wrappedValue)
        }
    }
}
