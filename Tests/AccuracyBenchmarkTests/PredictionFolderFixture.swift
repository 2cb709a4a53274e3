import AccuracyBenchmark
import Foundation
import Prediction

/// A hand-made tessera-predict output folder (report.json and tiles.csv) from tiles and labels.
enum PredictionFolderFixture {
    static func make(tiles: [(slide: String, x: Int, p: [Float])], labels: [String: String], classes: [String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("split-benchmark-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var scores: [String: TileScores] = [:]
        var csv = "slide_id,x,y,width,height," + classes.map { "p_\($0)" }.joined(separator: ",") + "\n"
        for t in tiles {
            scores[t.slide, default: TileScores(classes: classes.count)].append(x: t.x, y: 0, probabilities: t.p)
            csv += "\(t.slide),\(t.x),0,512,512," + t.p.map { "\($0)" }.joined(separator: ",") + "\n"
        }
        let slides = Set(tiles.map(\.slide)).sorted().map {
            SlidePrediction.predicted(slideID: $0, patientID: "P" + $0, label: labels[$0], aggregate: scores[$0]!.aggregate)
        }
        let model = try JSONDecoder().decode(PredictionReport.Model.self, from: Data(
            #"{"path":"m.tsm","architecture":"refnet-s","inputSize":128,"tiling":{"tileSize":512,"targetMagnification":20,"backgroundThreshold":220,"maxBackground":0.5,"jpegQuality":90}}"#.utf8))
        let bootstrap = try JSONDecoder().decode(PredictionReport.Bootstrap.self, from: Data(#"{"resamples":0,"seed":1,"confidence":0.95}"#.utf8))
        let report = PredictionReport.build(model: model, source: "store", classes: classes, slides: slides,
                                            patients: PatientAggregator.aggregate(slides, classes: classes.count), tiles: scores,
                                            bootstrap: bootstrap, created: "2026-01-01T00:00:00Z")
        try report.json().write(to: dir.appendingPathComponent("report.json"))
        try csv.write(to: dir.appendingPathComponent("tiles.csv"), atomically: true, encoding: .utf8)
        return dir
    }
}
