import BLAS
import FeatureStore
import Foundation
import Model
import NeuralNet
import TaskRunner
import TesseraCore
import TileStore
import Tiling

/// One embedding task (one Slurm array task): its share of a tile store's files, all three splits,
/// run through the model's layers before the classifier and written as a feature store
/// (`FeatureStoreLayout`: one HDF5 file per slide, in the same split folders).
///
/// The same machinery as a prediction task (`ResumableTask`: lock, status after every file,
/// retry of failed files, environment failures, clean-up of a killed run's temporaries) and the
/// same scorer (`TileScorer` in `.embeddings` mode: decode in the background, forward image by
/// image). A feature file is written under a hidden name and renamed when complete; a store file
/// counts as done once all its slides' feature files are in place and the status says so.
public final class EmbeddingJob {
    public struct Options: Sendable {
        public var model: URL
        public var store: URL
        public var output: URL
        /// Which shard of the store files, threads, `--force`, `--no-retry-failed` and the stop-after hook.
        public var share = TaskShare()
        public var batchSize = 64

        public init(model: URL, store: URL, output: URL) {
            self.model = model
            self.store = store
            self.output = output
        }
    }

    public let options: Options
    private var partFolder: URL {
        options.output.appendingPathComponent(FeatureStoreLayout.partsFolder).appendingPathComponent(options.share.taskName)
    }

    public init(options: Options) {
        precondition(options.batchSize >= 1 && options.share.isValid)
        self.options = options
    }

    public func run() throws -> TaskOutcome {
        do { return try runTask() } catch {
            throw EnvironmentFailure(classifying: error, folder: options.output) ?? error
        }
    }

    /// A store file to embed: `split/name.h5`.
    struct Item {
        var split: String
        var url: URL
        var id: String { "\(split)/\(url.lastPathComponent)" }
    }

    private func runTask() throws -> TaskOutcome {
        BLASRuntime.setThreads(options.share.threads)
        let modelData = try Data(contentsOf: options.model)
        let modelFile = try ModelFile.read(options.model)
        let header = modelFile.header
        let items = FeatureStoreLayout.splits.flatMap { split in
            TileStoreLayout.storeFiles(in: options.store, split: split).map { Item(split: split, url: $0) }
        }
        guard !items.isEmpty else {
            throw TesseraError.invalidInput(path: options.store.path, message: "no tile store files in train/, validation/ or test/",
                                            hint: "pass the --store folder tessera-tile wrote")
        }
        let completeness = StoreCompleteness.check(store: options.store, splits: TileStoreLayout.splits)
        for line in try completeness.enforce(store: options.store, allowPartial: false) { Log.warning(line) }
        let sizes = items.map { ((try? FileManager.default.attributesOfItem(atPath: $0.url.path)[.size]) as? NSNumber)?.int64Value ?? 0 }
        let mine = ShardPlan.assign(sizes: sizes, ids: items.map(\.id), shards: options.share.shards)[options.share.shard].map { items[$0] }
        let digest = String(stableHash(bytes: modelData), radix: 16)
        let parameters = EmbeddingParameters(modelDigest: digest, store: options.store.standardizedFileURL.path, shards: options.share.shards)

        let suffix = ".tmp-\(options.share.taskName)"
        let temporaries = FeatureStoreLayout.splits.map { split in
            (folder: options.output.appendingPathComponent(split), isOurs: { (name: String) in name.hasSuffix(suffix) })
        }
        let layout = ResumableTask<EmbeddingTaskStatus>.Layout(
            label: "embedding \(options.share.label)", statusURL: PredictionLayout.File.status.url(in: partFolder),
            workFolder: PredictionLayout.Folder.work.url(in: partFolder),
            lockURL: partFolder.deletingLastPathComponent().appendingPathComponent("\(options.share.taskName).lock"), output: options.output,
            temporaries: temporaries, keepsWorkForRetry: false)
        try FileManager.default.createDirectory(at: partFolder, withIntermediateDirectories: true)
        let task = ResumableTask<EmbeddingTaskStatus>(layout: layout, policy: options.share.policy)
        defer { task.release() }
        var status = try task.start(parameters: parameters, resetOutputs: {}, mismatch: { [partFolder] differences in
            TesseraError.invalidInput(path: PredictionLayout.File.status.url(in: partFolder).path,
                                      message: "was written with other parameters: \(differences.map(\.description).joined(separator: "; "))",
                                      hint: "use another --out folder, or --force to redo this task")
        })
        if status.complete {
            Log.info("\(options.share.taskName) already complete (\(status.slides.count) store files); use --force to redo it")
            return outcome(status)
        }

        let network = try modelFile.makeNetwork()
        let scorer = try TileScorer(network: network, normalization: header.normalization, tileSize: header.tiling.tileSize,
                                    batchSize: options.batchSize, output: .embeddings)
        let provenance = SlideFeatures.Provenance(model: options.model.lastPathComponent, modelDigest: digest, layer: network.embeddingLayerName,
                                                  tileSize: header.tiling.tileSize)
        Log.info("\(options.share.taskName): embedding \(mine.count) of \(items.count) store files of \(options.store.path) into \(options.output.path); "
            + "model \(header.network.model) (\(network.embeddingLayerName), \(network.embeddingWidth) values a tile), batch \(options.batchSize), "
            + "\(options.share.threads) thread\(options.share.threads == 1 ? "" : "s")")
        let progress = ProgressLog("\(options.share.taskName) store files", total: mine.count, unit: "files", interval: 0)
        var done = 0, tiles = 0, seconds = 0.0
        for item in mine {
            if status.slides[item.id] != nil { progress.advance(note: "skipped \(item.id) (done before)"); continue }
            if options.share.stops(after: done, unit: "store files", option: "--stop-after-files") {
                return .stopped(slides: status.slides.count)
            }
            let started = Date()
            do {
                let count = try embed(item, scorer: scorer, header: header, provenance: provenance)
                status.slides[item.id] = EmbeddedFile(failed: false, tiles: count.tiles, slides: count.slides)
                tiles += count.tiles
                seconds += Date().timeIntervalSince(started)
                progress.advance(note: "\(item.id): \(count.slides) slides, \(count.tiles) tiles; "
                    + String(format: "%.0f tiles/s", Double(tiles) / max(seconds, 1e-9)))
            } catch {
                if let failure = task.environmentFailure(error) { throw failure }
                Log.warning("\(item.id) skipped: \(error)")
                status.slides[item.id] = EmbeddedFile(failed: true, tiles: 0, slides: 0)
                progress.advance(note: "\(item.id) FAILED")
            }
            try task.save(status)
            done += 1
        }
        try task.finish(&status)
        return outcome(status)
    }

    /// Embeds one store file into one feature file per slide; returns the counts.
    private func embed(_ item: Item, scorer: TileScorer, header: ModelFile.Header,
                       provenance: SlideFeatures.Provenance) throws -> (slides: Int, tiles: Int) {
        let reader = try TileStoreReader(url: item.url)
        defer { try? reader.close() }
        try ModelCompatibility.check(model: header, modelPath: options.model.path, store: reader.attributes, storePath: item.url.path)
        let (values, columns) = try scorer.run(reader)
        let width = scorer.valuesPerTile
        var rows = [[Int]](repeating: [], count: reader.slides.count)
        for k in 0..<columns.count { rows[Int(columns.slides[k])].append(k) }
        for (s, record) in reader.slides.enumerated() {
            var p = provenance
            p.level = record.level
            p.downsample = record.downsample
            p.mpp = record.mpp
            let r = rows[s]
            let features = r.flatMap { values[($0 * width)..<(($0 + 1) * width)] }
            let slide = SlideFeatures(slideID: record.slideID, patientID: record.patientID, label: record.label, width: width,
                                      features: features, x: r.map { columns.x[$0] }, y: r.map { columns.y[$0] }, provenance: p)
            try FeatureFile.write(slide, split: item.split, to: FeatureStoreLayout.fileURL(options.output, split: item.split, slideID: record.slideID),
                                  owner: options.share.taskName)
        }
        return (reader.slides.count, columns.count)
    }

    private func outcome(_ status: EmbeddingTaskStatus) -> TaskOutcome {
        let files = status.slides.values
        let failed = files.filter(\.failed).count
        return TaskOutcome(slides: files.reduce(0) { $0 + $1.slides }, tiles: files.reduce(0) { $0 + $1.tiles }, failed: failed)
    }
}

/// What decides an embedding task's output (kept in its status file; a re-run with others is refused).
public struct EmbeddingParameters: TaskParameters {
    public var modelDigest: String
    public var store: String
    public var shards: Int
}

/// How one store file of an embedding task ended.
public struct EmbeddedFile: TaskRunner.SlideRecord {
    public var failed: Bool
    public var tiles: Int
    public var slides: Int
    public var isFailure: Bool { failed }
}

/// An embedding task's resume state, `FEAT/parts/task-I-of-N/status.json`, keyed by `split/file.h5`.
public typealias EmbeddingTaskStatus = SlideTaskStatus<EmbeddingParameters, EmbeddedFile>

extension EmbeddingJob.Options {
    /// `--stop-after-files`: the share's `stopAfter`, counted in store files embedded by this run.
    public var stopAfterFiles: Int? {
        get { share.stopAfter }
        set { share.stopAfter = newValue }
    }
}
