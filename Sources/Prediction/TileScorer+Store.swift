import JPEG
import Model
import TileStore

extension TileScorer {
    /// Every tile of a store file, scored in file order: tile bytes are read on this thread (HDF5
    /// is not thread-safe) one batch at a time and decoded in the background while the previous
    /// batch runs forward.
    public func score(_ reader: TileStoreReader) throws -> TileScores {
        let columns = try reader.tileColumns()
        let raw = reader.attributes.encoding == .raw ? try JPEGDecoder() : nil
        var start = 0
        do {
            while start < reader.tileCount {
                let indices = Array(start..<min(start + batchSize, reader.tileCount))
                let payloads: [TilePayload] = if let raw {
                    try reader.images(indices, decoder: raw).map { .raw($0) }
                } else {
                    try reader.encodedTiles(indices).map { .jpeg($0) }
                }
                try submit(payloads, source: reader.path, firstIndex: start)
                start += indices.count
            }
            return TileScores(classes: classes, x: columns.x.map { Int($0) }, y: columns.y.map { Int($0) }, probabilities: try finish())
        } catch {
            reset()
            throw error
        }
    }
}
