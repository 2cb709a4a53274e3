import Foundation
import Model
import TesseraCore

/// Slide predictions of a trained MIL model over the slides of a feature store, with every tile's
/// attention weight (the files are `MILOutputs`', which the predictor's merge reads):
///
///     OUT/mil-slides.csv          slide_id, patient_id, label, split, tiles, abmil_p_<class>…, abmil_predicted
///     OUT/attention/<slide>.csv   x, y (level 0), attention (sums to 1 over the slide)
///
/// Every tile of a slide is used (no cap in prediction). Files are written atomically.
public enum MILPredictor {
    public static let slidesFile = MILOutputs.slidesFile
    public static let attentionFolder = MILOutputs.attentionFolder
    /// The aggregator's name in column names (`abmil_p_LUAD`).
    public static let aggregatorName = MILOutputs.aggregatorName

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

    public static func header(classes: [String]) -> [String] { MILOutputs.slidesHeader(classes: classes) }

    public static func write(_ results: [SlideResult], classes: [String], to output: URL) throws {
        try FileManager.default.createDirectory(at: output.appendingPathComponent(attentionFolder), withIntermediateDirectories: true)
        for r in results {
            let attention = MILOutputs.Attention(x: r.x.map(Int.init), y: r.y.map(Int.init), weights: r.attention)
            try AtomicFile.write(Data(MILOutputs.attentionDocument(attention).utf8), to: MILOutputs.attentionURL(output, slideID: r.slideID))
        }
        let rows = results.map { r in
            MILOutputs.SlideRow(slideID: r.slideID, patientID: r.patientID, label: r.label, split: r.split, tiles: r.x.count,
                                probabilities: r.probabilities.map(Double.init))
        }
        try AtomicFile.write(Data(MILOutputs.slidesDocument(rows, classes: classes).utf8), to: output.appendingPathComponent(slidesFile))
    }
}
