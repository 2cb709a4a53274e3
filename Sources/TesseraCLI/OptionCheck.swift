import Foundation
import TesseraCore

/// Checks of command-line values shared by every program's `validate()`, so that a value that
/// would trap (inf into an integer), exhaust memory (an mpp of 1e300) or fail late (nan in a
/// record) is refused before any work starts, with the option named. Each check returns the
/// message for the usage error (exit 64), or nil when the value is fine; the executables wrap it
/// in their argument parser's `ValidationError`.
public enum OptionCheck {
    /// A range of real values; non-finite values are never inside one.
    public struct Range: Sendable, CustomStringConvertible {
        public let lower: Double
        public let upper: Double
        public let includesLower: Bool
        public let includesUpper: Bool

        /// [lower, upper]
        public static func closed(_ lower: Double, _ upper: Double) -> Range {
            Range(lower: lower, upper: upper, includesLower: true, includesUpper: true)
        }

        /// (lower, upper]
        public static func above(_ lower: Double, upTo upper: Double = .greatestFiniteMagnitude) -> Range {
            Range(lower: lower, upper: upper, includesLower: false, includesUpper: true)
        }

        public func contains(_ value: Double) -> Bool {
            value.isFinite && (includesLower ? value >= lower : value > lower) && (includesUpper ? value <= upper : value < upper)
        }

        public var description: String {
            if upper == .greatestFiniteMagnitude { return "\(includesLower ? "≥" : ">") \(Self.text(lower))" }
            return "\(includesLower ? "[" : "(")\(Self.text(lower)), \(Self.text(upper))\(includesUpper ? "]" : ")")"
        }

        static func text(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)" }
    }

    /// Resolution of tiles and scans in µm per pixel: 0.025 (400×) … 100 (0.1×).
    public static let micronsPerPixel = Range.closed(0.025, 100)
    /// Objective power: 0.1× … 400× (the same span as `micronsPerPixel`, at 10 µm per pixel at 1×).
    public static let magnification = Range.closed(0.1, 400)

    /// `option` must be finite and in `range`; nil values (option not given) pass.
    public static func number(_ option: String, _ value: Double?, in range: Range, example: String) -> String? {
        guard let value, !range.contains(value) else { return nil }
        let requirement = range.upper == .greatestFiniteMagnitude ? "a finite number \(range)" : "a number in \(range)"
        return "\(option) must be \(requirement), e.g. \(example); got \(value)"
    }

    public static func number(_ option: String, _ value: Float?, in range: Range, example: String) -> String? {
        number(option, value.map(Double.init), in: range, example: example)
    }

    public static func integer(_ option: String, _ value: Int?, in range: ClosedRange<Int>) -> String? {
        guard let value, !range.contains(value) else { return nil }
        return "\(option) must be \(range.lowerBound)…\(range.upperBound); got \(value)"
    }

    /// A comma-separated list of exactly `count` finite numbers, each in `range`; nil when any
    /// field is empty, not a number, out of range, or there are more or fewer fields.
    public static func numbers(_ text: String, count: Int, in range: Range) -> [Double]? {
        let fields = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: [" ", "\t"]) }
        guard fields.count == count else { return nil }
        var values: [Double] = []
        for f in fields {
            guard let v = Double(f), range.contains(v) else { return nil }
            values.append(v)
        }
        return values
    }

    /// Whether `path` is an existing folder, for the options that name one.
    public static func isFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// `option` names a folder: "--store S is not a folder; `fix`" when `path` is not one; nil
    /// values (option not given) pass.
    public static func folder(_ option: String, _ path: String?, fix: String? = nil) -> String? {
        guard let path, !isFolder(path) else { return nil }
        return "\(option) \(path) is not a folder" + (fix.map { "; \($0)" } ?? "")
    }

    /// `option` names a file to read: "--manifest M does not exist or is not readable; `fix`" when
    /// it cannot be read; nil values (option not given) pass.
    public static func readableFile(_ option: String, _ path: String?, fix: String? = nil) -> String? {
        guard let path, !FileManager.default.isReadableFile(atPath: path) else { return nil }
        return "\(option) \(path) does not exist or is not readable" + (fix.map { "; \($0)" } ?? "")
    }

    /// A comma-separated list of names (class names): each non-empty, distinct, and safe in a CSV
    /// that a spreadsheet opens. Returns the problem, or nil.
    public static func names(_ option: String, _ text: String) -> String? {
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: [" ", "\t"]) }
        if names.contains(where: \.isEmpty) { return "\(option) has an empty name in '\(text)'; give comma-separated names, e.g. LUAD,LUSC,normal" }
        var seen: Set<String> = []
        for n in names {
            if !seen.insert(n).inserted { return "\(option) names \(n) twice; give each class once" }
            if let reason = CSV.unsafeValueReason(n) { return "\(option): the name '\(n)' \(reason)" }
        }
        return nil
    }
}
