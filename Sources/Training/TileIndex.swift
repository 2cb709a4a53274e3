import Foundation
import HDF5
import TesseraCore
import TileStore

/// All tiles of one split of a store, across its files, with one global numbering.
public final class TileIndex {
    public let readers: [TileStoreReader]
    /// Global tile → (file, tile in file).
    public let file: [Int32]
    public let local: [Int32]
    public let labels: [Int32]
    public let attributes: TileStoreAttributes

    public var count: Int { labels.count }

    /// Opens every file of `split` in `store` (collectively with `.parallel`), checking that they
    /// agree with each other on the tiling parameters.
    public init(store: URL, split: String, access: HDF5File.Access) throws {
        let urls = TileStoreLayout.storeFiles(in: store, split: split)
        guard !urls.isEmpty else {
            throw TesseraError.invalidInput(path: store.appendingPathComponent(split).path,
                                            message: "no \(split) tile files",
                                            hint: "tile the cohort first (tessera-tile), and check --store")
        }
        var readers: [TileStoreReader] = []
        var file: [Int32] = [], local: [Int32] = [], labels: [Int32] = []
        for (f, url) in urls.enumerated() {
            let reader = try TileStoreReader(url: url, access: access)
            if let first = readers.first {
                let differences = reader.attributes.tilingDifferences(from: first.attributes)
                guard differences.isEmpty else {
                    throw TesseraError.invalidInput(path: url.path, message: "tiled differently from \(first.url.lastPathComponent): \(differences.joined(separator: "; "))",
                                                    hint: "re-tile the cohort with one set of parameters")
                }
                guard reader.attributes.classes == first.attributes.classes else {
                    throw TesseraError.invalidInput(path: url.path, message: "classes \(reader.attributes.classes) differ from \(first.attributes.classes) in \(first.url.lastPathComponent)",
                                                    hint: "re-tile the cohort with one --classes list")
                }
            }
            let columns = try reader.tileColumns()
            for i in 0..<reader.tileCount {
                file.append(Int32(f))
                local.append(Int32(i))
                labels.append(columns.labels[i])
            }
            readers.append(reader)
        }
        self.readers = readers
        self.file = file
        self.local = local
        self.labels = labels
        self.attributes = readers[0].attributes
    }

    /// The encoded bytes of the given global tiles, grouped into one batched read per file.
    public func encodedTiles(_ indices: some Collection<Int>) throws -> [[UInt8]] {
        var out = [[UInt8]](repeating: [], count: indices.count)
        var byFile: [Int32: [(slot: Int, local: Int)]] = [:]
        for (slot, g) in indices.enumerated() { byFile[file[g], default: []].append((slot, Int(local[g]))) }
        for (f, items) in byFile {
            let bytes = try readers[Int(f)].encodedTiles(items.map(\.local))
            for (k, item) in items.enumerated() { out[item.slot] = bytes[k] }
        }
        return out
    }

    /// Collective for parallel files: every rank closes every file.
    public func close() throws {
        for r in readers { try r.close() }
    }
}
