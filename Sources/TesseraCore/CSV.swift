/// RFC 4180 CSV: comma-separated, fields with commas, quotes or line breaks in double quotes,
/// quotes doubled inside. What analysts' tools (pandas, R, spreadsheets) read without options.
public enum CSV {
    /// One record's fields, each quoted only when it must be.
    public static func line(_ fields: [String]) -> String {
        fields.map(quote).joined(separator: ",")
    }

    public static func quote(_ field: String) -> String {
        if field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            || field.hasPrefix(" ") || field.hasSuffix(" ") {
            return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return field
    }

    /// First characters that make a spreadsheet (Excel, LibreOffice, Google Sheets) run a cell as
    /// a formula (OWASP "CSV injection").
    public static let formulaStarts: Set<Character> = ["=", "+", "-", "@", "\t", "\r"]

    /// Why an id or label cannot be copied verbatim into the CSVs analysts open in a spreadsheet,
    /// or nil: it starts like a formula, or holds a line break or another control character (one
    /// record would become two in tools that read line by line). Tessera refuses such values on
    /// input instead of altering them on output, so ids round-trip exactly.
    public static func unsafeValueReason(_ value: String) -> String? {
        if let first = value.first, formulaStarts.contains(first) {
            let shown = first == "\t" ? "a tab" : first == "\r" ? "a carriage return" : "'\(first)'"
            return "starts with \(shown), which spreadsheets run as a formula; ids and labels may not start with = + - @, a tab or a carriage return"
        }
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "contains a line break or another control character"
        }
        return nil
    }

    /// A whole document: header then rows, each line ended by "\n".
    public static func document(header: [String], rows: [[String]]) -> String {
        var s = line(header) + "\n"
        for r in rows { s += line(r) + "\n" }
        return s
    }

    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let line: Int
        public let message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Parses a document into records, each with the (1-based) line number it starts on.
    /// Accepts \n and \r\n line ends, a UTF-8 byte-order mark, and a missing final line end;
    /// skips blank lines.
    public static func parse(_ text: String) throws -> [(line: Int, fields: [String])] {
        var records: [(Int, [String])] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var fieldWasQuoted = false
        var line = 1
        var recordLine = 1
        var chars = Array(text.unicodeScalars)
        if chars.first == "\u{FEFF}" { chars.removeFirst() }
        var i = 0
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !fieldWasQuoted) { records.append((recordLine, fields)) }
            fields = []
            field = ""
            fieldWasQuoted = false
        }
        while i < chars.count {
            let c = chars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" { field.unicodeScalars.append("\""); i += 1 } else { inQuotes = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
            } else {
                switch c {
                case "\"":
                    guard field.isEmpty else { throw ParseError(line: line, message: "a quote inside an unquoted field; quote the whole field and double the inner quotes") }
                    inQuotes = true
                    fieldWasQuoted = true
                case ",":
                    fields.append(field); field = ""; fieldWasQuoted = false
                case "\r":
                    break
                case "\n":
                    endRecord()
                    line += 1
                    recordLine = line
                default:
                    if fieldWasQuoted { throw ParseError(line: line, message: "text after a closing quote") }
                    field.unicodeScalars.append(c)
                }
            }
            i += 1
        }
        if inQuotes { throw ParseError(line: recordLine, message: "a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { endRecord() }
        return records
    }
}
