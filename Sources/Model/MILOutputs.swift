import Foundation
import TesseraCore

/// What `tessera-mil predict` writes into a MIL run folder and the predictor's merge reads back —
/// the contract between the MIL stage and prediction, here so the two stages stay siblings:
///
///     MIL_RUN/mil-slides.csv          slide_id, patient_id, label, split, tiles, abmil_p_<class>…, abmil_predicted
///     MIL_RUN/attention/<slide>.csv   x, y (level 0), attention (sums to 1 over the slide)
public enum MILOutputs {
    public static let slidesFile = "mil-slides.csv"
    public static let attentionFolder = "attention"
    /// The aggregator's name in column and key names (`abmil_p_LUAD`, `predicted_by_abmil`).
    public static let aggregatorName = "abmil"
    public static let attentionHeader = ["x", "y", "attention"]

    /// One row of mil-slides.csv.
    public struct SlideRow: Equatable, Sendable {
        public var slideID: String
        public var patientID: String
        public var label: String?
        public var split: String
        public var tiles: Int
        /// Per class, in the model's class order.
        public var probabilities: [Double]

        public init(slideID: String, patientID: String, label: String?, split: String, tiles: Int, probabilities: [Double]) {
            (self.slideID, self.patientID, self.label, self.split, self.tiles, self.probabilities) = (slideID, patientID, label, split, tiles, probabilities)
        }

        /// The most probable class (the first on ties).
        public var predicted: Int {
            var best = 0
            for k in probabilities.indices where probabilities[k] > probabilities[best] { best = k }
            return best
        }
    }

    /// One slide's tiles with their attention weights, in the order of its feature file.
    public struct Attention: Equatable, Sendable {
        public var x: [Int]
        public var y: [Int]
        public var weights: [Float]

        public init(x: [Int], y: [Int], weights: [Float]) {
            precondition(x.count == y.count && y.count == weights.count, "one x, y and weight per tile")
            (self.x, self.y, self.weights) = (x, y, weights)
        }
    }

    public static func slidesHeader(classes: [String]) -> [String] {
        ["slide_id", "patient_id", "label", "split", "tiles"] + classes.map { "\(aggregatorName)_p_\($0)" } + ["\(aggregatorName)_predicted"]
    }

    public static func slidesDocument(_ rows: [SlideRow], classes: [String]) -> String {
        CSV.document(header: slidesHeader(classes: classes), rows: rows.map { r in
            [r.slideID, r.patientID, r.label ?? "", r.split, String(r.tiles)] + r.probabilities.map { String(format: "%.6f", $0) }
                + [classes[r.predicted]]
        })
    }

    /// Reads mil-slides.csv by its column names; `classes` must each have an `abmil_p_<class>` column.
    public static func readSlides(_ url: URL, classes: [String]) throws -> [SlideRow] {
        let records = try parse(url, hint: "run tessera-mil predict again")
        let header = records.first?.fields ?? []
        func column(_ name: String) throws -> Int {
            guard let i = header.firstIndex(of: name) else {
                throw TesseraError.invalidInput(path: url.path, message: "no \(name) column (classes here: \(classes.joined(separator: ",")))",
                                                hint: "train the MIL model on the tile model's classes: tessera-mil train --classes (job key CLASSES)")
            }
            return i
        }
        let (id, patient, label, split, tiles) = try (column("slide_id"), column("patient_id"), column("label"), column("split"), column("tiles"))
        let p = try classes.map { try column("\(aggregatorName)_p_\($0)") }
        return try records.dropFirst().map { r in
            let f = r.fields
            guard f.count == header.count, let n = Int(f[tiles]) else {
                throw TesseraError.invalidInput(path: url.path, message: "line \(r.line) is not a row of \(header.count) fields", hint: "run tessera-mil predict again")
            }
            let probabilities = p.compactMap { DecimalText.parseDouble(f[$0]) }
            guard probabilities.count == classes.count, probabilities.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1 }) else {
                throw TesseraError.invalidInput(path: url.path, message: "line \(r.line): a probability is not a number in [0, 1]", hint: "run tessera-mil predict again")
            }
            return SlideRow(slideID: f[id], patientID: f[patient], label: f[label].isEmpty ? nil : f[label], split: f[split], tiles: n,
                            probabilities: probabilities)
        }
    }

    public static func attentionURL(_ run: URL, slideID: String) -> URL {
        run.appendingPathComponent(attentionFolder).appendingPathComponent(safeName(slideID) + ".csv")
    }

    public static func attentionDocument(_ a: Attention) -> String {
        CSV.document(header: attentionHeader, rows: a.weights.indices.map { [String(a.x[$0]), String(a.y[$0]), String(format: "%.8g", a.weights[$0])] })
    }

    /// Reads one slide's attention file; nil when it does not exist.
    public static func readAttention(_ run: URL, slideID: String) throws -> Attention? {
        let url = attentionURL(run, slideID: slideID)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let records = try parse(url, hint: "run tessera-mil predict again")
        guard records.first?.fields == attentionHeader else {
            throw TesseraError.invalidInput(path: url.path, message: "header is not \(attentionHeader.joined(separator: ","))", hint: "run tessera-mil predict again")
        }
        var x: [Int] = [], y: [Int] = [], w: [Float] = []
        for r in records.dropFirst() {
            guard r.fields.count == 3, let a = Int(r.fields[0]), let b = Int(r.fields[1]), let v = DecimalText.parseFloat(r.fields[2]), v.isFinite, v >= 0 else {
                throw TesseraError.invalidInput(path: url.path, message: "line \(r.line) is not x,y,attention (a weight ≥ 0)", hint: "run tessera-mil predict again")
            }
            x.append(a)
            y.append(b)
            w.append(v)
        }
        return Attention(x: x, y: y, weights: w)
    }

    /// A slide id as a file name: characters other than ASCII letters, digits, `-`, `_`, `.` become `_`.
    public static func safeName(_ id: String) -> String {
        String(id.unicodeScalars.map { c in
            (c.properties.isAlphabetic && c.isASCII) || ("0"..."9").contains(c) || "-_.".unicodeScalars.contains(c) ? Character(c) : "_"
        })
    }

    private static func parse(_ url: URL, hint: String) throws -> [(line: Int, fields: [String])] {
        do { return try CSV.parse(String(contentsOf: url, encoding: .utf8)) } catch {
            throw TesseraError.invalidInput(path: url.path, message: "unreadable (\(error))", hint: hint)
        }
    }
}
