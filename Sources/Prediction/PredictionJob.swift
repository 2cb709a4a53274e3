import BLAS
import Foundation
import Model
import NeuralNet
import Stain
import TaskRunner
import TesseraCore
import TileStore
import Tiling

/// One prediction task (one Slurm array task): its share of the slides, predicted into its own
/// part of the output folder, resumably. With one task, the part is merged into the final files
/// at the end (`PredictionMerge`); with several, `tessera-predict merge` does that once all are done.
///
/// Each slide's result is written to the task's work folder under a temporary name and renamed
/// when complete (then its heatmap, then the status file records it as done), so a task killed at
/// any moment and run again skips exactly the finished slides. When all are done, the task writes
/// its part files (slides.csv, tiles.csv, failures.csv) and removes the work folder.
///
/// The skeleton (lock, status, retry of failed slides, clean-up, environment failures) is the
/// `ResumableTask` that tiling shares; a slide is predicted by a `StorePredictor` or a
/// `SlideFilePredictor`, and drawn by the `HeatmapWriter`.
public final class PredictionJob {
    public struct Options: Sendable {
        public var model: URL
        public var source: PredictionSource
        public var output: URL
        /// Write the merged tiles.csv (task parts always keep tile scores: the report needs them).
        public var tileScores = false
        public var heatmaps = false
        /// Write `OUT/geojson/<slide>.geojson` (QuPath objects) for every predicted slide.
        public var geojson = false
        /// Longer side of a heatmap in pixels.
        public var heatmapSize = 1024
        /// A continuous map per class beside each heatmap (`heatmaps/<slide>-p_<class>.jpg`).
        public var classMaps = false
        /// Store source: where to look for the slide files to draw heatmaps on.
        public var slidesDirectory: URL?
        public var slideManifest: URL?
        /// Store source: go on when test files the tiler's status records are missing (logged).
        public var allowPartialStore = false
        /// Manifest source: µm per pixel of slides that record neither MPP nor objective power.
        public var assumeMPP: Double?
        /// Manifest source: tiles are JPEG-encoded at this quality before prediction, as the tiler
        /// stores them, so that a slide predicted directly and from a store gives the same result.
        /// nil: the quality of the model's training store (recorded in the model), else 90.
        public var jpegQuality: Int?
        public var skipMissing = false
        /// Which shard of the slides, threads, `--force`, `--no-retry-failed` and the stop-after hook.
        public var share = TaskShare()
        public var batchSize = 64
        /// Merge settings (one-task runs merge at the end).
        public var bootstrap = 1000
        public var seed: UInt64 = 1

        public init(model: URL, source: PredictionSource, output: URL) {
            self.model = model
            self.source = source
            self.output = output
        }
    }

    public let options: Options
    private var partFolder: URL { PredictionLayout.partFolder(options.output, task: options.share.shard, taskCount: options.share.shards) }
    private var workFolder: URL { PredictionLayout.Folder.work.url(in: partFolder) }
    private var statusURL: URL { PredictionLayout.File.status.url(in: partFolder) }
    /// Beside the part folder, so `--force` (which removes the folder) never removes the lock.
    private var lockURL: URL { partFolder.deletingLastPathComponent().appendingPathComponent("\(options.share.taskName).lock") }

    public init(options: Options) {
        precondition(options.batchSize >= 1 && options.share.isValid && options.heatmapSize >= 16)
        self.options = options
    }

    public func run() throws -> TaskOutcome {
        do { return try runTask() } catch {
            throw EnvironmentFailure(classifying: error, folder: options.output) ?? error
        }
    }

    private func runTask() throws -> TaskOutcome {
        let fm = FileManager.default
        BLASRuntime.setThreads(options.share.threads)
        let modelFile = try ModelFile.read(options.model)
        let header = modelFile.header
        let classes = header.classes
        let items = try options.source.items(classes: classes, requireReadable: !options.skipMissing)
        if case let .store(store) = options.source {
            let completeness = StoreCompleteness.check(store: store, splits: [TileStoreLayout.testSplit])
            for line in try completeness.enforce(store: store, allowPartial: options.allowPartialStore) { Log.warning(line) }
            try StorePredictor.checkStore(items, model: header, modelPath: options.model.path)
        }
        let parameters = try makeParameters(header: header)
        let assignment = ShardPlan.assign(sizes: items.map(\.size), ids: items.map(\.slideID), shards: options.share.shards)
        var taskOf = [Int](repeating: 0, count: items.count)
        for (t, members) in assignment.enumerated() { for i in members { taskOf[i] = t } }
        let mine = assignment[options.share.shard].map { items[$0] }

        try fm.createDirectory(at: workFolder, withIntermediateDirectories: true)
        for (asked, folder) in [(options.heatmaps || options.classMaps, PredictionLayout.Folder.heatmaps), (options.geojson, .geojson)] where asked {
            try fm.createDirectory(at: folder.url(in: options.output), withIntermediateDirectories: true)
        }
        // Every task writes the same plan; atomic renames make concurrent writers harmless.
        let plan = PredictionPlan(taskCount: options.share.shards,
                                  slides: items.indices.map { PredictionPlan.Entry(slideID: items[$0].slideID, task: taskOf[$0]) },
                                  parameters: parameters, model: Self.describe(header, path: options.model.path),
                                  sourceDescription: options.source.description)
        try JSONFile.write(plan, to: PredictionLayout.planURL(options.output, taskCount: options.share.shards), keys: .snakeCase)

        let task = ResumableTask<PredictionTaskStatus>(layout: layout(mine), policy: options.share.policy)
        defer { task.release() }
        var status = try loadStatus(task, parameters: parameters)
        if status.complete {
            Log.info("\(options.share.taskName) already complete (\(status.slides.count) slides); use --force to redo it")
            return try finish(status)
        }
        let t = header.tiling
        Log.info("model \(options.model.path): \(header.selectionDescription)")
        Log.info("\(options.share.taskName): \(mine.count) of \(items.count) slides from \(options.source.description); model \(header.network.model) "
            + "\(header.network.inputSize)², classes \(classes.joined(separator: ",")); tiles \(t.tileSize) px at \(t.target); "
            + "batch \(options.batchSize), \(options.share.threads) thread\(options.share.threads == 1 ? "" : "s") (OpenBLAS \(BLASRuntime.coreName))")

        let scorer = try TileScorer(network: try modelFile.makeNetwork(), normalization: header.normalization,
                                    tileSize: t.tileSize, batchSize: options.batchSize)
        let predictor: SlidePredictor = switch options.source {
        case .store: StorePredictor(scorer: scorer, model: header, modelPath: options.model.path)
        case .manifest: SlideFilePredictor(scorer: scorer, classes: classes.count, spec: Self.slideFileSpec(options, header),
                                           assumeMPP: options.assumeMPP, threads: options.share.threads)
        }
        let heatmaps = options.heatmaps || options.classMaps
            ? HeatmapWriter(output: options.output, maxSide: options.heatmapSize, classHeatmap: options.heatmaps, classMaps: options.classMaps) : nil
        var store: URL?
        if case let .store(url) = options.source { store = url }
        let locator = try SlideLocator(directory: options.slidesDirectory, manifest: options.slideManifest)
        let already = mine.filter { isDone($0.slideID, status) }.count
        if already > 0 { Log.info("resuming: \(already) slides already done") }
        let progress = ProgressLog("\(options.share.taskName) slides", total: mine.count, unit: "slides", interval: 0)
        var tilesScored = 0, scoringSeconds = 0.0, predictedThisRun = 0, stainTiles = 0, stainFallbacks = 0
        if let stain = header.normalization.stain { Log.info("stain normalisation as in training: \(stain.description)" + (stain.method == .reinhard ? "; \(StainKernelPath.summary)" : "")) }
        for item in mine {
            if isDone(item.slideID, status) { progress.advance(note: "skipped \(item.slideID) (done before)"); continue }
            if StopRequest.isRequested {
                Log.info(StopRequest.message("\(status.slides.count) of \(mine.count) slides done"))
                return .stopped(slides: status.slides.count)
            }
            if options.share.stops(after: predictedThisRun, unit: "slides", option: "--stop-after-slides") {
                return .stopped(slides: status.slides.count)
            }
            let started = Date()
            var (result, placement) = try predictor.predict(item)
            if let p = placement {
                placement = SlideOutputs.locate(p, slideID: item.slideID, locator: locator)
                SlideOutputs.record(placement!, in: &result)
                result.placement = placement
            }
            let seconds = Date().timeIntervalSince(started)
            let stain = scorer.takeStainCounts()
            (stainTiles, stainFallbacks) = (stainTiles + stain.tiles, stainFallbacks + stain.fallbacks)
            if header.normalization.stain != nil { result.stain = SlideStainCounts(slideID: item.slideID, tiles: stain.tiles, fallbacks: stain.fallbacks) }
            try JSONFile.write(result, to: workURL(item.slideID), pretty: false)
            if let placement {
                if let heatmaps { try heatmaps.write(placement, tiles: result.tiles, prediction: result.prediction, classes: classes) }
                if options.geojson { try SlideOutputs.writeGeoJSON(result.tiles, classes: classes, slideID: item.slideID, output: options.output, store: store) }
            }
            status.slides[item.slideID] = .init(outcome: result.prediction.outcome, tiles: result.tiles.count)
            try task.save(status)
            predictedThisRun += 1
            let p = result.prediction
            switch p.outcome {
            case .ok:
                tilesScored += result.tiles.count
                scoringSeconds += seconds
                let rate = Double(tilesScored) / max(scoringSeconds, 1e-9)
                progress.advance(note: "\(item.slideID): \(result.tiles.count) tiles, \(classes[p.aggregate!.predictedByMean!]) by mean probability, "
                    + "\(classes[p.aggregate!.predictedByVote!]) by vote; \(String(format: "%.1f", rate)) tiles/s"
                    + (stain.fallbacks > 0 ? "; \(stain.fallbacks) tiles not stain-normalised (too little tissue)" : ""))
            case .noTissueTiles:
                progress.advance(note: "\(item.slideID): no tissue tiles")
            case .failed:
                Log.warning("\(item.slideID) (\(result.source)) skipped at stage \(result.stage?.rawValue ?? "?"): \(p.message)")
                progress.advance(note: "\(item.slideID) FAILED")
            }
        }

        if stainTiles > 0 {
            Log.info(String(format: "stain normalisation %@: %d of %d tiles (%.1f%%) left unnormalised (too little tissue)",
                            header.normalization.stain!.method.rawValue, stainFallbacks, stainTiles, 100 * Double(stainFallbacks) / Double(stainTiles)))
        }
        try writePart(mine, classes: classes)
        try task.finish(&status)
        return try finish(status)
    }

    private func layout(_ mine: [PredictionItem]) -> ResumableTask<PredictionTaskStatus>.Layout {
        // Heatmap and GeoJSON temporaries are named by slide: only our slides' are ours.
        let ours = Set(mine.flatMap { ["." + PredictionLayout.heatmapURL(options.output, slideID: $0.slideID).lastPathComponent,
                                       "." + PredictionLayout.geojsonURL(options.output, slideID: $0.slideID).lastPathComponent] })
        let isOurs: (String) -> Bool = { name in name.range(of: ".tmp-").map { ours.contains(String(name[..<$0.lowerBound])) } ?? false }
        let temporaries: [(folder: URL, isOurs: (String) -> Bool)] = [
            (workFolder, { _ in true }), (partFolder, { _ in true }),
            (PredictionLayout.Folder.heatmaps.url(in: options.output), isOurs),
            (PredictionLayout.Folder.geojson.url(in: options.output), isOurs),
        ]
        return .init(label: options.share.label, statusURL: statusURL, workFolder: workFolder,
                     lockURL: lockURL, output: options.output, temporaries: temporaries, keepsWorkForRetry: true)
    }

    /// The outcome of a complete task; a one-task run also merges.
    private func finish(_ status: PredictionTaskStatus) throws -> TaskOutcome {
        if options.share.shards == 1 {
            var merge = PredictionMerge.Options(output: options.output)
            merge.expectShards = 1
            merge.bootstrap = options.bootstrap
            merge.seed = options.seed
            _ = try PredictionMerge(options: merge).run()
        } else {
            Log.info("\(options.share.taskName) done; when all \(options.share.shards) tasks are, run: tessera-predict merge --out \(options.output.path)")
        }
        let done = status.slides.values
        let failed = done.filter(\.isFailure).count
        return TaskOutcome(slides: done.count - failed, tiles: done.reduce(0) { $0 + $1.tiles }, failed: failed)
    }

    // MARK: Part files

    private func workURL(_ slideID: String) -> URL { workFolder.appendingPathComponent(PredictionLayout.safeFileName(slideID) + ".json") }

    private func isDone(_ slideID: String, _ status: PredictionTaskStatus) -> Bool {
        status.slides[slideID] != nil && FileManager.default.fileExists(atPath: workURL(slideID).path)
    }

    /// slides.csv, tiles.csv, failures.csv and placements.json of this task, from its finished
    /// slides, in slide order.
    private func writePart(_ mine: [PredictionItem], classes: [String]) throws {
        var slideRows: [[String]] = [], failureRows: [[String]] = [], placements: [String: SlidePlacement] = [:]
        var stainCounts: [SlideStainCounts] = []
        let tiles = try StreamedFile(PredictionLayout.File.tiles.url(in: partFolder))
        try tiles.write(CSV.line(TileScores.header(classes: classes)) + "\n")
        for item in mine {
            let result = try JSONFile.read(SlideResult.self, from: workURL(item.slideID), hint: "re-run this task with --force")
            slideRows.append(result.prediction.fields(classes: classes))
            placements[item.slideID] = result.placement
            if let stain = result.stain { stainCounts.append(stain) }
            if result.prediction.outcome == .failed {
                failureRows.append([item.slideID, result.source, result.stage?.rawValue ?? "", result.prediction.message])
            }
            try tiles.write(result.tiles.csvLines(slideID: item.slideID))
        }
        try tiles.commit()
        try AtomicFile.write(Data(CSV.document(header: SlidePrediction.header(classes: classes), rows: slideRows).utf8),
                             to: PredictionLayout.File.slides.url(in: partFolder))
        try AtomicFile.write(Data(CSV.document(header: PredictionLayout.failuresHeader, rows: failureRows).utf8),
                             to: PredictionLayout.File.failures.url(in: partFolder))
        try JSONFile.write(placements, to: PredictionLayout.File.placements.url(in: partFolder))
        let stainURL = PredictionLayout.File.stainCounts.url(in: partFolder)
        if stainCounts.isEmpty { try? FileManager.default.removeItem(at: stainURL) } else { try JSONFile.write(stainCounts, to: stainURL) }
    }

    // MARK: Checks and status

    private func makeParameters(header: ModelFile.Header) throws -> PredictionParameters {
        let model = try Data(contentsOf: options.model)
        let source: String
        switch options.source {
        case let .store(url): source = PredictionParameters.storeSourcePrefix + url.standardizedFileURL.path
        case let .manifest(url):
            source = "manifest \(url.standardizedFileURL.path) (\(String(stableHash(bytes: try Data(contentsOf: url)), radix: 16)))"
        }
        return PredictionParameters(modelDigest: String(stableHash(bytes: model), radix: 16), source: source, classes: header.classes,
                                    tileScores: options.tileScores, heatmaps: options.heatmaps, geojson: options.geojson,
                                    classMaps: options.classMaps ? true : nil, heatmapSize: options.heatmapSize,
                                    assumeMPP: options.assumeMPP, jpegQuality: Self.jpegQuality(options, header), shards: options.share.shards)
    }

    /// The quality tiles cut from slide files are encoded at: as asked, else as the training store's.
    static func jpegQuality(_ options: Options, _ header: ModelFile.Header) -> Int {
        options.jpegQuality ?? header.tiling.jpegQuality ?? 90
    }

    /// Slide files are cut as the training store was, but JPEG-encoded at the chosen quality (a
    /// raw store's model too).
    static func slideFileSpec(_ options: Options, _ header: ModelFile.Header) -> TilingSpec {
        var spec = header.tiling
        spec.jpegQuality = jpegQuality(options, header)
        return spec
    }

    private func loadStatus(_ task: ResumableTask<PredictionTaskStatus>, parameters: PredictionParameters) throws -> PredictionTaskStatus {
        let part = partFolder
        return try task.start(parameters: parameters, resetOutputs: { try? FileManager.default.removeItem(at: part) },
                              mismatch: { [statusURL] differences in
            PredictionError.parametersChanged(statusFile: statusURL.path, differences: differences.map(\.description))
        })
    }

    // MARK: Descriptions

    static func describe(_ header: ModelFile.Header, path: String) -> PredictionReport.Model {
        PredictionReport.Model(path: path, architecture: header.network.model, inputSize: header.network.inputSize,
                               tiling: header.tiling, selection: header.selectionDescription,
                               stainNormalization: header.normalization.stain)
    }
}

extension PredictionJob.Options {
    /// `--stop-after-slides`: the share's `stopAfter`, counted in slides predicted by this run.
    public var stopAfterSlides: Int? {
        get { share.stopAfter }
        set { share.stopAfter = newValue }
    }
}
