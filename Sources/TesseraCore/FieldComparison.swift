/// One field of a record as it is compared: a stable name (the field's coding key), a label for
/// people, and its value as text.
public struct ComparedField: Equatable, Sendable {
    public var name: String
    public var label: String
    public var value: String

    public init(_ name: String, label: String? = nil, value: String) {
        self.name = name
        self.label = label ?? name
        self.value = value
    }
}

/// A field on which two records of one kind disagree: this record's value and the other's.
public struct FieldDifference: Equatable, Sendable, CustomStringConvertible {
    public var name: String
    public var label: String
    public var mine: String
    public var theirs: String

    /// "name: theirs → mine": how a record changed since `theirs` was recorded.
    public var description: String { "\(name): \(theirs) → \(mine)" }
}

/// A record compared field by field, in a fixed order: the one mechanism behind every "what
/// differs" message (task parameters, tiling specs, store attributes).
public protocol FieldComparable {
    /// The fields that matter, in order. By default the stored properties by reflection, a nested
    /// `FieldComparable` value contributing its own fields.
    var comparedFields: [ComparedField] { get }
}

extension FieldComparable {
    public var comparedFields: [ComparedField] {
        Mirror(reflecting: self).children.flatMap { child -> [ComparedField] in
            if let nested = child.value as? any FieldComparable { return nested.comparedFields }
            return [ComparedField(child.label ?? "?", value: "\(child.value)")]
        }
    }

    /// Every field whose value differs from `other`'s, in field order; empty when they agree.
    public func differences(from other: Self) -> [FieldDifference] {
        zip(comparedFields, other.comparedFields).compactMap { mine, theirs in
            mine.value == theirs.value ? nil
                : FieldDifference(name: mine.name, label: mine.label, mine: mine.value, theirs: theirs.value)
        }
    }
}
