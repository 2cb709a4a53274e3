import TesseraCore

/// Where a slide pyramid's tiles go, level by level, largest first: one directory per level in a
/// tiled TIFF (the executable adapts `TIFF.PyramidTIFFWriter`), or memory in tests.
public protocol PyramidSink: AnyObject {
    /// Starts `level` (0 first, then 1, 2, …), `width` × `height` pixels.
    func beginLevel(_ level: Int, width: Int, height: Int) throws
    /// Tile row `row` of the current level: a strip the level's full width and `tileSize` rows
    /// high (the last strip holds the rows that remain).
    func writeTileRow(_ row: Int, strip: RGBImage) throws
    func endLevel() throws
    /// All levels written: flush and close.
    func close() throws
    /// Give up (after an error): release everything and delete what was written.
    func discard()
}

/// Makes the sink for one slide file: (path to write, the slide, its pyramid).
public typealias PyramidSinkFactory = (_ path: String, _ spec: SlideSpec, _ layout: PyramidLayout) throws -> any PyramidSink
