import JPEG
import Model
import TileStore

extension TileScorer {
    /// Every tile of a store file, scored in file order: tile bytes are read on this thread (HDF5
    /// is not thread-safe) one batch at a time and decoded in the background while the previous
    /// batch runs forward.
    public func score(_ reader: TileStoreReader) throws -> TileScores {
        precondition(output == .probabilities, "score needs a scorer of probabilities")
        let (values, columns) = try run(reader)
        return TileScores(classes: classes, x: columns.x.map { Int($0) }, y: columns.y.map { Int($0) }, probabilities: values)
    }

    /// Every tile of a store file through the network, in file order: tiles × `valuesPerTile`, and
    /// the file's tile columns (slide, position).
    public func run(_ reader: TileStoreReader) throws -> (values: [Float], columns: TileColumns) {
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
            return (try finish(), columns)
        } catch {
            reset()
            throw error
        }
    }
}
