import Foundation
import JPEG
import TesseraCore

/// Draws a slide's tile scores over a small picture of the slide (white when the slide file cannot
/// be read) and writes it as `PRED/heatmaps/<slide>.jpg`.
struct HeatmapWriter {
    /// What a heatmap needs besides the tile scores.
    struct Drawing {
        var width: Int
        var height: Int
        /// A tile's side in level-0 pixels.
        var tileSpan: Double
        /// The slide file, when known.
        var slidePath: String?
    }

    let output: URL
    /// Longer side of a heatmap in pixels.
    let maxSide: Int

    func write(_ d: Drawing, tiles: TileScores, slideID: String, slidePath: String?) throws {
        let size = Heatmap.canvasSize(slideWidth: d.width, slideHeight: d.height, maxSide: maxSide)
        var background = HeatmapBackground.white(width: size.width, height: size.height)
        if let slidePath {
            do { background = try HeatmapBackground.slide(path: slidePath, width: size.width, height: size.height) } catch {
                Log.warning("\(slideID): heatmap drawn on white; the slide could not be read for its picture (\(error))")
            }
        }
        let image = Heatmap.render(background: background, slideWidth: d.width, slideHeight: d.height, tiles: tiles, tileSpan: d.tileSpan)
        try AtomicFile.write(Data(try JPEGEncoder(quality: 90).encode(image)), to: PredictionLayout.heatmapURL(output, slideID: slideID))
    }
}
