/// Numbers as the prediction CSV files write them: plain decimal notation with a `.` point, never
/// an exponent, and as many digits as it takes to read back the exact same value (Swift's
/// shortest round-trip digits). A probability the network gave as the Float 0.33333334 is written
/// `0.33333334` and reads back bit for bit, so merging, re-aggregating and comparing runs never
/// loses anything to rounding.
public enum DecimalText {
    public static func format(_ value: Double) -> String {
        precondition(value.isFinite, "cannot write \(value) to a CSV file")
        return plain(value.description)
    }

    public static func format(_ value: Float) -> String {
        precondition(value.isFinite, "cannot write \(value) to a CSV file")
        return plain(value.description)
    }

    /// `1.25e-05` → `0.0000125`, `1e+16` → `10000000000000000`; plain text unchanged; `-0.0` → `0.0`.
    static func plain(_ text: String) -> String {
        var s = text
        if s == "-0.0" { s = "0.0" }
        guard let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) else { return s }
        let exponent = Int(s[s.index(after: e)...])!
        var mantissa = String(s[..<e])
        let negative = mantissa.hasPrefix("-")
        if negative { mantissa.removeFirst() }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let integer = String(parts[0])
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        let digits = integer + fraction
        // The decimal point sits after `point` digits of `digits`.
        let point = integer.count + exponent
        var out: String
        if point <= 0 {
            out = "0." + String(repeating: "0", count: -point) + digits
        } else if point >= digits.count {
            out = digits + String(repeating: "0", count: point - digits.count) + ".0"
        } else {
            out = String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
        }
        if out.hasSuffix(".0") == false, out.contains(".") {
            while out.hasSuffix("0") { out.removeLast() }
            if out.hasSuffix(".") { out += "0" }
        }
        return (negative ? "-" : "") + out
    }

    public static func parseDouble(_ text: String) -> Double? {
        Double(text).flatMap { $0.isFinite ? $0 : nil }
    }

    public static func parseFloat(_ text: String) -> Float? {
        Float(text).flatMap { $0.isFinite ? $0 : nil }
    }
}
