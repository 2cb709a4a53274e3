import Foundation
import JPEG
import Pictures
import TesseraCore

/// Draws a slide's tile scores over a small picture of the slide (white when the slide file cannot
/// be read) and writes it as `PRED/heatmaps/<slide>.jpg`, with a legend strip below that makes it
/// stand alone: the slide id, the predicted class with its mean probability, every class's name and
/// colour, and a scale bar in µm (when the slide's resolution is known).
struct HeatmapWriter {
    let output: URL
    /// Longer side of a heatmap in pixels (the map; the legend strip is added below).
    let maxSide: Int

    func write(_ d: SlidePlacement, tiles: TileScores, prediction: SlidePrediction, classes: [String]) throws {
        let image = Self.picture(d, tiles: tiles, prediction: prediction, classes: classes, maxSide: maxSide)
        try AtomicFile.write(Data(try JPEGEncoder(quality: 90).encode(image)), to: PredictionLayout.heatmapURL(output, slideID: prediction.slideID))
    }

    /// The map over the slide's picture, and its legend below.
    static func picture(_ d: SlidePlacement, tiles: TileScores, prediction: SlidePrediction, classes: [String], maxSide: Int) -> RGBImage {
        let background = background(d, slideID: prediction.slideID, maxSide: maxSide)
        let map = Heatmap.render(background: background, slideWidth: d.width, slideHeight: d.height, tiles: tiles, tileSpan: d.tileSpan)
        return RGBImage.stacked(map, legend(d, prediction: prediction, classes: classes, canvasWidth: background.width).render(width: background.width))
    }

    /// The slide's picture at the heatmap's size (`maxSide` on the longer side); white when the
    /// slide file is unknown or cannot be read. What every heatmap of the slide is painted on.
    static func background(_ d: SlidePlacement, slideID: String, maxSide: Int) -> RGBImage {
        let size = Heatmap.canvasSize(slideWidth: d.width, slideHeight: d.height, maxSide: maxSide)
        if let slidePath = d.slidePath {
            do { return try HeatmapBackground.slide(path: slidePath, width: size.width, height: size.height) } catch {
                Log.warning("\(slideID): heatmap drawn on white; the slide could not be read for its picture (\(error))")
            }
        }
        return HeatmapBackground.white(width: size.width, height: size.height)
    }

    /// Slide id; predicted class and its mean probability (or why there is none); the classes'
    /// colours; the scale bar from the slide's µm per pixel.
    static func legend(_ d: SlidePlacement, prediction p: SlidePrediction, classes: [String], canvasWidth: Int) -> LegendPanel {
        var verdict: String
        if let a = p.aggregate, let k = a.predictedByMean {
            verdict = "predicted \(classes[k]) p=\(String(format: "%.2f", a.meanProbabilities[k])) (mean of \(a.tiles) tiles)"
        } else {
            verdict = "no prediction: \(p.outcome.rawValue)"
        }
        if let label = p.label { verdict += ", label \(label)" }
        return LegendPanel(lines: ["slide \(p.slideID)", verdict],
                           swatches: classes.indices.map { LegendPanel.Swatch(name: classes[$0], colour: Heatmap.colour(ofClass: $0)) },
                           micronsPerPixel: d.resolution.map { $0.mpp * Double(d.width) / Double(canvasWidth) })
    }
}
