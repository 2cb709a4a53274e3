import SyntheticSlides
import TIFF
import TesseraCore

/// Wires the pyramid stream of `SyntheticSlides` to libtiff: one JPEG-YCbCr tiled directory per
/// level, the Aperio description on the first.
final class TIFFPyramidSink: PyramidSink {
    private let writer: PyramidTIFFWriter
    private let description: String

    init(path: String, spec: SlideSpec, layout: PyramidLayout, quality: Int) throws {
        writer = try PyramidTIFFWriter(path: path, tileSize: layout.tileSize, quality: quality)
        description = AperioDescription.text(for: spec, tileSize: layout.tileSize, quality: quality)
    }

    func beginLevel(_ level: Int, width: Int, height: Int) throws {
        try writer.beginDirectory(width: width, height: height, description: level == 0 ? description : nil)
    }

    func writeTileRow(_ row: Int, strip: RGBImage) throws {
        try writer.writeTileRow(row, pixels: strip.pixels, width: strip.width, height: strip.height)
    }

    func endLevel() throws { try writer.finishDirectory() }
    func close() throws { try writer.close() }
    func discard() { writer.discard() }

    /// A factory for `SlideSynthesizer` / `CohortSynthesizer`. A realistic slide is written at its
    /// site's JPEG quality instead of `quality`.
    static func factory(quality: Int) -> PyramidSinkFactory {
        { path, spec, layout in
            try TIFFPyramidSink(path: path, spec: spec, layout: layout, quality: spec.realism?.jpegQuality ?? quality)
        }
    }
}
