import Foundation
import TesseraCore

/// Slide predictions of a trained MIL model over the slides of a feature store, with every tile's
/// attention weight:
///
///     OUT/mil-slides.csv          slide_id, patient_id, label, split, tiles, abmil_p_<class>…, abmil_predicted
///     OUT/attention/<slide>.csv   x, y (level 0), attention (sums to 1 over the slide)
///
/// Every tile of a slide is used (no cap in prediction). Files are written atomically.
public enum MILPredictor {
    public static let slidesFile = "mil-slides.csv"
    public static let attentionFolder = "attention"
    /// The aggregator's name in column names (`abmil_p_LUAD`).
    public static let aggregatorName = "abmil"

    public struct SlideResult: Sendable {
        public var slideID: String
        public var patientID: String
        public var label: String?
        public var split: String
        public var probabilities: [Float]
        public var attention: [Float]
        public var x: [Int64]
        public var y: [Int64]
    }

    public static func predict(model: MILModel, features: URL, splits: [String]) throws -> [SlideResult] {
        let net = try model.makeNetwork()
        let c = model.configuration
        var results: [SlideResult] = []
        for split in splits {
            let bags = try BagSet.load(store: features, split: split, classes: c.classes, width: c.features, requireLabels: false)
            for slide in bags.slides {
                if !model.embeddingModelDigest.isEmpty && !slide.provenance.modelDigest.isEmpty
                    && slide.provenance.modelDigest != model.embeddingModelDigest {
                    Log.warning("\(split)/\(slide.slideID): embedded by model \(slide.provenance.modelDigest), the MIL model was trained on \(model.embeddingModelDigest)'s embeddings")
                }
                let z = net.forward(slide.features, batch: slide.tileCount, training: false)
                results.append(SlideResult(slideID: slide.slideID, patientID: slide.patientID, label: slide.label, split: split,
                                           probabilities: softmax(z), attention: net.bagAttention ?? [], x: slide.x, y: slide.y))
            }
        }
        return results
    }

    static func softmax(_ z: [Float]) -> [Float] {
        let top = z.max() ?? 0
        let e = z.map { exp(Double($0 - top)) }
        let s = e.reduce(0, +)
        return e.map { Float($0 / s) }
    }

    public static func header(classes: [String]) -> [String] {
        ["slide_id", "patient_id", "label", "split", "tiles"] + classes.map { "\(aggregatorName)_p_\($0)" } + ["\(aggregatorName)_predicted"]
    }

    public static func write(_ results: [SlideResult], classes: [String], to output: URL) throws {
        let fm = FileManager.default
        let folder = output.appendingPathComponent(attentionFolder)
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        var rows: [[String]] = []
        for r in results {
            let predicted = r.probabilities.indices.max { r.probabilities[$0] < r.probabilities[$1] }!
            rows.append([r.slideID, r.patientID, r.label ?? "", r.split, String(r.x.count)] + r.probabilities.map { String(format: "%.6f", $0) }
                + [classes[predicted]])
            let tileRows = r.attention.indices.map { [String(r.x[$0]), String(r.y[$0]), String(format: "%.8g", r.attention[$0])] }
            try AtomicFile.write(Data(CSV.document(header: ["x", "y", "attention"], rows: tileRows).utf8),
                                 to: folder.appendingPathComponent(safeName(r.slideID) + ".csv"))
        }
        try AtomicFile.write(Data(CSV.document(header: header(classes: classes), rows: rows).utf8), to: output.appendingPathComponent(slidesFile))
    }

    /// A slide id as a file name: characters other than letters, digits, `-`, `_`, `.` become `_`.
    static func safeName(_ id: String) -> String {
        String(id.unicodeScalars.map { c in
            (c.properties.isAlphabetic && c.isASCII) || ("0"..."9").contains(c) || "-_.".unicodeScalars.contains(c) ? Character(c) : "_"
        })
    }
}
