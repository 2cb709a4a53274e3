import TileStore
import Tiling

/// Whether a model can predict on a store: the same classes in the same order, the same tiling
/// (tile size, resolution, background rule), and tiles at least as large as its input.
public enum ModelCompatibility {
    /// "what: model …, store …" for every difference; empty when compatible.
    public static func differences(model: ModelFile.Header, store: TileStoreAttributes) -> [String] {
        var d: [String] = []
        if model.classes != store.classes {
            d.append("classes: model \(model.classes.joined(separator: ",")), store \(store.classes.joined(separator: ","))")
        }
        // The JPEG quality is not compared: a model predicts on tiles of any quality (and cuts
        // slide files at its own or the one asked for).
        // The JPEG quality, tissue rule and QC choose how tiles are kept, not what a tile shows.
        let free: Set<String> = Set([TilingSpec.Key.jpegQuality, .tissueRule, .qc, .penMax, .blurMin, .foldMax, .bubbleMax, .blurBlockMin].map(\.rawValue))
        d += model.tiling.differences(from: store.tiling).filter { !free.contains($0.name) }
            .map { "\($0.label): model \($0.mine), store \($0.theirs)" }
        if model.network.inputSize > store.tileSize {
            d.append("input size: the model's input is \(model.network.inputSize)², larger than the store's \(store.tileSize)² tiles")
        }
        return d
    }
}
