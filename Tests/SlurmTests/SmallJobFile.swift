import Foundation

/// The job file the launcher tests run: small tiles and inputs, so that a debug build tiles, trains
/// and predicts a few slides in seconds. `settings` replace a key's value or add keys.
enum SmallJobFile {
    static let base: [(String, String)] = [
        ("NAME", "e2e"), ("MANIFEST", ""), ("CLASSES", "LUAD,LUSC,normal"), ("MAGNIFICATION", "20"), ("ASSUME_MPP", "0.5"),
        ("TILE_SIZE", "256"), ("SPLIT", "0.5,0.17,0.33"), ("TILE_SHARDS", "1"), ("TILE_THREADS", "1"), ("STORE", "store"),
        ("MODEL", "refnet-s"), ("INPUT_SIZE", "32"), ("EPOCHS", "1"), ("BATCH", "8"), ("LEARNING_RATE", "1.6"),
        ("RANKS", "1"), ("TRAIN_THREADS", "1"), ("RUN", "run"), ("PREDICT_SHARDS", "1"), ("PREDICTIONS", "predictions"),
    ]

    /// Writes `work/job.env` for `manifest` and returns its URL.
    static func write(in work: URL, manifest: URL, _ settings: [(String, String)] = []) throws -> URL {
        var lines = base
        for (key, value) in [("MANIFEST", manifest.path)] + settings {
            if let i = lines.firstIndex(where: { $0.0 == key }) { lines[i].1 = value } else { lines.append((key, value)) }
        }
        let url = work.appendingPathComponent("job.env")
        try (lines.map { "\($0)=\($1)" }.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }
}
