import Foundation
import TesseraCore

/// Combines the parts of an N-task prediction run into the final files: slides.csv, patients.csv,
/// tiles.csv (when asked for), failures.csv, report.md and report.json — sorted by slide (and
/// patient) id — after checking that every task finished, that they ran with the same
/// parameters, and that every planned slide is there exactly once. With `milRun`, a MIL run's
/// slide predictions and attention are attached (`MILAttachment`).
public struct PredictionMerge {
    public struct Options: Sendable {
        public var output: URL
        /// The task count of the run to merge; needed only when runs with different counts
        /// left parts in the same folder.
        public var expectShards: Int?
        public var bootstrap = 1000
        public var seed: UInt64 = 1
        /// A `tessera-mil predict` output folder: its ABMIL predictions join the files when its
        /// mil-slides.csv exists.
        public var milRun: URL?

        public init(output: URL) { self.output = output }
    }

    public enum Outcome: Equatable, Sendable {
        case allDone(slides: Int)
        case doneWithFailures(slides: Int, failed: Int)
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    public func run() throws -> Outcome {
        let out = options.output
        let plan = try loadPlan()
        let n = plan.taskCount
        let classes = plan.parameters.classes

        // Every task finished, with the plan's parameters.
        var unfinished: [Int] = [], problems: [String] = []
        var statuses: [PredictionTaskStatus] = []
        for task in 0..<n {
            let url = PredictionLayout.File.status.url(in: PredictionLayout.partFolder(out, task: task, taskCount: n))
            guard FileManager.default.fileExists(atPath: url.path) else { unfinished.append(task); continue }
            let status = try JSONFile.read(PredictionTaskStatus.self, from: url, hint: "re-run task \(task) with --force", keys: .snakeCase)
            guard status.complete else { unfinished.append(task); continue }
            if status.parameters != plan.parameters {
                problems.append("task \(task) ran with other parameters than the plan: " + plan.parameters.differences(from: status.parameters).map(\.description).joined(separator: "; "))
            }
            statuses.append(status)
        }
        if !unfinished.isEmpty { throw PredictionError.unfinishedTasks(out: out.path, tasks: unfinished, taskCount: n) }

        // Every planned slide exactly once.
        var slides: [SlidePrediction] = [], tiles: [String: TileScores] = [:], failures: [[String]] = []
        var seenIn: [String: [Int]] = [:], placements: [String: SlidePlacement] = [:], stainCounts: [SlideStainCounts] = []
        for task in 0..<n {
            let folder = PredictionLayout.partFolder(out, task: task, taskCount: n)
            for row in try readCSV(PredictionLayout.File.slides.url(in: folder), header: SlidePrediction.header(classes: classes), problems: &problems) {
                do {
                    let s = try SlidePrediction(fields: row.fields, classes: classes)
                    seenIn[s.slideID, default: []].append(task)
                    slides.append(s)
                } catch {
                    problems.append("\(folder.lastPathComponent)/\(PredictionLayout.File.slides.rawValue) line \(row.line): \(error)")
                }
            }
            try readTiles(PredictionLayout.File.tiles.url(in: folder), classes: classes, into: &tiles, problems: &problems)
            let placementsURL = PredictionLayout.File.placements.url(in: folder)
            if FileManager.default.fileExists(atPath: placementsURL.path) {
                placements.merge(try JSONFile.read([String: SlidePlacement].self, from: placementsURL, hint: "re-run task \(task) with --force")) { a, _ in a }
            }
            let stainURL = PredictionLayout.File.stainCounts.url(in: folder)
            if FileManager.default.fileExists(atPath: stainURL.path) {
                stainCounts += try JSONFile.read([SlideStainCounts].self, from: stainURL, hint: "re-run task \(task) with --force")
            }
            failures += try readCSV(PredictionLayout.File.failures.url(in: folder), header: PredictionLayout.failuresHeader,
                                    problems: &problems).map(\.fields)
        }
        let planned = Dictionary(uniqueKeysWithValues: plan.slides.map { ($0.slideID, $0.task) })
        for (id, tasks) in seenIn.sorted(by: { $0.key < $1.key }) where tasks.count > 1 {
            problems.append("slide \(id) is duplicated: in the parts of tasks \(tasks.map(String.init).joined(separator: ", "))")
        }
        for (id, tasks) in seenIn.sorted(by: { $0.key < $1.key }) where planned[id] == nil {
            problems.append("slide \(id) (task \(tasks[0])) is not in the plan of this run")
        }
        for entry in plan.slides where seenIn[entry.slideID] == nil {
            problems.append("slide \(entry.slideID) is missing: task \(entry.task) should have predicted it")
        }
        for s in slides where s.outcome == .ok {
            if tiles[s.slideID]?.count != s.aggregate?.tiles {
                problems.append("slide \(s.slideID): \(s.aggregate?.tiles ?? 0) tiles in slides.csv, \(tiles[s.slideID]?.count ?? 0) in tiles.csv")
            }
        }
        if !problems.isEmpty { throw PredictionError.inconsistentParts(out: out.path, problems: problems) }

        // The final files.
        slides.sort { $0.slideID < $1.slideID }
        failures.sort { $0[0] < $1[0] }
        let mil = try options.milRun.flatMap { try MILAttachment.load(run: $0, classes: classes) }
        if let mil { _ = mil.attach(to: &slides) }
        let abmil = mil != nil
        let patients = PatientAggregator.aggregate(slides, classes: classes.count)
        try AtomicFile.write(Data(CSV.document(header: SlidePrediction.header(classes: classes, abmil: abmil),
                                               rows: slides.map { $0.fields(classes: classes, abmil: abmil) }).utf8),
                             to: PredictionLayout.File.slides.url(in: out))
        try AtomicFile.write(Data(CSV.document(header: PatientPrediction.header(classes: classes, abmil: abmil),
                                               rows: patients.map { $0.fields(classes: classes, abmil: abmil) }).utf8),
                             to: PredictionLayout.File.patients.url(in: out))
        try AtomicFile.write(Data(CSV.document(header: PredictionLayout.failuresHeader, rows: failures).utf8),
                             to: PredictionLayout.File.failures.url(in: out))
        let tilesURL = PredictionLayout.File.tiles.url(in: out)
        if plan.parameters.tileScores {
            let file = try StreamedFile(tilesURL)
            try file.write(CSV.line(TileScores.header(classes: classes)) + "\n")
            for s in slides { if let t = tiles[s.slideID] { try file.write(t.csvLines(slideID: s.slideID)) } }
            try file.commit()
        } else {
            try? FileManager.default.removeItem(at: tilesURL)
        }
        let report = PredictionReport.build(model: plan.model, source: plan.sourceDescription, classes: classes, slides: slides,
                                            patients: patients, tiles: tiles,
                                            stain: plan.model.stainNormalization == nil ? nil : stainCounts.sorted { $0.slideID < $1.slideID },
                                            bootstrap: .init(resamples: options.bootstrap, seed: options.seed),
                                            created: utcTimestamp())
        try AtomicFile.write(try report.json(), to: PredictionLayout.File.reportJSON.url(in: out))
        try AtomicFile.write(Data(report.markdown().utf8), to: PredictionLayout.File.reportMarkdown.url(in: out))
        try mil?.writeAttentionOutputs(slides: slides, tiles: tiles, placements: placements, classes: classes, parameters: plan.parameters, output: out)
        let failed = report.counts.slidesFailed
        Log.info("merged \(n) task\(n == 1 ? "" : "s") into \(out.path): \(slides.count) slides (\(report.counts.slidesPredicted) predicted, "
            + "\(report.counts.slidesWithoutTissue) without tissue tiles, \(failed) failed), \(patients.count) patients, \(report.counts.tiles) tiles"
            + (report.slide.meanProbability.map { String(format: "; slide accuracy %.3f (mean probability)", $0.accuracy) } ?? "")
            + (report.summary.stainUnnormalizedTiles.map { "; \($0) of \($0 + report.summary.stainNormalizedTiles!) tiles left unnormalised (too little tissue)" } ?? "")
            + (report.slide.abmil.map { String(format: ", %.3f (ABMIL, %d slides)", $0.accuracy, $0.count) } ?? ""))
        return failed == 0 ? .allDone(slides: slides.count) : .doneWithFailures(slides: slides.count, failed: failed)
    }

    /// The plan of the run: of `expectShards` tasks, or the only one there is.
    private func loadPlan() throws -> PredictionPlan {
        let parts = PredictionLayout.Folder.parts.url(in: options.output)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: parts.path)) ?? [])
            .filter { $0.hasPrefix("plan-of-") && $0.hasSuffix(".json") }.sorted()
        let url: URL
        if let n = options.expectShards {
            url = PredictionLayout.planURL(options.output, taskCount: n)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw PredictionError.noParts(out: options.output.path,
                                              message: "no run of \(n) tasks here (\(url.lastPathComponent) is missing)"
                                                  + (names.isEmpty ? "" : "; found \(names.joined(separator: ", "))")
                                                  + "\nhint: check --out and --expect-shards")
            }
        } else {
            guard let only = names.first else {
                throw PredictionError.noParts(out: options.output.path, message: "no prediction tasks have run here (no parts/plan-of-N.json)\nhint: check --out")
            }
            guard names.count == 1 else {
                throw PredictionError.noParts(out: options.output.path, message: "runs with different task counts left parts here (\(names.joined(separator: ", ")))\nhint: give --expect-shards N for the run to merge")
            }
            url = parts.appendingPathComponent(only)
        }
        return try JSONFile.read(PredictionPlan.self, from: url, hint: "re-run the prediction tasks", keys: .snakeCase)
    }

    private func readCSV(_ url: URL, header: [String], problems: inout [String]) throws -> [(line: Int, fields: [String])] {
        let records: [(line: Int, fields: [String])]
        do { records = try CSV.parse(String(contentsOf: url, encoding: .utf8)) } catch {
            problems.append("\(url.path): unreadable (\(error))")
            return []
        }
        guard records.first?.fields == header else {
            problems.append("\(url.path): header is \(records.first?.fields.joined(separator: ",") ?? "missing"), expected \(header.joined(separator: ","))")
            return []
        }
        return Array(records.dropFirst())
    }

    /// Reads a part's tiles.csv line by line (it may be large): plain lines are split at commas,
    /// and only a line with a quoted slide id goes through the full CSV parser.
    private func readTiles(_ url: URL, classes: [String], into tiles: inout [String: TileScores], problems: inout [String]) throws {
        let c = classes.count
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            problems.append("\(url.path): unreadable (\(error.localizedDescription))")
            return
        }
        var line = 0
        for bytes in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            line += 1
            let text = String(decoding: bytes, as: UTF8.self)
            var f: [String]
            if text.contains("\"") {
                f = (try? CSV.parse(text))?.first?.fields ?? []
            } else {
                f = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            }
            if let last = f.last, last.hasSuffix("\r") { f[f.count - 1] = String(last.dropLast()) }
            if line == 1 {
                if f != TileScores.header(classes: classes) {
                    problems.append("\(url.path): header is \(f.joined(separator: ",")), expected \(TileScores.header(classes: classes).joined(separator: ","))")
                    return
                }
                continue
            }
            let p = f.count == 5 + c ? f[5...].compactMap(DecimalText.parseFloat) : []
            let width = f.count == 5 + c ? Int(f[3]) : nil, height = f.count == 5 + c ? Int(f[4]) : nil
            guard f.count == 5 + c, let x = Int(f[1]), let y = Int(f[2]), p.count == c,
                  (width == nil) == f[3].isEmpty, (height == nil) == f[4].isEmpty else {
                problems.append("\(url.path) line \(line): not a tile row (slide_id, x, y, width, height and \(c) probabilities)")
                continue
            }
            tiles[f[0], default: TileScores(classes: c)].append(x: x, y: y, probabilities: p)
            tiles[f[0]]!.tileWidth = width
            tiles[f[0]]!.tileHeight = height
        }
        if line == 0 { problems.append("\(url.path): empty, expected a header row") }
    }
}
