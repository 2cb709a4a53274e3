import Foundation
import OpenSlide
import SlideTiles
import TesseraCore

/// The picture a heatmap is painted on: the slide itself when its file can be read, else white.
public enum HeatmapBackground {
    /// The slide at `width` × `height`, from the coarsest pyramid level at least that large (the
    /// whole level read and shrunk by area averaging) — or from its `thumbnail` associated image
    /// when that level would be over 64 Mpixel.
    public static func slide(path: String, width: Int, height: Int) throws -> RGBImage {
        let source = try SlideSources.open(path: path, log: false)
        let slide = source.slide
        var level = 0
        for l in 0..<slide.levelCount {
            let d = slide.dimensions(level: l)
            if d.width >= width && d.height >= height { level = l }
        }
        let d = slide.dimensions(level: level)
        if d.width * d.height > 64_000_000, slide.associatedImageNames.contains("thumbnail") {
            return Heatmap.resize(try slide.associatedImage("thumbnail"), width: width, height: height)
        }
        let image = try source.makeRegionReader().readRegion(x: 0, y: 0, level: level, width: d.width, height: d.height)
        return Heatmap.resize(image, width: width, height: height)
    }

    public static func white(width: Int, height: Int) -> RGBImage { RGBImage(width: width, height: height) }
}
