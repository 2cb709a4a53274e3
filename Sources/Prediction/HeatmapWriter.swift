import Foundation
import JPEG
import Pictures
import TesseraCore

/// Draws a slide's tile scores over a small picture of the slide (white when the slide file cannot
/// be read) and writes it as `PRED/heatmaps/<slide>.jpg`, with a legend strip below that makes it
/// stand alone: the slide id, the predicted class with its mean probability, every class's name and
/// colour, and a scale bar in µm (when the slide's resolution is known). With `classMaps`, also one
/// continuous map per class, `PRED/heatmaps/<slide>-p_<class>.jpg`: each tile in the colour of its
/// probability of that class, with a colour bar.
struct HeatmapWriter {
    let output: URL
    /// Longer side of a heatmap in pixels (the map; the legend strip is added below).
    let maxSide: Int
    /// Draw the class heatmap (`--heatmaps`).
    var classHeatmap = true
    /// Draw a continuous map per class (`--class-maps`).
    var classMaps = false

    func write(_ d: SlidePlacement, tiles: TileScores, prediction: SlidePrediction, classes: [String]) throws {
        let background = Self.background(d, slideID: prediction.slideID, maxSide: maxSide)
        let encoder = try JPEGEncoder(quality: 90)
        let url = PredictionLayout.heatmapURL(output, slideID: prediction.slideID)
        if classHeatmap {
            let image = Self.picture(d, tiles: tiles, prediction: prediction, classes: classes, background: background)
            try AtomicFile.write(Data(try encoder.encode(image)), to: url)
        }
        guard classMaps else { return }
        let stem = url.deletingPathExtension().lastPathComponent
        for k in classes.indices {
            let image = Self.classMap(d, tiles: tiles, prediction: prediction, classes: classes, classIndex: k, background: background)
            let name = "\(stem)-p_\(PredictionLayout.safeFileName(classes[k])).jpg"
            try AtomicFile.write(Data(try encoder.encode(image)), to: url.deletingLastPathComponent().appendingPathComponent(name))
        }
    }

    /// The slide's picture at heatmap size, or white when its file cannot be read.
    static func background(_ d: SlidePlacement, slideID: String, maxSide: Int) -> RGBImage {
        let size = Heatmap.canvasSize(slideWidth: d.width, slideHeight: d.height, maxSide: maxSide)
        guard let slidePath = d.slidePath else { return HeatmapBackground.white(width: size.width, height: size.height) }
        do { return try HeatmapBackground.slide(path: slidePath, width: size.width, height: size.height) } catch {
            Log.warning("\(slideID): heatmap drawn on white; the slide could not be read for its picture (\(error))")
            return HeatmapBackground.white(width: size.width, height: size.height)
        }
    }

    /// The map over the slide's picture, and its legend below.
    static func picture(_ d: SlidePlacement, tiles: TileScores, prediction: SlidePrediction, classes: [String], maxSide: Int) -> RGBImage {
        picture(d, tiles: tiles, prediction: prediction, classes: classes, background: background(d, slideID: prediction.slideID, maxSide: maxSide))
    }

    static func picture(_ d: SlidePlacement, tiles: TileScores, prediction: SlidePrediction, classes: [String], background: RGBImage) -> RGBImage {
        let map = Heatmap.render(background: background, slideWidth: d.width, slideHeight: d.height, tiles: tiles, tileSpan: d.tileSpan)
        return RGBImage.stacked(map, legend(d, prediction: prediction, classes: classes, canvasWidth: background.width).render(width: background.width))
    }

    /// Class `k`'s probability per tile on `Heatmap.ramp`, at half opacity, over the slide; below
    /// it the slide id, the class and its mean probability, the colour bar and the scale bar.
    static func classMap(_ d: SlidePlacement, tiles: TileScores, prediction p: SlidePrediction, classes: [String], classIndex k: Int,
                         background: RGBImage) -> RGBImage {
        let map = Heatmap.paint(background: background, slideWidth: d.width, slideHeight: d.height, x: tiles.x, y: tiles.y,
                                tileSpan: d.tileSpan) { t in (Heatmap.ramp(Double(tiles.probabilities[t * tiles.classes + k])), Heatmap.maxOpacity) }
        var line = "p(\(classes[k])) per tile"
        if let a = p.aggregate { line += String(format: ", mean %.2f, %d tiles", a.meanProbabilities[k], a.tiles) }
        let legend = LegendPanel(lines: ["slide \(p.slideID)", line],
                                 colourBar: .init(low: "p = 0", high: "p = 1", colour: Heatmap.ramp),
                                 micronsPerPixel: d.resolution.map { $0.mpp * Double(d.width) / Double(background.width) })
        return RGBImage.stacked(map, legend.render(width: background.width))
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
