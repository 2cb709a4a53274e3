/// The one list of job-file keys: every key a Tessera program maps to an option, plus the keys only
/// the scripts (Slurm/submit, Slurm/*.sbatch, Jobs/run-local) read. A program refuses a job file
/// holding any other key, so `MAGNIFICATON=40` cannot tile at the default 20× without a word.
extension JobFile {
    public static let knownKeys: Set<String> = [
        // tessera-tile
        "MANIFEST", "STORE", "CLASSES", "MAGNIFICATION", "MPP", "LEVEL", "ASSUME_MPP", "TILE_SIZE", "OVERLAP",
        "BACKGROUND_THRESHOLD", "MAX_BACKGROUND", "ENCODING", "QUALITY", "SPLIT", "SPLIT_SEED", "TILE_SHARDS", "TILE_THREADS",
        "SLIDE_READER", "STRICT", "NO_RETRY_FAILED", "QC", "PEN_MAX", "BLUR_MIN", "FOLD_MAX", "BUBBLE_MAX", "BLUR_BLOCK_MIN", "TISSUE_MASK",
        // tessera-train
        "RUN", "MODEL", "INPUT_SIZE", "EPOCHS", "BATCH", "LEARNING_RATE", "OPTIMIZER", "WEIGHT_DECAY", "WARMUP_EPOCHS",
        "SCHEDULE", "TRAIN_SEED", "JITTER", "CHECKPOINT_EVERY", "TRAIN_THREADS", "NO_AUGMENT",
        "STAIN_NORM", "STAIN_REFERENCE", "HED_JITTER",
        // tessera-predict (and merge)
        "PREDICTIONS", "BEST_MODEL", "TILE_SCORES", "HEATMAPS", "HEATMAP_SIZE", "GEOJSON", "CLASS_MAPS", "PREDICT_SHARDS", "PREDICT_THREADS", "PREDICT_BATCH",
        "BOOTSTRAP", "BOOTSTRAP_SEED",
        // tessera-predict embed and tessera-mil (MIL=1: the scripts run embed → MIL after training)
        "FEATURES", "MIL", "MIL_RUN", "MIL_EPOCHS", "MIL_BAG_CAP", "MIL_HIDDEN", "MIL_BAGS_PER_STEP", "MIL_LEARNING_RATE",
        "MIL_WEIGHT_DECAY", "MIL_DROPOUT", "MIL_SEED", "MIL_THREADS",
        // scripts only: the job's name (job and log names), MPI ranks of training, the MPI launcher of train.sbatch,
        // how many tasks of an array run at once (sbatch --array=…%N; Jobs/run-local alike)
        "NAME", "RANKS", "TRAIN_NODES", "TESSERA_LAUNCHER", "TILE_MAX_RUNNING", "PREDICT_MAX_RUNNING",
    ]

    /// Refuses keys outside `knownKeys`, each with its line and the nearest known key.
    public func checkKeys() throws {
        let unknown = values.keys.filter { !Self.knownKeys.contains($0) }.sorted { (lines[$0] ?? 0, $0) < (lines[$1] ?? 0, $1) }
        guard let first = unknown.first else { return }
        let described = unknown.map { key in
            "unknown key \(key)" + (Self.nearestKnownKey(to: key).map { "; did you mean \($0)?" } ?? "")
        }
        let others = unknown.count > 1 ? "\n" + zip(unknown, described).dropFirst().map { "\(path):\(lines[$0] ?? 0): \($1)" }.joined(separator: "\n") : ""
        throw ParseError(path: path, line: lines[first] ?? 0,
                         message: described[0] + others + "\nknown keys: \(Self.knownKeys.sorted().joined(separator: ", "))")
    }

    /// The known key closest to `key` by edit distance, if it is close enough to be a typo.
    public static func nearestKnownKey(to key: String) -> String? {
        let upper = key.uppercased()
        let scored = knownKeys.map { ($0, editDistance(upper, $0)) }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
        guard let best = scored.first, best.1 <= max(2, key.count / 3) else { return nil }
        return best.0
    }

    /// Levenshtein distance (insertions, deletions, substitutions).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

extension JobFile.Mapping {
    /// The job-file key this mapping reads.
    public var key: String {
        switch self {
        case let .option(key, _), let .flag(key, _), let .file(key, _, _): return key
        }
    }
}
