import Foundation
import JPEG
import TesseraCore
import Tiling

/// How thoroughly and how fast `StoreAudit` works.
public struct StoreAuditOptions: Sendable {
    /// Decode every JPEG tile fully (or read every raw tile). Off: everything else is still checked.
    public var checkPixels: Bool
    /// Threads decoding tiles, one `JPEGDecoder` each.
    public var workers: Int
    /// Tiles read per batch (one merged read) before they are decoded in parallel.
    public var batchTiles: Int
    /// Seconds between progress lines on standard error.
    public var progressInterval: Double
    /// Examples listed in a problem that many tiles or patients share.
    public var examplesPerProblem: Int
    /// List what the tiler's status says is missing without failing the audit (`--allow-partial-store`).
    public var allowPartialStore = false

    public init(checkPixels: Bool = true, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                batchTiles: Int = 512, progressInterval: Double = 10, examplesPerProblem: Int = 5) {
        precondition(workers >= 1 && batchTiles >= 1 && examplesPerProblem >= 1, "audit options must be positive")
        self.checkPixels = checkPixels
        self.workers = workers
        self.batchTiles = batchTiles
        self.progressInterval = progressInterval
        self.examplesPerProblem = examplesPerProblem
    }
}

/// Summarises a store folder and verifies it (see `TileStoreSchema` for the layout):
///
/// - every .h5 file of train/, validation/ and test/ opens as a tile store of this schema version;
/// - all files agree on the tiling parameters (classes, tile size, encoding, target, filter, split);
/// - each file is in the folder of its `split`; each test file holds one slide and is named after it;
/// - slide tables: labels are classes, `tiles_kept` is the number of tiles of the slide, ≤ considered;
/// - tile columns: labels in range and equal to their slide's, slide indices in range and in
///   order (a slide's tiles contiguous), top-left corners inside the slide, background fractions in 0…max_background, JPEG byte ranges inside
///   the byte dataset;
/// - every tile decodes fully to tile_size² pixels (raw: every tile's pixels read);
/// - no slide appears twice, no patient is in two splits, and splits.csv (when present) agrees;
/// - no two slides have the same content digest (the same slide file tiled twice) in two splits or
///   under two patients;
/// - every chunk read passes its Fletcher-32 checksum: damaged tiles are named;
/// - every file and slide the tiler's status files (status/task-*.json) record as written is there
///   (`StoreCompleteness`);
/// - the tiler's failures (failures/*.csv) are listed, not counted as problems.
public enum StoreAudit {
    /// Audits `store`. Problems found are in the report; only a failure to start the JPEG decoder throws.
    public static func run(store: URL, options: StoreAuditOptions = StoreAuditOptions()) throws -> StoreAuditReport {
        try StoreAuditRun(store: store, options: options).run()
    }
}

/// One audit: the state shared by its passes.
/// The checks of files, slides and splits are here; the tile-by-tile pass is in StoreAudit+Tiles.swift.
final class StoreAuditRun {
    let store: URL
    let options: StoreAuditOptions
    var report: StoreAuditReport

    /// What the first pass learnt of a readable file.
    struct SurveyedFile {
        let url: URL
        let relative: String
        let folder: String
        let attributes: TileStoreAttributes
        let slides: [SlideRecord]
        let tileCount: Int
        let contentDigests: [String]
        /// Tiles per slide, as counted in the tile columns (the slide table's until then).
        var tilesPerSlide: [Int]
        var tilesPerLabel: [Int32: Int] = [:]
    }
    var surveyed: [SurveyedFile] = []

    init(store: URL, options: StoreAuditOptions) {
        self.store = store
        self.options = options
        report = StoreAuditReport(store: store.path)
    }

    func problem(_ kind: AuditProblem.Kind, _ file: String?, _ message: String) {
        report.problems.append(AuditProblem(kind, file: file, message))
    }

    func relative(_ url: URL) -> String {
        "\(url.deletingLastPathComponent().lastPathComponent)/\(url.lastPathComponent)"
    }

    func run() throws -> StoreAuditReport {
        let urls = TileStoreLayout.storeFiles(in: store)
        if urls.isEmpty {
            problem(.noFiles, nil, "no .h5 files in \(TileStoreLayout.splits.map { "\($0)/" }.joined(separator: ", "))")
        }
        for url in urls { survey(url) }
        if let reference = surveyed.first {
            let a = reference.attributes
            report.classes = a.classes
            report.tileSize = a.tileSize
            report.encoding = a.encoding
            (report.targetMPP, report.targetMagnification, report.level) = a.tiling.target.fields
            let t = a.tiling
            report.qc = "tissue rule \(t.tissueRule.rawValue); QC \(t.qc)" + (t.qc == .none ? "" : " (pen max \(t.penMax), blur min \(t.blurMin)"
                + (t.blurBlockMin > 0 ? ", blur block min \(t.blurBlockMin)" : "")
                + (t.qc.contains(.fold) ? ", fold max \(t.foldMax)" : "") + (t.qc.contains(.bubble) ? ", bubble max \(t.bubbleMax)" : "") + ")")
            for other in surveyed.dropFirst() {
                let differences = other.attributes.tilingDifferences(from: a)
                if !differences.isEmpty {
                    problem(.mismatchedParameters, other.relative,
                            "tiling parameters differ from \(reference.relative)'s: \(differences.joined(separator: "; "))")
                }
            }
        }
        checkPlacement()
        checkCompleteness()
        checkSameContent()
        let patients = checkSlidesAcrossFiles()
        checkSplitsFile(patients)
        readFailures()
        try checkTiles()
        summarise()
        return report
    }

    // MARK: Files

    /// Pass 1: opens each file for its attributes and slide table.
    func survey(_ url: URL) {
        let relative = relative(url)
        let folder = url.deletingLastPathComponent().lastPathComponent
        let bytes = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        do {
            let reader = try TileStoreReader(url: url)
            defer { try? reader.close() }
            report.files.append(FileSummary(path: relative, split: folder, readable: true, slides: reader.slides.count,
                                            tiles: reader.tileCount, bytes: bytes))
            surveyed.append(SurveyedFile(url: url, relative: relative, folder: folder, attributes: reader.attributes,
                                         slides: reader.slides, tileCount: reader.tileCount, contentDigests: reader.contentDigests,
                                         tilesPerSlide: reader.slides.map(\.tilesKept)))
        } catch {
            report.files.append(FileSummary(path: relative, split: folder, readable: false, slides: 0, tiles: 0, bytes: bytes))
            problem(kind(of: error), relative, message(of: error))
        }
    }

    func kind(of error: any Error) -> AuditProblem.Kind {
        switch error as? TileStoreError {
        case .damagedTile?: return .damagedTile
        case .damagedData?: return .damagedFile
        default: return .unreadableFile
        }
    }

    func message(of error: any Error) -> String {
        (error as? TileStoreError)?.message ?? "\(error)"
    }

    func checkPlacement() {
        for file in surveyed {
            if file.attributes.split != file.folder {
                problem(.misplacedFile, file.relative,
                        "its split attribute is \"\(file.attributes.split)\" but it is in \(file.folder)/")
            }
            guard file.folder == TileStoreLayout.testSplit else { continue }
            if file.slides.count != 1 {
                problem(.misplacedFile, file.relative, "a test file holds exactly one slide; this one holds \(file.slides.count)")
            } else if file.url.lastPathComponent != "\(file.slides[0].slideID).\(TileStoreLayout.fileExtension)" {
                problem(.misplacedFile, file.relative,
                        "holds slide \(file.slides[0].slideID), so it should be named \(file.slides[0].slideID).\(TileStoreLayout.fileExtension)")
            }
        }
    }

    /// Against the tiler's status files: files missing, and slides missing from files that are there.
    func checkCompleteness() {
        let completeness = StoreCompleteness.check(store: store)
        report.completenessChecked = completeness.verifiable
        var missing = completeness.missing
        for file in surveyed {
            guard let expected = completeness.expected[file.relative] else { continue }
            let present = Set(file.slides.map(\.slideID))
            let absent = expected.filter { !present.contains($0) }
            if !absent.isEmpty {
                missing.append("\(file.relative) lacks \(absent.count) slide\(absent.count == 1 ? "" : "s") its task recorded as done: \(absent.joined(separator: ", "))")
            }
        }
        report.missing = missing
        guard !missing.isEmpty, !options.allowPartialStore else { return }
        for line in missing { problem(.incompleteStore, nil, "missing: \(line)") }
    }

    /// Slides with one content digest in two splits or under two patients: one slide file listed
    /// twice (under two ids), which leaks between training and evaluation.
    func checkSameContent() {
        var byDigest: [String: [(slide: SlideRecord, file: SurveyedFile)]] = [:]
        var order: [String] = []
        for file in surveyed {
            for (s, slide) in file.slides.enumerated() where !file.contentDigests[s].isEmpty {
                let digest = file.contentDigests[s]
                if byDigest[digest] == nil { order.append(digest) }
                byDigest[digest, default: []].append((slide, file))
            }
        }
        for digest in order {
            let copies = byDigest[digest]!
            guard Set(copies.map(\.file.folder)).count > 1 || Set(copies.map(\.slide.patientID)).count > 1 else { continue }
            let listed = copies.map { "\($0.slide.slideID) (patient \($0.slide.patientID), \($0.file.folder), \($0.file.relative))" }
            problem(.sameSlideContent, copies.last!.file.relative,
                    "the same slide content (digest \(digest)) appears \(copies.count) times: \(listed.joined(separator: " and ")); "
                    + "one slide file was listed twice, so it leaks between splits or patients")
        }
    }

    /// Duplicate slides and patients in two splits; returns each patient's split → files.
    func checkSlidesAcrossFiles() -> [String: [String: [String]]] {
        var slideFiles: [String: [String]] = [:]
        var patients: [String: [String: [String]]] = [:]
        var slideOrder: [String] = []
        for file in surveyed {
            for slide in file.slides {
                if slideFiles[slide.slideID] == nil { slideOrder.append(slide.slideID) }
                slideFiles[slide.slideID, default: []].append(file.relative)
                // Patients compare case-insensitively: tcga-sy-0001 and TCGA-SY-0001 are one person.
                let patient = slide.patientID.uppercased()
                if !(patients[patient]?[file.folder]?.contains(file.relative) ?? false) {
                    patients[patient, default: [:]][file.folder, default: []].append(file.relative)
                }
            }
        }
        for id in slideOrder where slideFiles[id]!.count > 1 {
            let files = slideFiles[id]!
            problem(.duplicateSlide, files.last!, "slide \(id) appears \(files.count) times: in \(files.joined(separator: ", "))")
        }
        for patient in patients.keys.sorted() where patients[patient]!.count > 1 {
            let bySplit = patients[patient]!
            let splits = TileStoreLayout.splits.filter { bySplit[$0] != nil } + bySplit.keys.filter { !TileStoreLayout.splits.contains($0) }.sorted()
            let placed = splits.map { "\($0) (\(bySplit[$0]!.joined(separator: ", ")))" }
            problem(.patientInTwoSplits, bySplit[splits.last!]!.first!,
                    "patient \(patient) is in \(splits.count) splits: \(placed.joined(separator: " and "))")
        }
        return patients
    }

    func checkSplitsFile(_ patients: [String: [String: [String]]]) {
        let name = TileStoreLayout.splitsFile
        let url = store.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path),
              let rows = readCSV(url, named: name, header: TileStoreLayout.splitsHeader, kind: .splitsFile)
        else { return }
        var listed: [String: String] = [:]
        var malformed: [String] = []
        for (line, row) in rows.dropFirst() {
            guard row.count == 2, TileStoreLayout.splits.contains(row[1]) else {
                malformed.append("line \(line): \"\(CSV.line(row))\"")
                continue
            }
            let patient = row[0].uppercased()
            if let earlier = listed[patient], earlier != row[1] {
                problem(.patientInTwoSplits, name, "patient \(row[0]) is listed in both \(earlier) and \(row[1])")
            }
            listed[patient] = row[1]
        }
        report(.splitsFile, name, "lines that are not \"patient_id,split\" with a split of \(TileStoreLayout.splits.joined(separator: "/"))", malformed)
        var missing: [String] = []
        for patient in patients.keys.sorted() {
            for (split, files) in patients[patient]!.sorted(by: { $0.key < $1.key }) {
                guard let expected = listed[patient] else {
                    missing.append("\(patient) (\(split))")
                    continue
                }
                if expected != split {
                    problem(.patientInTwoSplits, files[0],
                            "patient \(patient) is in \(split) here but in \(expected) in \(name)")
                }
            }
        }
        report(.splitsFile, name, "patients of the store missing from it", Array(Set(missing)).sorted())
    }

    /// The rows of one of the store's CSV files (`named` relative to the store), header first; nil,
    /// with the problem recorded, when it is not UTF-8 CSV or its header is not `header`.
    func readCSV(_ url: URL, named name: String, header: [String], kind: AuditProblem.Kind) -> [(line: Int, fields: [String])]? {
        let rows: [(line: Int, fields: [String])]
        do {
            rows = try CSV.parse(try String(contentsOf: url, encoding: .utf8))
        } catch {
            problem(kind, name, "cannot be read as UTF-8 CSV: \(error)")
            return nil
        }
        guard rows.first?.fields == header else {
            problem(kind, name, "its header is \"\(rows.first?.fields.joined(separator: ",") ?? "")\", expected \"\(CSV.line(header))\"")
            return nil
        }
        return rows
    }

    /// One problem for many similar findings: "what (N): a, b, c, and M more".
    func report(_ kind: AuditProblem.Kind, _ file: String?, _ what: String, _ examples: [String]) {
        guard !examples.isEmpty else { return }
        let shown = examples.prefix(options.examplesPerProblem).joined(separator: ", ")
        let more = examples.count > options.examplesPerProblem ? ", and \(examples.count - options.examplesPerProblem) more" : ""
        problem(kind, file, "\(what) (\(examples.count)): \(shown)\(more)")
    }

    func readFailures() {
        let folder = store.appendingPathComponent(TileStoreLayout.failuresFolder)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".csv") && !$0.hasPrefix(".") }.sorted()
        for name in names {
            let relative = "\(TileStoreLayout.failuresFolder)/\(name)"
            guard let rows = readCSV(folder.appendingPathComponent(name), named: relative, header: TileStoreLayout.failuresHeader,
                                     kind: .failuresFile)
            else { continue }
            var malformed: [String] = []
            for (line, row) in rows.dropFirst() {
                guard row.count == 4 else {
                    malformed.append("line \(line)")
                    continue
                }
                report.failures.append(TilerFailure(file: relative, slideID: row[0], slidePath: row[1], stage: row[2], message: row[3]))
            }
            report(.failuresFile, relative, "lines without 4 fields", malformed)
        }
    }

    // MARK: Summary

    func summarise() {
        var total = SplitSummary(split: "total")
        var allPatients: Set<String> = []
        var allCounts: [Int] = []
        for name in TileStoreLayout.splits where report.files.contains(where: { $0.split == name }) {
            var summary = SplitSummary(split: name)
            summary.files = report.files.filter { $0.split == name }.count
            var patients: Set<String> = []
            var counts: [Int] = []
            for class_ in report.classes { summary.tilesPerClass[class_] = 0 }
            for file in surveyed where file.folder == name {
                summary.slides += file.slides.count
                summary.tiles += file.tileCount
                summary.tilesConsidered += file.slides.reduce(0) { $0 + $1.tilesConsidered }
                for slide in file.slides where !slide.tilesDropped.isEmpty {
                    var dropped = summary.tilesDropped ?? [:]
                    for (reason, n) in slide.tilesDropped { dropped[reason.rawValue, default: 0] += n }
                    summary.tilesDropped = dropped
                }
                patients.formUnion(file.slides.map { $0.patientID.uppercased() })
                counts += file.tilesPerSlide
                for (label, n) in file.tilesPerLabel {
                    if label == TileStoreSchema.unlabelled {
                        summary.unlabelledTiles += n
                    } else if Int(label) < file.attributes.classes.count {
                        summary.tilesPerClass[file.attributes.classes[Int(label)], default: 0] += n
                    }
                }
            }
            summary.patients = patients.count
            summary.slidesWithoutTiles = counts.filter { $0 == 0 }.count
            summary.tilesPerSlide = Distribution(counts)
            report.splits.append(summary)

            total.files += summary.files
            total.slides += summary.slides
            total.tiles += summary.tiles
            total.unlabelledTiles += summary.unlabelledTiles
            total.slidesWithoutTiles += summary.slidesWithoutTiles
            total.tilesConsidered += summary.tilesConsidered
            if let dropped = summary.tilesDropped {
                total.tilesDropped = (total.tilesDropped ?? [:]).merging(dropped, uniquingKeysWith: +)
            }
            for (class_, n) in summary.tilesPerClass { total.tilesPerClass[class_, default: 0] += n }
            allPatients.formUnion(patients)
            allCounts += counts
        }
        total.patients = allPatients.count
        total.tilesPerSlide = Distribution(allCounts)
        report.splits.append(total)
    }
}
