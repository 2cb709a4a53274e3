import Foundation
import JPEG
import Pictures
import Prediction
import SyntheticSlides
import TesseraCore

/// The benchmark's "heatmap next to its ground-truth map": for one slide per true class of a
/// prediction run — the first by slide id that has a heatmap (`PRED/heatmaps/`) and a truth file
/// (`cohort/truth/`) — the predicted heatmap (left, as the predictor drew it, legend included)
/// beside the slide's `TruthMap` at the same width (right), written as `out/truth-maps/<slide>.jpg`.
public enum TruthMapComparison {
    public static let folder = "truth-maps"

    /// The slides drawn: per label (sorted), the first slide by id for which `available` holds.
    public static func choose(_ rows: [TruthTable.Row], available: (TruthTable.Row) -> Bool) -> [TruthTable.Row] {
        var chosen: [String: TruthTable.Row] = [:]
        for row in rows.sorted(by: { $0.slideID < $1.slideID }) where chosen[row.label] == nil && available(row) {
            chosen[row.label] = row
        }
        return chosen.keys.sorted().map { chosen[$0]! }
    }

    /// The two pictures side by side, 16 white pixels apart; the truth map as wide as the heatmap.
    public static func picture(heatmap: RGBImage, truth: SlideTruth, row: TruthTable.Row, classes: [String]) -> RGBImage {
        var caption = ["ground truth of \(row.slideID)", "label \(row.label), site \(row.site)"]
        if row.label != "normal" { caption[1] += String(format: ", tumour purity %.2f", row.purity) }
        let map = TruthMap.picture(truth, classes: classes, width: heatmap.width, caption: caption, slideMPP: row.micronsPerPixel)
        return RGBImage.sideBySide(heatmap, map, gap: 16)
    }

    /// Writes the pictures of `predictions`' slides; returns their paths relative to `out`. A slide
    /// whose heatmap or truth cannot be read is left out with a warning.
    public static func write(predictions: URL, cohort: URL, rows: [TruthTable.Row], classes: [String], out: URL) throws -> [String] {
        let fm = FileManager.default
        let truthFolder = cohort.appendingPathComponent(CohortDirectory.truthFolder)
        func heatmapURL(_ row: TruthTable.Row) -> URL { PredictionLayout.heatmapURL(predictions, slideID: row.slideID) }
        func truthURL(_ row: TruthTable.Row) -> URL { truthFolder.appendingPathComponent("\(row.slideID).geojson") }
        let chosen = choose(rows) { fm.fileExists(atPath: heatmapURL($0).path) && fm.fileExists(atPath: truthURL($0).path) }
        guard !chosen.isEmpty else { return [] }
        let target = out.appendingPathComponent(folder)
        try fm.createDirectory(at: target, withIntermediateDirectories: true)
        let decoder = try JPEGDecoder(), encoder = try JPEGEncoder(quality: 90)
        var written: [String] = []
        for row in chosen {
            do {
                let heatmap = try decoder.decode([UInt8](try Data(contentsOf: heatmapURL(row))))
                var truth = try SlideTruth.read(truthURL(row))
                guard truth.width > 0 && truth.height > 0 else {
                    throw BenchmarkError("\(truthURL(row).path): no width and height in its properties")
                }
                truth.slideID = row.slideID
                let name = "\(PredictionLayout.safeFileName(row.slideID)).jpg"
                let image = picture(heatmap: heatmap, truth: truth, row: row, classes: classes)
                try AtomicFile.write(Data(try encoder.encode(image)), to: target.appendingPathComponent(name))
                written.append("\(folder)/\(name)")
            } catch {
                Log.warning("\(row.slideID): no heatmap-beside-truth picture (\(error))")
            }
        }
        return written
    }
}
