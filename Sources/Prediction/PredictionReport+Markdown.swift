import Foundation

extension PredictionReport {
    /// report.md: the same content as report.json, for people.
    public func markdown() -> String {
        var s = "# Prediction report\n\n"
        s += "- Model: `\(model.path)` (\(model.architecture), input \(model.inputSize)², tiles \(model.tiling.tileSize) px at \(model.tiling.target))\n"
        s += "- Slides from: \(source)\n"
        s += "- Classes: \(classes.joined(separator: ", "))\n"
        s += "- Created: \(created) by Tessera \(tesseraVersion)\n\n"

        s += "## Counts\n\n| | count |\n|---|---:|\n"
        let c = counts
        for (name, value) in [("slides", c.slides), ("slides predicted", c.slidesPredicted), ("slides without tissue tiles", c.slidesWithoutTissue),
                              ("slides failed (see failures.csv)", c.slidesFailed), ("tiles predicted", c.tiles), ("patients", c.patients),
                              ("labelled slides in the slide metrics", c.labelledSlides),
                              ("labelled patients in the patient metrics", c.labelledPatients),
                              ("patients whose slides have different labels (no patient label)", c.patientsWithMixedLabels)]
            + (c.slidesPredictedByAbmil > 0 ? [("slides with an ABMIL prediction (MIL run attached)", c.slidesPredictedByAbmil)] : []) {
            s += "| \(name) | \(value) |\n"
        }
        if let normalized = summary.stainNormalizedTiles, let left = summary.stainUnnormalizedTiles {
            s += "| tiles stain-normalised | \(normalized) |\n| tiles left as they were (too little tissue for a stain fit) | \(left) |\n"
        }
        s += "\n"

        let anyMetric = tile != nil || AggregationRule.allCases.contains { slide[$0] != nil || patient[$0] != nil }
        if !anyMetric {
            s += "No labelled slide was predicted: no metrics.\n\n"
        } else {
            s += "Metrics are over labelled items with a prediction. Accuracy: correct / all. Balanced accuracy: mean recall over the "
                + "classes present. AUC: one class against the rest (Mann–Whitney U, ties counted ½), with a 95% interval from "
                + "\(bootstrap.resamples) bootstrap resamples of the items of that level (seed \(bootstrap.seed)). "
                + "Slides and patients are scored by mean tile probability, by vote share, by the share of tiles above the threshold "
                + "for the class or, with a MIL run attached, by the ABMIL probability (a patient's: the mean over its slides).\n\n"
            if let tile { s += section("Tiles (each tile against its slide's label)", tile) }
            for rule in AggregationRule.allCases {
                if let m = slide[rule] { s += section("Slides, \(Self.title(rule))", m) }
            }
            for rule in AggregationRule.allCases {
                if let m = patient[rule] { s += section("Patients, \(Self.title(rule))", m) }
            }
        }

        s += "## Heatmap colours\n\n| class | colour |\n|---|---|\n"
        for (k, name) in classes.enumerated() { s += "| \(name) | \(heatmapColours[k]) |\n" }
        s += "\nEach tile is painted in its most probable class's colour, at opacity 0.25 (undecided) to 0.75 (certain).\n"
        return s
    }

    static func title(_ rule: AggregationRule) -> String {
        switch rule {
        case .meanProbability: "by mean probability"
        case .majorityVote: "by majority vote"
        case .percentAboveThreshold: "by share of tiles above \(SlideAggregator.tileThreshold)"
        case .abmil: "by gated attention MIL (ABMIL, tessera-mil)"
        }
    }

    private func section(_ title: String, _ m: LevelMetrics) -> String {
        func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "–" }
        var s = "## \(title)\n\n"
        s += "\(m.count) items: accuracy **\(f(m.accuracy))**, balanced accuracy **\(f(m.balancedAccuracy))**"
        s += m.macroAUC.map { ", macro AUC \(f($0))" } ?? ""
        s += "\n\n| class | AUC | 95% CI | positives | negatives |\n|---|---:|---:|---:|---:|\n"
        for (k, name) in classes.enumerated() {
            if let a = m.auc[k] {
                let ci = a.ciLow.map { "\(f($0))–\(f(a.ciHigh))" } ?? "–"
                s += "| \(name) | \(f(a.auc)) | \(ci) | \(a.positives) | \(a.negatives) |\n"
            } else {
                s += "| \(name) | – | – | | |\n"
            }
        }
        s += "\nConfusion matrix (rows: true class, columns: predicted):\n\n"
        s += "| | " + classes.joined(separator: " | ") + " |\n|---|" + String(repeating: "---:|", count: classes.count) + "\n"
        for (k, name) in classes.enumerated() {
            s += "| **\(name)** | " + m.confusion[k].map(String.init).joined(separator: " | ") + " |\n"
        }
        return s + "\n"
    }
}
