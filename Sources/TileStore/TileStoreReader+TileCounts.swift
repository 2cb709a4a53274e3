import Foundation

extension TileStoreReader {
    /// Split → slide id → the number of tiles the store holds for it, over every store file: what
    /// a feature store embedded from it must match (`FeatureStoreAudit`).
    public static func tileCounts(store: URL) throws -> [String: [String: Int]] {
        var counts: [String: [String: Int]] = [:]
        for split in TileStoreLayout.splits {
            for url in TileStoreLayout.storeFiles(in: store, split: split) {
                let reader = try TileStoreReader(url: url)
                defer { try? reader.close() }
                let columns = try reader.tileColumns()
                var perSlide = [Int](repeating: 0, count: reader.slides.count)
                for k in 0..<columns.count { perSlide[Int(columns.slides[k])] += 1 }
                for (s, record) in reader.slides.enumerated() { counts[split, default: [:]][record.slideID] = perSlide[s] }
            }
        }
        return counts
    }
}
