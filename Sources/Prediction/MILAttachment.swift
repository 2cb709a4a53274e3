import Foundation
import Model
import TesseraCore

/// A MIL run's predictions attached to a prediction run by the merge (`tessera-predict merge
/// --mil MIL_RUN`): each predicted slide's ABMIL probabilities into slides.csv, patients.csv and
/// the report beside the tile aggregators, and, per slide with an attention file, the attention
/// heatmap (when the run draws heatmaps) and an `abmil_attention` measurement per tile in its
/// GeoJSON (when it writes GeoJSON). The merge rebuilds every file from the task parts, so
/// attaching again (a new MIL run) replaces what the last one attached.
struct MILAttachment {
    let run: URL
    let rows: [String: MILOutputs.SlideRow]

    /// The MIL run's predictions; nil (and a log line) when it has none yet.
    static func load(run: URL, classes: [String]) throws -> MILAttachment? {
        let url = run.appendingPathComponent(MILOutputs.slidesFile)
        guard FileManager.default.fileExists(atPath: url.path) else {
            Log.info("no \(url.path) yet: slides are merged without ABMIL columns (run tessera-mil predict, then merge again)")
            return nil
        }
        let rows = try MILOutputs.readSlides(url, classes: classes)
        return MILAttachment(run: run, rows: Dictionary(rows.map { ($0.slideID, $0) }, uniquingKeysWith: { a, _ in a }))
    }

    /// Sets the ABMIL probabilities of every predicted slide the MIL run predicted; returns how
    /// many. Slides the MIL run has that this run did not predict are logged and left out.
    func attach(to slides: inout [SlidePrediction]) -> Int {
        var attached = 0, seen = Set<String>()
        for i in slides.indices {
            seen.insert(slides[i].slideID)
            guard let row = rows[slides[i].slideID], slides[i].aggregate != nil else { continue }
            if row.label != slides[i].label {
                Log.warning("\(slides[i].slideID): label \(row.label ?? "none") in \(MILOutputs.slidesFile), \(slides[i].label ?? "none") here")
            }
            slides[i].aggregate!.abmilProbabilities = row.probabilities
            attached += 1
        }
        let unknown = rows.keys.filter { !seen.contains($0) }.sorted()
        if !unknown.isEmpty {
            Log.warning("\(unknown.count) slides of \(run.appendingPathComponent(MILOutputs.slidesFile).path) are not in this prediction run "
                + "(e.g. \(unknown.prefix(3).joined(separator: ", "))): left out")
        }
        Log.info("attached ABMIL predictions of \(attached) slides from \(run.appendingPathComponent(MILOutputs.slidesFile).path)")
        return attached
    }

    /// Attention heatmaps and GeoJSON measurements of the slides with an ABMIL prediction and an
    /// attention file. A slide whose attention file cannot be read is reported and skipped.
    func writeAttentionOutputs(slides: [SlidePrediction], tiles: [String: TileScores], placements: [String: SlidePlacement],
                               classes: [String], parameters: PredictionParameters, output: URL) throws {
        let geojsonAsked = parameters.geojson ?? false
        guard parameters.heatmaps || geojsonAsked else { return }
        var heatmaps = 0, geojson = 0
        for s in slides {
            guard let p = s.aggregate?.abmilProbabilities else { continue }
            let attention: MILOutputs.Attention
            do {
                guard let a = try MILOutputs.readAttention(run, slideID: s.slideID) else { continue }
                attention = a
            } catch {
                Log.warning("\(s.slideID): no attention pictures (\(error))")
                continue
            }
            if parameters.heatmaps, let d = placements[s.slideID] {
                let background = HeatmapWriter.background(d, slideID: s.slideID, maxSide: parameters.heatmapSize)
                let verdict = AttentionHeatmap.verdict(probabilities: p, label: s.label, classes: classes)
                try AttentionHeatmap.write(AttentionHeatmap.picture(d, background: background, attention: attention, slideID: s.slideID, verdict: verdict),
                                           to: PredictionLayout.attentionHeatmapURL(output, slideID: s.slideID))
                heatmaps += 1
            }
            if geojsonAsked, let t = tiles[s.slideID] {
                guard let values = Self.aligned(attention, to: t) else {
                    Log.warning("\(s.slideID): the attention file's tiles are not the predicted tiles; GeoJSON without attention")
                    continue
                }
                try SlideOutputs.writeGeoJSON(t, classes: classes, slideID: s.slideID, output: output, store: parameters.storeURL,
                                              extra: [QuPathGeoJSON.Measurement(name: "\(MILOutputs.aggregatorName)_attention", values: values)])
                geojson += 1
            }
        }
        Log.info("attention: \(heatmaps) heatmaps, \(geojson) GeoJSON files with \(MILOutputs.aggregatorName)_attention")
    }

    /// The attention weight of each of `tiles` (matched by level-0 x, y), in tile order; nil unless
    /// every tile has exactly one.
    static func aligned(_ a: MILOutputs.Attention, to tiles: TileScores) -> [Float]? {
        guard a.weights.count == tiles.count else { return nil }
        var byPosition: [Int64: Float] = [:]
        for k in a.weights.indices { byPosition[Int64(a.x[k]) << 32 | Int64(a.y[k])] = a.weights[k] }
        let values = (0..<tiles.count).compactMap { byPosition[Int64(tiles.x[$0]) << 32 | Int64(tiles.y[$0])] }
        return values.count == tiles.count ? values : nil
    }
}
