import Foundation
import JPEG
import OpenSlide
import SlideTiles
import TaskRunner
import TesseraCore
import TileStore
import Tiling

/// One tiling task (one Slurm array task): its share of the manifest's slides, tiled into the
/// shared store, resumably.
///
/// Each slide is first written as a small fragment file in the task's work folder
/// (`STORE/.work/task-I-of-N/`), completed under a temporary name and renamed; the status file then
/// records it as done. When every slide is done, train and validation fragments are merged into
/// `train/part-I-of-N.h5` and `validation/part-I-of-N.h5`, and test fragments are moved to
/// `test/<slide_id>.h5`. A task killed at any moment and re-run skips the slides whose fragments
/// were completed and redoes the rest; the merged files come out the same.
///
/// The skeleton (lock, status, retry of failed slides, clean-up, environment failures) is the
/// `ResumableTask` that prediction shares.
public final class TilingJob {
    public struct Options: Sendable {
        public var manifest: URL
        public var store: URL
        public var classes: [String]?
        public var target: TilingTarget
        public var assumeMPP: Double?
        public var tileSize = 512
        public var overlap = 0
        public var rule = BackgroundRule()
        /// The tissue rule and the artefact checks with their thresholds (see `TilingSpec`).
        public var tissueRule = TissueRule.luminance
        public var qc = ArtefactQC(checks: .none)
        public var encoding: TileEncoding = .jpeg
        public var quality = 90
        public var splitFractions = [0.7, 0.15, 0.15]
        public var splitSeed: UInt64 = 1
        /// Which shard of the slides, threads, `--force` and `--no-retry-failed`.
        public var share = TaskShare(threads: 2)
        public var tissueMask = true
        /// The direct JPEG reader where it applies (`auto`), or OpenSlide for every slide.
        public var slideReader: SlideReaderChoice = .auto
        /// Record missing slide files as failed slides instead of refusing the manifest.
        public var skipMissing = false

        public init(manifest: URL, store: URL, target: TilingTarget) {
            self.manifest = manifest
            self.store = store
            self.target = target
        }
    }

    public let options: Options

    public init(options: Options) {
        self.options = options
    }

    var store: URL { options.store }
    var workFolder: URL { store.appendingPathComponent(".work/\(options.share.taskName)") }
    private var statusURL: URL { store.appendingPathComponent("\(TileStoreLayout.statusFolder)/\(options.share.taskName).json") }
    /// Beside the status file, so `--force` (which removes the status) never removes the lock.
    private var lockURL: URL { store.appendingPathComponent("\(TileStoreLayout.statusFolder)/\(options.share.taskName).lock") }
    /// How the tiles are cut, as the store files and the status record it.
    private var spec: TilingSpec {
        var spec = TilingSpec(tileSize: options.tileSize, target: options.target, rule: options.rule,
                              jpegQuality: options.encoding == .jpeg ? options.quality : nil)
        spec.tissueRule = options.tissueRule
        spec.qc = options.qc.checks
        spec.penMax = options.qc.penMax
        spec.blurMin = options.qc.blurMin
        spec.foldMax = options.qc.foldMax
        spec.bubbleMax = options.qc.bubbleMax
        spec.blurBlockMin = options.qc.blurBlockMin
        return spec
    }
    var failuresURL: URL {
        store.appendingPathComponent(TileStoreLayout.failuresFolder)
            .appendingPathComponent(TileStoreLayout.failuresFileName(task: options.share.shard, taskCount: options.share.shards))
    }
    func testURL(_ slideID: String) -> URL {
        store.appendingPathComponent(TileStoreLayout.testSplit).appendingPathComponent(TileStoreLayout.testFileName(slideID: slideID))
    }

    /// Runs the task. Throws `TaskLock.Held` when another process runs it, and
    /// `EnvironmentFailure` when the store's file system cannot take the writes.
    public func run() throws -> TaskOutcome {
        do { return try runTask() } catch {
            throw EnvironmentFailure(classifying: error, folder: store) ?? error
        }
    }

    private func runTask() throws -> TaskOutcome {
        let fm = FileManager.default
        let manifest = try SlideManifest.load(options.manifest, classes: options.classes, requireReadable: !options.skipMissing)
        let split = PatientSplit(entries: manifest.entries, fractions: options.splitFractions, seed: options.splitSeed)
        let sizes = manifest.entries.map { e -> Int64 in
            ((try? fm.attributesOfItem(atPath: e.slidePath)[.size]) as? NSNumber)?.int64Value ?? 0
        }
        let shardPlan = ShardPlan.assign(sizes: sizes, ids: manifest.entries.map(\.slideID), shards: options.share.shards)
        let mine = shardPlan[options.share.shard].map { manifest.entries[$0] }
        let parameters = try makeParameters(manifest: manifest)

        for folder in TileStoreLayout.splits + [TileStoreLayout.failuresFolder, TileStoreLayout.statusFolder, TileStoreLayout.qcFolder,
                                                ".work/\(options.share.taskName)"] {
            try fm.createDirectory(at: store.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        // Every task writes the same splits.csv; atomic rename makes concurrent writers harmless.
        try AtomicFile.write(Data(split.csv.utf8), to: store.appendingPathComponent(TileStoreLayout.splitsFile))

        let task = ResumableTask<TaskStatus>(layout: layout, policy: options.share.policy)
        defer { task.release() }
        var status = try loadStatus(task, parameters: parameters)
        if status.complete {
            Log.info("\(options.share.taskName) already complete (\(status.slides.count) slides); use --force to redo it")
            return outcome(status)
        }
        Log.info("\(options.share.taskName): \(mine.count) of \(manifest.entries.count) slides, classes \(manifest.classes.joined(separator: ",")), \(options.target), tile \(options.tileSize) px, \(options.tissueRule == .otsu ? "Otsu saturation per slide" : options.rule.description), QC \(spec.qc)\(spec.qc == .none ? "" : " (pen max \(spec.penMax), blur min \(spec.blurMin))")")

        let tiler = SlideTiler(spec: spec, overlap: options.overlap, assumeMPP: options.assumeMPP,
                               workers: options.share.threads, useTissueMask: options.tissueMask)
        let progress = ProgressLog("\(options.share.taskName) slides", total: mine.count, unit: "slides", interval: 0)
        let already = mine.filter { status.slides[$0.slideID] != nil }.count
        if already > 0 { Log.info("resuming: \(already) slides already done") }
        var tilesSoFar = status.slides.values.reduce(0) { $0 + $1.tilesKept }
        var secondsSoFar = 0.0
        for entry in mine {
            if status.slides[entry.slideID] != nil { progress.advance(note: "skipped \(entry.slideID) (done before)"); continue }
            if StopRequest.isRequested {
                Log.info(StopRequest.message("\(status.slides.count) of \(mine.count) slides done"))
                return .stopped(slides: status.slides.count)
            }
            let slideSplit = split.split(of: entry.patientID)!
            let started = Date()
            do {
                let kept = try tileSlide(entry, split: slideSplit, manifest: manifest, tiler: tiler)
                status.slides[entry.slideID] = SlideStatus(state: .done, split: slideSplit, tilesKept: kept.kept,
                                                           tilesConsidered: kept.considered, tilesDropped: kept.dropped)
                tilesSoFar += kept.kept
                secondsSoFar += Date().timeIntervalSince(started)
                try task.save(status)
                progress.advance(note: "\(entry.slideID): \(kept.kept)/\(kept.considered) tiles kept\(Self.dropNote(kept.dropped)); \(tilesSoFar) tiles, \(String(format: "%.1f", Double(tilesSoFar) / max(secondsSoFar, 1e-3))) tiles/s")
            } catch let failure as SlideFailure {
                Log.warning("\(entry.slideID) (\(entry.slidePath)) skipped at stage \(failure.stage.rawValue): \(failure.message)")
                status.slides[entry.slideID] = SlideStatus(state: .failed, split: slideSplit, tilesKept: 0, tilesConsidered: 0,
                                                           stage: failure.stage, message: failure.message)
                try task.save(status)
                progress.advance(note: "\(entry.slideID) FAILED")
            }
            // Whatever else is thrown ends the task: the slide is not recorded, a re-run redoes it.
        }

        do { try mergeFragments(mine: mine, status: status, manifest: manifest) } catch {
            throw task.environmentFailure(error) ?? error
        }
        try task.finish(&status)
        return outcome(status)
    }

    private var layout: ResumableTask<TaskStatus>.Layout {
        let part = TileStoreLayout.partFileName(task: options.share.shard, taskCount: options.share.shards)
        let name = options.share.taskName
        let work = workFolder
        let temporaries: [(folder: URL, isOurs: (String) -> Bool)] = [(work, { _ in true })]
            + (TileStoreLayout.splits + [TileStoreLayout.statusFolder]).map { split in
                // Only our task's names: our part files, our status. Test slides' temporaries are
                // named by slide and may be another task's, so they are left alone.
                (store.appendingPathComponent(split), { (n: String) in n.contains(name) || n.contains(part) })
            }
        return .init(label: options.share.label, statusURL: statusURL, workFolder: workFolder,
                     lockURL: lockURL, output: store, temporaries: temporaries, keepsWorkForRetry: false)
    }

    // MARK: One slide

    struct SlideFailure: Error {
        let stage: FailureStage
        let message: String
    }

    /// A writing error as the task-ending environment failure it may be: by its errno, or, for a
    /// write error that names none, by a probe write into the work folder.
    private func environmentFailure(_ error: Error) -> EnvironmentFailure? {
        if let failure = EnvironmentFailure(classifying: error, folder: store) { return failure }
        if let code = EnvironmentFailure.probe(workFolder) { return EnvironmentFailure(folder: store.path, code: code, detail: "\(error)") }
        return nil
    }

    func fragmentURL(_ slideID: String) -> URL { workFolder.appendingPathComponent("\(slideID).h5") }

    func attributes(split: Split, classes: [String]) -> TileStoreAttributes {
        TileStoreAttributes(
            split: split.rawValue, classes: classes, tiling: spec,
            splitSeed: options.splitSeed, splitFractions: options.splitFractions, tesseraVersion: TesseraVersion.current,
            created: utcTimestamp(), task: options.share.shard, taskCount: options.share.shards)
    }

    /// Tiles one slide into its fragment file. Any failure discards the fragment and is thrown as a
    /// `SlideFailure` with the stage it happened in.
    private func tileSlide(_ entry: ManifestEntry, split: Split, manifest: SlideManifest,
                           tiler: SlideTiler) throws -> (kept: Int, considered: Int, dropped: [String: Int]) {
        let source: any SlideSource
        do { source = try SlideSources.open(path: entry.slidePath, choice: options.slideReader) } catch {
            throw SlideFailure(stage: .open, message: "\(error)")
        }
        let slide = source.slide
        let plan: TilingPlan
        do { plan = try tiler.plan(for: source) } catch {
            throw SlideFailure(stage: .metadata, message: "\(error)")
        }
        let labelIndex = Int32(entry.label.flatMap { manifest.classes.firstIndex(of: $0) } ?? -1)
        let writer: TileStoreWriter
        do {
            writer = try TileStoreWriter(url: fragmentURL(entry.slideID), attributes: attributes(split: split, classes: manifest.classes))
        } catch {
            if let failure = environmentFailure(error) { throw failure }
            throw SlideFailure(stage: .write, message: "\(error)")
        }
        let (w0, h0) = slide.dimensions(level: 0)
        var record = SlideRecord(slideID: entry.slideID, patientID: entry.patientID, label: entry.label, mpp: plan.mpp,
                                 level: plan.level, downsample: plan.downsample, width: w0, height: h0,
                                 reader: source.kind.rawValue)
        let slideIndex = writer.beginSlide(record)
        let tileProgress = plan.count > 2000 ? ProgressLog("  \(entry.slideID) tiles", total: plan.count, unit: "tiles", interval: 30) : nil
        var lastDone = 0
        do {
            let summary = try tiler.run(source: source, plan: plan, sink: { tiles in
                for t in tiles {
                    let r = TileRecord(label: labelIndex, x: Int64(t.x), y: Int64(t.y), background: t.background)
                    if options.encoding == .jpeg {
                        try writer.addTile(encoded: t.bytes, record: r, digest: t.digest)
                    } else {
                        try writer.addTile(raw: RGBImage(width: options.tileSize, height: options.tileSize, pixels: t.bytes), record: r, digest: t.digest)
                    }
                }
            }, progress: { done, _ in
                tileProgress?.advance(by: done - lastDone)
                lastDone = done
            })
            if let counts = summary.decodeCounts { Log.info("\(entry.slideID): \(counts.summary)") }
            record.tilesKept = summary.kept
            record.tilesConsidered = summary.considered
            record.tilesDropped = summary.dropped.filter { $0.value != 0 }
            writer.updateSlide(slideIndex, record)
            do { try writeQC(entry.slideID, summary: summary, plan: plan) } catch {
                if let failure = environmentFailure(error) { throw failure }
                Log.warning("\(entry.slideID): no QC picture (\(error))")
            }
            try writer.finish()
            return (summary.kept, summary.considered, Dictionary(uniqueKeysWithValues: summary.dropped.map { ($0.key.rawValue, $0.value) }))
        } catch {
            writer.discard()
            let stage: FailureStage = error is OpenSlideError || error is SlideReadError ? .read : (error is TileStoreError ? .write : .encode)
            if stage == .write, let failure = environmentFailure(error) { throw failure }
            throw SlideFailure(stage: stage, message: "\(error)")
        }
    }

    /// `STORE/qc/<slide_id>.csv` and `.jpg`, each written atomically. Rewritten when a slide is redone.
    private func writeQC(_ slideID: String, summary: SlideTilingSummary, plan: TilingPlan) throws {
        let folder = store.appendingPathComponent(TileStoreLayout.qcFolder)
        func number(_ v: Double?) -> String { v.map { $0.isFinite ? String(format: "%.4g", $0) : "inf" } ?? "" }
        let rows = summary.decisions.map {
            ["\($0.x)", "\($0.y)", $0.dropped?.rawValue ?? "kept", number($0.inkFraction), number($0.focus), number($0.foldShare), number($0.rimLength),
             number($0.blockFocus)]
        }
        let header = ["x", "y", "decision", "ink_fraction", "focus", "fold_share", "rim_length", "block_focus"]
        try AtomicFile.write(Data(CSV.document(header: header, rows: rows).utf8),
                             to: folder.appendingPathComponent("\(slideID).csv"))
        guard let thumbnail = summary.thumbnail else { return }
        let picture = QCPicture.render(thumbnail: thumbnail.image, downsample: thumbnail.downsample,
                                       tileSpan: Int((Double(options.tileSize) * plan.downsample).rounded(.up)),
                                       decisions: summary.decisions.map { ($0.x, $0.y, $0.dropped) }, dropped: summary.dropped)
        try AtomicFile.write(Data(try JPEGEncoder(quality: 85).encode(picture)), to: folder.appendingPathComponent("\(slideID).jpg"))
    }

    /// ", dropped: 3 background, 2 pen" (mask skips left out: they are glass).
    static func dropNote(_ dropped: [String: Int]) -> String {
        let parts = TileDropReason.allCases.filter { $0 != .mask }.compactMap { r in
            dropped[r.rawValue].flatMap { $0 > 0 ? "\($0) \(r.rawValue)" : nil }
        }
        return parts.isEmpty ? "" : ", dropped: " + parts.joined(separator: ", ")
    }

    // MARK: Status

    private func makeParameters(manifest: SlideManifest) throws -> TilingParameters {
        let data = try Data(contentsOf: options.manifest)
        return TilingParameters(
            manifestDigest: String(stableHash(bytes: data), radix: 16), classes: manifest.classes, tiling: spec,
            assumeMPP: options.assumeMPP, overlap: options.overlap, splitFractions: options.splitFractions,
            splitSeed: options.splitSeed, shards: options.share.shards, tissueMask: options.tissueMask)
    }

    private func loadStatus(_ task: ResumableTask<TaskStatus>, parameters: TilingParameters) throws -> TaskStatus {
        let fm = FileManager.default
        let status = try task.start(parameters: parameters, resetOutputs: {
            try? fm.removeItem(at: failuresURL)
            for split in [Split.train, .validation] { try? fm.removeItem(at: partURL(split)) }
        }, mismatch: { differences in
            TesseraError.invalidInput(
                path: statusURL.path,
                message: "this store was tiled with other parameters:\n  " + differences.map(\.description).joined(separator: "\n  "),
                hint: "to go on with this store, give the values left of each arrow (e.g. --qc pen,blur for a store tiled before the "
                    + "bubble check became a default); else use another --store, or --force to redo this task with the new parameters "
                    + "(all tasks must use the same ones)")
        })
        if task.reopened { try carryParts() }
        // A slide marked done whose fragment vanished (e.g. a copied store) is redone.
        var checked = status
        if !status.complete {
            let carried = try carriedSlides()
            for (id, s) in status.slides where s.state == .done {
                let movedTest = s.split == .test && fm.fileExists(atPath: testURL(id).path)
                if !fm.fileExists(atPath: fragmentURL(id).path) && !movedTest && !carried.contains(id) { checked.slides[id] = nil }
            }
        }
        return checked
    }

    private func outcome(_ status: TaskStatus) -> TaskOutcome {
        let done = status.slides.values.filter { $0.state == .done }
        let tiles = done.reduce(0) { $0 + $1.tilesKept }
        return TaskOutcome(slides: done.count, tiles: tiles, failed: status.slides.values.count - done.count)
    }
}
