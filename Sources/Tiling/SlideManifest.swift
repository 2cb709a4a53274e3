import Foundation
import TesseraCore

/// One slide of a cohort, as the manifest lists it.
public struct ManifestEntry: Equatable, Sendable {
    /// Absolute path (manifest paths are relative to the manifest's folder).
    public let slidePath: String
    public let slideID: String
    public let patientID: String
    /// nil for unlabelled cohorts.
    public let label: String?
    /// 1-based line in the manifest, for messages.
    public let line: Int

    public init(slidePath: String, slideID: String, patientID: String, label: String?, line: Int) {
        self.slidePath = slidePath
        self.slideID = slideID
        self.patientID = patientID
        self.label = label
        self.line = line
    }
}

/// Every problem found in a manifest, reported together so one edit fixes them all.
public struct ManifestError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let problems: [String]
    public var description: String {
        "\(path): \(problems.count) problem\(problems.count == 1 ? "" : "s") in the manifest:\n"
            + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}

/// A cohort manifest: CSV with columns `slide_path,slide_id,patient_id,label`.
///
/// `slide_path` is required; `slide_id` defaults to the file name without extension; `patient_id`
/// defaults to the first 12 characters of a TCGA barcode (`TCGA-XX-YYYY`), upper-cased, and is an
/// error for other ids; `label` may be empty (unlabelled cohorts).
///
/// Refused, every problem with its line: a column named twice; ids and labels that start like a
/// spreadsheet formula (= + - @, tab, CR) or hold line breaks (they are copied verbatim into CSVs
/// analysts open in spreadsheets); a slide file listed twice, by any path (its tiles would land
/// in two splits); a slide path that is not a regular file (a FIFO would hang the reader).
public struct SlideManifest: Sendable {
    public let url: URL
    public let entries: [ManifestEntry]
    /// Class names in label-index order: `--classes` if given, else the sorted distinct labels.
    public let classes: [String]

    public static let columns = ["slide_path", "slide_id", "patient_id", "label"]

    /// Loads and validates. `requireReadable` checks every slide file exists and is readable.
    public static func load(_ url: URL, classes: [String]? = nil, requireReadable: Bool = true) throws -> SlideManifest {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw TesseraError.io(path: url.path, message: "cannot read the manifest (\(error.localizedDescription))",
                                  hint: "check the --manifest path")
        }
        return try parse(text, url: url, classes: classes, requireReadable: requireReadable)
    }

    public static func parse(_ text: String, url: URL, classes: [String]? = nil, requireReadable: Bool = true) throws -> SlideManifest {
        var problems: [String] = []
        let records: [(line: Int, fields: [String])]
        do { records = try CSV.parse(text) } catch let e as CSV.ParseError {
            throw ManifestError(path: url.path, problems: ["line \(e.line): \(e.message)"])
        }
        guard let header = records.first else {
            throw ManifestError(path: url.path, problems: ["the file is empty; expected a header row \(columns.joined(separator: ","))"])
        }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let pathColumn = names.firstIndex(of: "slide_path") else {
            throw ManifestError(path: url.path, problems: [
                "line \(header.line): no slide_path column (header is \(header.fields.joined(separator: ","))); expected \(columns.joined(separator: ","))",
            ])
        }
        var firstColumnOfName: [String: Int] = [:]
        for (i, n) in names.enumerated() where !n.isEmpty {
            if let first = firstColumnOfName[n] {
                problems.append("line \(header.line): column \(n) appears twice (columns \(first + 1) and \(i + 1)); keep one")
            } else {
                firstColumnOfName[n] = i
            }
        }
        let idColumn = names.firstIndex(of: "slide_id")
        let patientColumn = names.firstIndex(of: "patient_id")
        let labelColumn = names.firstIndex(of: "label")
        for (i, n) in names.enumerated() where !columns.contains(n) && !n.isEmpty {
            problems.append("line \(header.line): unknown column '\(header.fields[i])' (known: \(columns.joined(separator: ", ")))")
        }
        let base = url.deletingLastPathComponent()
        let known = classes.map(Set.init)
        var entries: [ManifestEntry] = []
        var firstLineOfID: [String: Int] = [:]
        var firstLineOfFile: [SlideFileIdentity: (line: Int, path: String)] = [:]
        for record in records.dropFirst() {
            let f = record.fields
            let line = record.line
            func field(_ column: Int?) -> String? {
                guard let c = column, c < f.count else { return nil }
                let v = f[c].trimmingCharacters(in: .whitespaces)
                return v.isEmpty ? nil : v
            }
            if f.count != names.count {
                problems.append("line \(line): \(f.count) fields, the header has \(names.count)")
                continue
            }
            guard let rawPath = field(pathColumn) else {
                problems.append("line \(line): empty slide_path")
                continue
            }
            let path = rawPath.hasPrefix("/") ? rawPath : base.appendingPathComponent(rawPath).standardizedFileURL.path
            let slideID = field(idColumn) ?? URL(fileURLWithPath: rawPath).deletingPathExtension().lastPathComponent
            var patientID = field(patientColumn)
            if patientID == nil {
                if let tcga = tcgaPatient(slideID) { patientID = tcga } else {
                    problems.append("line \(line): no patient_id for slide \(slideID), and it is not a TCGA barcode to take one from; add a patient_id column value")
                }
            }
            if let first = firstLineOfID[slideID] {
                problems.append("line \(line): duplicate slide_id \(slideID) (first on line \(first))")
            } else {
                firstLineOfID[slideID] = line
            }
            if let reason = unsafeIDReason(slideID) {
                problems.append("line \(line): slide_id '\(slideID)' \(reason)")
            } else if let reason = CSV.unsafeValueReason(slideID) {
                problems.append("line \(line), column slide_id: '\(slideID)' \(reason)")
            }
            let label = field(labelColumn)
            for (column, value) in [("patient_id", field(patientColumn)), ("label", label)] {
                if let value, let reason = CSV.unsafeValueReason(value) {
                    problems.append("line \(line), column \(column): '\(Self.shown(value))' \(reason)")
                }
            }
            if let label, let known, !known.contains(label) {
                problems.append("line \(line): label '\(label)' is not one of the classes \(classes!.joined(separator: ", "))")
            }
            let file = SlideFileIdentity(path)
            if let kind = file.nonRegularKind {
                problems.append("line \(line): slide file \(path) is \(kind), not a regular file; list the slide file itself")
            } else if requireReadable && !FileManager.default.isReadableFile(atPath: path) {
                let exists = FileManager.default.fileExists(atPath: path)
                problems.append("line \(line): slide file \(path) \(exists ? "is not readable" : "does not exist")")
            }
            if let first = firstLineOfFile[file] {
                // A repeated slide_id is reported above already.
                if firstLineOfID[slideID] == line {
                    problems.append("line \(line): slide file \(path) is the same file as line \(first.line)'s (\(first.path)); a slide listed twice puts identical tiles in two splits: list it once")
                }
            } else {
                firstLineOfFile[file] = (line, path)
            }
            if let patientID {
                entries.append(ManifestEntry(slidePath: path, slideID: slideID, patientID: patientID, label: label, line: line))
            }
        }
        if entries.isEmpty && problems.isEmpty { problems.append("no slides listed") }
        if !problems.isEmpty { throw ManifestError(path: url.path, problems: problems) }
        let resolvedClasses = classes ?? Array(Set(entries.compactMap(\.label))).sorted()
        return SlideManifest(url: url, entries: entries, classes: resolvedClasses)
    }

    /// `TCGA-05-4244-01A-01-TS1` → `TCGA-05-4244`.
    public static func tcgaPatient(_ id: String) -> String? {
        let parts = id.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0].uppercased() == "TCGA", parts[1].count == 2, parts[2].count == 4 else { return nil }
        // Upper-cased: `tcga-sy-0001-01a…` and `TCGA-SY-0001-11A…` are one patient, in one split.
        return String(id.prefix(12)).uppercased()
    }

    /// A value as a message shows it: line breaks visible.
    static func shown(_ value: String) -> String {
        value.replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\t", with: "\\t")
    }

    /// Slide ids become file names (`test/<slide_id>.h5`); refuse those that cannot be one safely.
    public static func unsafeIDReason(_ id: String) -> String? {
        if id.contains("/") || id.contains("\\") { return "contains a path separator" }
        if id == "." || id == ".." || id.hasPrefix(".") { return "starts with a dot" }
        if id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) { return "contains control characters" }
        if id.utf8.count > 200 { return "is longer than 200 bytes" }
        return nil
    }
}
