import Foundation
import TesseraCore

/// Writes a whole synthetic cohort into a folder:
///
///     DIR/cohort.json                         what it was generated from, and per-slide ground truth
///     DIR/slides/TCGA-SY-0001-01A-01-TS1.svs  one pyramidal slide per row of the manifest
///     DIR/manifest.csv                        slide_path,slide_id,patient_id,label (written last)
///
/// and, for the realistic profile:
///
///     DIR/manifest-heldout.csv                the slides of the held-out sites
///     DIR/truth/TCGA-44-0001-01A-01-TS1.geojson   each slide's regions (`SlideTruth`)
///     DIR/truth.csv                           each slide's class, site, purity, scan and artefacts
///
/// Re-running with the same options resumes: a slide whose file exists under its final name was
/// finished (slides are renamed into place when complete) and is kept. With other options, every
/// slide is rewritten and slides the new plan no longer has are removed.
public struct CohortSynthesizer {
    public let plan: CohortPlan
    public let directory: URL

    public struct Summary: Equatable, Sendable {
        public var written: Int
        public var kept: Int
    }

    public init(options: CohortOptions, directory: URL) {
        plan = CohortPlan(options: options)
        self.directory = directory
    }

    /// Generates the cohort. `force` rewrites every slide even if a previous run finished it.
    /// The caller has checked that the folder is absent, empty, or a previous cohort (or `force`).
    public func run(force: Bool, makeSink: PyramidSinkFactory) throws -> Summary {
        let fm = FileManager.default
        let slidesURL = directory.appendingPathComponent(CohortDirectory.slidesFolder)
        let recordURL = directory.appendingPathComponent(CohortDirectory.recordName)
        let manifestURL = directory.appendingPathComponent(CohortDirectory.manifestName)
        let record = CohortRecord(plan: plan, slidesFolder: CohortDirectory.slidesFolder)

        var resume = false
        if case let .previousCohort(previous) = CohortDirectory.inspect(directory) {
            if previous.options == plan.options && !force {
                resume = true
            } else {
                // Another cohort was here: its manifest no longer holds, and its extra slides go.
                try? fm.removeItem(at: manifestURL)
                let keep = Set(record.slides.map(\.slidePath))
                for old in previous.slides where !keep.contains(old.slidePath) {
                    try? fm.removeItem(at: directory.appendingPathComponent(old.slidePath))
                }
            }
        }
        do {
            try fm.createDirectory(at: slidesURL, withIntermediateDirectories: true)
        } catch {
            throw TesseraError.io(path: slidesURL.path, message: "cannot create the cohort folder: \(error.localizedDescription)",
                                  hint: "check that the parent folder exists and is writable")
        }
        removeStaleTemporaries(in: slidesURL)
        try AtomicFile.write(try record.encoded(), to: recordURL)

        let truthURL = directory.appendingPathComponent(CohortDirectory.truthFolder)
        let realistic = plan.options.realism != nil
        if realistic {
            do {
                try fm.createDirectory(at: truthURL, withIntermediateDirectories: true)
            } catch {
                throw TesseraError.io(path: truthURL.path, message: "cannot create the truth folder: \(error.localizedDescription)",
                                      hint: "check that the cohort folder is writable")
            }
        }
        var truthRows: [String] = []
        let progress = ProgressLog("slides", total: plan.slides.count, unit: "slides", interval: 5)
        var summary = Summary(written: 0, kept: 0)
        for (spec, entry) in zip(plan.slides, record.slides) {
            let url = directory.appendingPathComponent(entry.slidePath)
            let synthesizer = SlideSynthesizer(spec: spec, tileSize: plan.options.tileSize)
            if let regions = synthesizer.renderer.regions {
                let text = SlideTruth.geoJSON(slideID: spec.slideID, width: spec.width, height: spec.height, layout: regions)
                try AtomicFile.write(Data(text.utf8), to: truthURL.appendingPathComponent("\(spec.slideID).geojson"))
                truthRows.append(TruthTable.row(spec: spec, entry: entry, layout: regions))
            }
            if resume && fm.fileExists(atPath: url.path) {
                summary.kept += 1
                progress.advance(note: "kept \(spec.slideID) from the previous run")
                continue
            }
            try synthesizer.writeFile(at: url, makeSink: makeSink)
            summary.written += 1
            progress.advance(note: "\(spec.slideID) (\(spec.tissueClass.label), \(spec.scan.objectivePower)×)")
        }
        if realistic {
            try AtomicFile.write(Data((TruthTable.header + truthRows.joined()).utf8),
                                 to: directory.appendingPathComponent(CohortDirectory.truthTableName))
            try AtomicFile.write(Data(record.heldOutManifestCSV.utf8),
                                 to: directory.appendingPathComponent(CohortDirectory.heldOutManifestName))
        }
        try AtomicFile.write(Data(record.manifestCSV.utf8), to: manifestURL)
        return summary
    }

    /// Temporary files of an interrupted run (`.NAME.tmp-PID…`): never a finished slide.
    private func removeStaleTemporaries(in folder: URL) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names where name.hasPrefix(".") && name.contains(".tmp-") {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
    }
}
