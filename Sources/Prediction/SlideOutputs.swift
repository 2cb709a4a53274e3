import Foundation
import OpenSlide
import SlideTiles
import TesseraCore
import TileStore
import Tiling

/// What a task adds to a predicted slide besides its scores: where its file is, its resolution and
/// tile extent (into slides.csv and tiles.csv), and its QuPath GeoJSON.
enum SlideOutputs {
    /// The placement with the slide file found (a store's slides, by --slides-dir or
    /// --slides-manifest) and, from that file, the slide's own resolution in place of the store's.
    static func locate(_ placement: SlidePlacement, slideID: String, locator: SlideLocator) -> SlidePlacement {
        guard placement.slidePath == nil, let path = locator.path(of: slideID) else { return placement }
        var p = placement
        p.slidePath = path
        if let slide = try? Slide(path: path), let own = ScanResolution(geometry: SlideTiler.geometry(of: slide), assumeMPP: nil) {
            p.resolution = own
        }
        return p
    }

    /// The tile extent into the scores, the resolution and the slide file into the slide's row.
    static func record(_ placement: SlidePlacement, in result: inout SlideResult) {
        if result.tiles.count > 0 {
            result.tiles.tileWidth = placement.tileExtent
            result.tiles.tileHeight = placement.tileExtent
        }
        result.prediction.resolution = placement.resolution
        result.prediction.slidePath = placement.slidePath
    }

    /// `OUT/geojson/<slide>.geojson`, written under a temporary name and renamed; the tissue outline
    /// from the store's QC table when predicting a store that has one, else from the tiles.
    static func writeGeoJSON(_ tiles: TileScores, classes: [String], slideID: String, output: URL, store: URL?,
                             extra: [QuPathGeoJSON.Measurement] = []) throws {
        let extent = tiles.tileWidth ?? 0
        var outline: TissueOutline?
        if extent > 0 {
            let table = store?.appendingPathComponent(TileStoreLayout.qcFolder).appendingPathComponent("\(slideID).csv")
            outline = table.flatMap { TissueOutline.fromQCTable($0, extent: extent) }
                ?? TissueOutline(x: tiles.x, y: tiles.y, extent: extent, source: "tissue by the predicted tiles")
        }
        let text = QuPathGeoJSON.document(tiles: tiles, classes: classes, tileWidth: extent, tileHeight: tiles.tileHeight ?? extent,
                                          extraMeasurements: extra, outline: outline)
        try AtomicFile.write(Data(text.utf8), to: PredictionLayout.geojsonURL(output, slideID: slideID))
    }
}
