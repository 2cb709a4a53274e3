import Model
import SlideTiles
import TesseraCLI
import TesseraCore
import Tiling
import Training

extension TrainCommand {
    /// The reference slide's tiles, cut by the store's tiling through the tiler's slide readers,
    /// as the trainer's input pipeline takes them; a slide that gives none is a usage error.
    static func referenceTiles(path: String, region: [Int]?, spec: TilingSpec, limit: Int, workers: Int) throws -> StainReferenceTiles {
        do {
            let cut = try ReferenceTiles.cut(path: path, region: region.map { SlideRegion(x: $0[0], y: $0[1], width: $0[2], height: $0[3]) },
                                             spec: spec, limit: limit, workers: workers)
            Log.info("stain reference \(cut.name): \(cut.kept) of \(cut.considered) tile positions kept by the tissue rule, \(cut.tiles.count) used")
            let payloads = cut.tiles.map { tile in
                spec.jpegQuality == nil ? TilePayload.raw(RGBImage(width: spec.tileSize, height: spec.tileSize, pixels: tile.bytes)) : .jpeg(tile.bytes)
            }
            return StainReferenceTiles(payloads: payloads, name: cut.name)
        } catch let e as ReferenceSlideError {
            throw TrainingError.badStainReference(path: e.path, message: e.message, hint: e.hint)
        }
    }
}
