import Foundation

/// A job definition: one file per experiment holding the parameters of every stage, as
/// shell-sourceable `KEY=value` lines.
///
/// Why this format: the Slurm scripts `source` it directly (no parser, no jq, nothing to install on
/// a cluster's login node), and the executables read the same file with this small parser, so both
/// sides cannot disagree. Supported: `KEY=value`, `KEY="value"` or `KEY='value'`, blank lines,
/// `#` comments and `export KEY=value`. Not supported (refused with the line number): `$VAR`
/// expansion, command substitution, anything else a shell would run. Keys no Tessera program or
/// script reads are refused, with the nearest known key (see `JobFile.knownKeys`): a typo would
/// otherwise run silently with the default.
public struct JobFile: Sendable, Equatable {
    public let path: String
    public let values: [String: String]
    /// The (1-based) line each key was last set on, for messages.
    public let lines: [String: Int]

    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let path: String
        public let line: Int
        public let message: String
        public var description: String { "\(path):\(line): \(message)\nhint: a job file holds KEY=value lines (see Jobs/demo.env)" }
    }

    public init(path: String, values: [String: String], lines: [String: Int] = [:]) {
        self.path = path
        self.values = values
        self.lines = lines
    }

    public static func load(_ path: String) throws -> JobFile {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ParseError(path: path, line: 0, message: "cannot read the job file")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws -> JobFile {
        var values: [String: String] = [:]
        var lines: [String: Int] = [:]
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let eq = line.firstIndex(of: "="), eq != line.startIndex else {
                throw ParseError(path: path, line: n + 1, message: "expected KEY=value, found '\(line)'")
            }
            let key = String(line[..<eq])
            guard key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), key.first!.isLetter || key.first == "_" else {
                throw ParseError(path: path, line: n + 1, message: "'\(key)' is not a variable name")
            }
            var value = String(line[line.index(after: eq)...])
            if let q = value.first, q == "\"" || q == "'" {
                guard let close = value.dropFirst().firstIndex(of: q) else {
                    throw ParseError(path: path, line: n + 1, message: "unclosed \(q) quote")
                }
                let rest = value[value.index(after: close)...].trimmingCharacters(in: .whitespaces)
                guard rest.isEmpty || rest.hasPrefix("#") else {
                    throw ParseError(path: path, line: n + 1, message: "text after the closing quote")
                }
                value = String(value[value.index(after: value.startIndex)..<close])
            } else {
                if let hash = value.range(of: " #") { value = String(value[..<hash.lowerBound]) }
                value = value.trimmingCharacters(in: .whitespaces)
                if value.contains(" ") {
                    throw ParseError(path: path, line: n + 1, message: "unquoted value with spaces; quote it")
                }
            }
            if q(value) { throw ParseError(path: path, line: n + 1, message: "$ or ` in a value: job files do no expansion; write the value out") }
            values[key] = value
            lines[key] = n + 1
        }
        return JobFile(path: path, values: values, lines: lines)
    }

    private static func q(_ v: String) -> Bool { v.contains("$") || v.contains("`") }

    /// How a job-file key becomes a command-line option of one program.
    public enum Mapping: Sendable {
        /// KEY=value → `--option value`.
        case option(String, String)
        /// KEY=1|true|yes → `--flag`; 0|false|no → nothing.
        case flag(String, String)
        /// KEY=folder → `--option folder/name` (e.g. RUN=run → `--model run/model.tsm`).
        case file(String, String, in: String)
    }

    /// The arguments this job file gives a program, to be placed BEFORE the user's own arguments
    /// (for single-valued options the last occurrence wins, so the command line overrides the file).
    public func arguments(_ mappings: [Mapping]) throws -> [String] {
        var out: [String] = []
        for m in mappings {
            switch m {
            case let .option(key, option):
                if let v = values[key], !v.isEmpty { out += [option, v] }
            case let .file(key, option, name):
                if let v = values[key], !v.isEmpty { out += [option, (v.hasSuffix("/") ? v : v + "/") + name] }
            case let .flag(key, flag):
                guard let v = values[key]?.lowercased(), !v.isEmpty else { continue }
                switch v {
                case "1", "true", "yes": out.append(flag)
                case "0", "false", "no": break
                default: throw ParseError(path: path, line: 0, message: "\(key)=\(v): use 1 or 0")
                }
            }
        }
        return out
    }

    /// `CommandLine.arguments` minus the program name, with `--job FILE` replaced by the job file's
    /// arguments (placed first, so the rest of the command line overrides them).
    public static func expand(_ arguments: [String], mappings: [Mapping]) throws -> [String] {
        guard let i = arguments.firstIndex(where: { $0 == "--job" || $0.hasPrefix("--job=") }) else { return arguments }
        var rest = arguments
        let path: String
        if rest[i].hasPrefix("--job=") {
            path = String(rest[i].dropFirst(6))
            rest.remove(at: i)
        } else {
            guard i + 1 < rest.count else { throw ParseError(path: "--job", line: 0, message: "--job needs a file") }
            path = rest[i + 1]
            rest.removeSubrange(i...(i + 1))
        }
        for m in mappings {
            precondition(knownKeys.contains(m.key), "job-file key \(m.key) is missing from JobFile.knownKeys")
        }
        let job = try load(path)
        try job.checkKeys()
        return try job.arguments(mappings) + rest
    }
}
