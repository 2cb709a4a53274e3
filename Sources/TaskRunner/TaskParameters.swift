import TesseraCore

/// Everything that decides what a resumable task writes, kept in its status file. A re-run with
/// parameters that differ is refused with the `differences(from:)` of the shared `FieldComparable`
/// mechanism (field by field, "name: was → now"), so tiling and prediction word it the same way.
public protocol TaskParameters: Codable, Equatable, Sendable, FieldComparable {}
