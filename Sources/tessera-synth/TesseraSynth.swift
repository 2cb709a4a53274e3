import ArgumentParser
import Foundation
import SyntheticSlides
import TesseraCLI
import TesseraCore

@main
struct TesseraSynth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera-synth",
        abstract: "Generate a synthetic cohort of pyramidal H&E-like lung slides (Aperio .svs) and its manifest.",
        discussion: """
            Slides are tiled BigTIFF pyramids (JPEG, YCbCr 4:2:0; downsample 1, 4, 16, …) with an Aperio \
            description, so OpenSlide opens them as vendor "aperio". Each shows tissue pieces on glass \
            with the texture of its class — LUAD (glands), LUSC (sheets of large nuclei, keratin \
            pearls) or normal (alveoli) — in per-slide stain colours. About a third of the patients \
            have a tumour and a normal slide; ~25% of slides are 40× scans and ~10% record no MPP. \
            The same options always give byte-identical files.

            Output of a cohort:
              DIR/manifest.csv    slide_path,slide_id,patient_id,label
              DIR/cohort.json     options, per-slide truth (true MPP, seed, levels)
              DIR/slides/TCGA-SY-0001-01A-01-TS1.svs, …

            --profile realistic (cohorts only) brings what real TCGA lung cohorts have, with ground \
            truth: tumour purity drawn per slide (--purity, --purity-median) in normal lung with stroma, \
            vessels, lymphocytes, cartilage, pigment, necrosis and mucin; poorly differentiated solid \
            tumour alike in LUAD and LUSC (--solid-share); pen marks, blur, folds, bubbles and dust \
            (--artefact-rate); tissue source sites (--sites; TCGA-<site>-…) with their own stain, \
            scanner, JPEG quality and MPP recording, contributing classes unevenly (--site-bias), the \
            last --held-out-sites of them written to manifest-heldout.csv instead of manifest.csv. \
            It adds DIR/truth/<slide_id>.geojson (regions by kind, level-0 pixels) and DIR/truth.csv.

            Re-running into the same folder with the same options keeps finished slides (resume); with \
            other options the cohort there is replaced. A non-empty folder that is not a cohort is \
            refused unless --force.

            Examples:
              tessera-synth --out demo
              tessera-synth --out c24 --patients 24 --width 8192 --height 8192 --seed 7
              tessera-synth --out bench --patients 72 --profile realistic --seed 3
              tessera-synth --single-slide giga.svs --class LUSC \\
                  --width 40000 --height 30000 --mpp 0.2495
            """,
        version: TesseraVersion.line("tessera-synth"))

    @Option(name: .long, help: ArgumentHelp("Folder to write the cohort into (created if missing).", valueName: "dir"))
    var out: String?

    @Option(help: ArgumentHelp("Number of patients, 1...\(CohortPlan.maxPatients) (default 12).", valueName: "n"))
    var patients: Int?

    @Option(help: "Random seed: the same options give byte-identical files.")
    var seed: UInt64 = 1

    @Option(help: "Level-0 width of each slide, in pixels.")
    var width = 4096

    @Option(help: "Level-0 height of each slide, in pixels.")
    var height = 3072

    @Option(name: .customLong("tile-size"), help: "TIFF tile size in pixels: a multiple of 16 from 128 to 1024 (Aperio uses 240).")
    var tileSize = 240

    @Option(help: "JPEG quality of the tiles, 1...100.")
    var quality = 90

    @Flag(help: "Write into a non-empty folder that is not a cohort, or over an existing --single-slide file; regenerate every slide.")
    var force = false

    @Option(name: .customLong("single-slide"), help: ArgumentHelp("Write one slide to this path instead of a cohort (for benchmarks).", valueName: "path"))
    var singleSlide: String?

    @Option(name: .customLong("class"), help: ArgumentHelp("Class of the --single-slide slide: LUAD, LUSC or normal.", valueName: "class"))
    var tissueClass: String?

    @Option(help: ArgumentHelp("Micrometres per pixel of the --single-slide slide (default 0.499, i.e. 20×; 0.2495 is 40×).", valueName: "µm"))
    var mpp: Double?

    @Flag(name: .customLong("no-mpp"), help: "Record neither MPP nor AppMag in the --single-slide slide (it is still rendered at --mpp).")
    var noMPP = false

    @Option(help: ArgumentHelp("clean (default: pure class texture on glass) or realistic (purity, non-diagnostic tissue, artefacts, sites; with ground truth).", valueName: "profile"))
    var profile = "clean"

    @Option(help: ArgumentHelp("Realistic: range of the per-slide tumour purity (default 0.05,0.70).", valueName: "min,max"))
    var purity: String?

    @Option(name: .customLong("purity-median"), help: ArgumentHelp("Realistic: median tumour purity (default 0.30).", valueName: "p"))
    var purityMedian: Double?

    @Option(name: .customLong("solid-share"), help: ArgumentHelp("Realistic: share of tumour regions that are solid, alike in LUAD and LUSC (default 0.35).", valueName: "s"))
    var solidShare: Double?

    @Option(name: .customLong("artefact-rate"), help: ArgumentHelp("Realistic: scales the number of artefacts per slide, 0...10 (default 1).", valueName: "r"))
    var artefactRate: Double?

    @Option(help: ArgumentHelp("Realistic: tissue source sites, 1...\(TissueSourceSite.codes.count) (default 6).", valueName: "n"))
    var sites: Int?

    @Option(name: .customLong("held-out-sites"), help: ArgumentHelp("Realistic: sites whose slides go to manifest-heldout.csv (default 2).", valueName: "n"))
    var heldOutSites: Int?

    @Option(name: .customLong("site-bias"), help: ArgumentHelp("Realistic: 0 (classes even over sites) ... 1 (each site sends mostly one class); default 0.9.", valueName: "b"))
    var siteBias: Double?

    static let maxSide = 500_000

    /// The realistic knobs given on the command line (defaults elsewhere), nil for the clean profile.
    func realismOptions() throws -> RealismOptions? {
        var r = RealismOptions()
        if let purity {
            let parts = purity.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let lo = parts[0], let hi = parts[1] else {
                throw ValidationError("--purity must be MIN,MAX (e.g. 0.05,0.70); got '\(purity)'.")
            }
            r.purityMin = lo
            r.purityMax = hi
            if purityMedian == nil { r.purityMedian = min(max(r.purityMedian, lo + (hi - lo) * 0.1), lo + (hi - lo) * 0.9) }
        }
        if let purityMedian { r.purityMedian = purityMedian }
        if let solidShare { r.solidShare = solidShare }
        if let artefactRate { r.artefactRate = artefactRate }
        if let sites { r.sites = sites; r.heldOutSites = min(r.heldOutSites, sites - 1) }
        if let heldOutSites { r.heldOutSites = heldOutSites }
        if let siteBias { r.siteBias = siteBias }
        if let problem = r.problem { throw ValidationError(problem + ".") }
        return profile == "realistic" ? r : nil
    }

    func validate() throws {
        switch (out, singleSlide) {
        case (nil, nil):
            throw ValidationError("Give --out DIR to write a cohort, or --single-slide PATH to write one slide.")
        case (.some, .some):
            throw ValidationError("--out and --single-slide cannot be combined: use --out DIR for a cohort or --single-slide PATH for one slide.")
        default: break
        }
        guard tileSize >= 128 && tileSize <= 1024 && tileSize % 16 == 0 else {
            throw ValidationError("--tile-size must be a multiple of 16 from 128 to 1024 (240 as Aperio, or 256); got \(tileSize).")
        }
        for (flag, value) in [("--width", width), ("--height", height)] {
            guard value >= 2 * tileSize else {
                throw ValidationError("\(flag) must be at least two tiles (2 × --tile-size = \(2 * tileSize)); got \(value).")
            }
            guard value <= Self.maxSide else {
                throw ValidationError("\(flag) must be at most \(Self.maxSide) pixels; got \(value).")
            }
        }
        guard profile == "clean" || profile == "realistic" else {
            throw ValidationError("--profile must be clean or realistic; got '\(profile)'.")
        }
        let knobs: [(String, Bool)] = [("--purity", purity != nil), ("--purity-median", purityMedian != nil), ("--solid-share", solidShare != nil),
                                       ("--artefact-rate", artefactRate != nil), ("--sites", sites != nil),
                                       ("--held-out-sites", heldOutSites != nil), ("--site-bias", siteBias != nil)]
        if profile == "clean", let given = knobs.first(where: { $0.1 }) {
            throw ValidationError("\(given.0) applies to --profile realistic only; add --profile realistic or drop it.")
        }
        if profile == "realistic" && singleSlide != nil {
            throw ValidationError("--profile realistic applies to cohorts (--out) only; --single-slide writes a clean slide.")
        }
        _ = try realismOptions()
        guard (1...100).contains(quality) else {
            throw ValidationError("--quality must be 1...100 (90 is typical of scanners); got \(quality).")
        }
        if let singleSlide {
            try validateSingleSlide(path: singleSlide)
        } else if let out {
            try validateCohort(folder: out)
        }
    }

    private func validateCohort(folder: String) throws {
        if let patients, !(1...CohortPlan.maxPatients).contains(patients) {
            throw ValidationError("--patients must be 1...\(CohortPlan.maxPatients); got \(patients).")
        }
        for (flag, given) in [("--class", tissueClass != nil), ("--mpp", mpp != nil), ("--no-mpp", noMPP)] where given {
            throw ValidationError("\(flag) applies to --single-slide only; a cohort draws classes and scans from --seed.")
        }
        let url = URL(fileURLWithPath: folder)
        switch CohortDirectory.inspect(url) {
        case .absent:
            let parent = url.deletingLastPathComponent().path
            guard Self.isWritableDirectory(parent) else {
                throw ValidationError("--out \(folder): cannot create it, its parent \(parent) is missing, not a folder, or not writable. Create the parent or choose another folder.")
            }
        case .notADirectory:
            throw ValidationError("--out \(folder) is a file, not a folder. Choose a new or empty folder.")
        case .empty, .previousCohort:
            guard FileManager.default.isWritableFile(atPath: url.path) else {
                throw ValidationError("--out \(folder) is not writable. Fix its permissions or choose another folder.")
            }
        case let .foreign(entries):
            if !force {
                let shown = entries.prefix(3).joined(separator: ", ") + (entries.count > 3 ? ", …" : "")
                throw ValidationError("--out \(folder) is not empty (\(shown)) and is not a tessera-synth cohort (no \(CohortDirectory.recordName)). Choose a new or empty folder, or add --force to write into it anyway.")
            }
        }
    }

    private func validateSingleSlide(path: String) throws {
        if patients != nil {
            throw ValidationError("--patients applies to cohorts (--out) only; --single-slide writes one slide.")
        }
        guard let name = tissueClass else {
            throw ValidationError("--single-slide needs --class: one of \(TissueClass.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        guard TissueClass(rawValue: name) != nil else {
            throw ValidationError("--class must be one of \(TissueClass.allCases.map(\.rawValue).joined(separator: ", ")); got '\(name)'.")
        }
        if let mpp, !(mpp > 0 && mpp <= 10) {
            throw ValidationError("--mpp must be in (0, 10] micrometres per pixel (0.499 for 20×, 0.2495 for 40×); got \(mpp).")
        }
        let url = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(atPath: url.path) && !force {
            throw ValidationError("--single-slide \(path) already exists. Remove it, choose another path, or add --force to overwrite it.")
        }
        let parent = url.deletingLastPathComponent().path
        guard Self.isWritableDirectory(parent) else {
            throw ValidationError("--single-slide \(path): its folder \(parent) is missing, not a folder, or not writable. Create it or choose another path.")
        }
    }

    private static func isWritableDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
            && FileManager.default.isWritableFile(atPath: path)
    }

    func run() throws {
        Log.program = "tessera-synth"
        if let singleSlide {
            try writeSingleSlide(path: singleSlide)
        } else if let out {
            try writeCohort(folder: out)
        }
    }

    private func writeCohort(folder: String) throws {
        let options = CohortOptions(patients: patients ?? 12, seed: seed, width: width, height: height,
                                    tileSize: tileSize, quality: quality, realism: try realismOptions())
        let synthesizer = CohortSynthesizer(options: options, directory: URL(fileURLWithPath: folder))
        let slides = synthesizer.plan.slides
        let count = { (cls: TissueClass) in slides.filter { $0.tissueClass == cls }.count }
        let fortyX = slides.filter { $0.scan.objectivePower == 40 }.count
        let unrecorded = slides.filter { !$0.scan.recordsResolution }.count
        Log.info("cohort \(folder): \(options.patients) patients, \(slides.count) slides "
                 + "(\(count(.luad)) LUAD, \(count(.lusc)) LUSC, \(count(.normal)) normal; \(fortyX) at 40×, "
                 + "\(unrecorded) without MPP), \(width)×\(height) px, \(tileSize) px tiles, JPEG Q\(quality), seed \(seed)"
                 + (options.realism == nil ? "" : "; realistic profile, \(synthesizer.plan.sites.count) sites ("
                    + synthesizer.plan.sites.map { "\($0.code)\($0.heldOut ? " held out" : "")" }.joined(separator: ", ") + ")"))
        let summary = try synthesizer.run(force: force, makeSink: TIFFPyramidSink.factory(quality: quality))
        Log.info("wrote \(summary.written) slides" + (summary.kept > 0 ? ", kept \(summary.kept) finished by an earlier run" : "")
                 + "; manifest: \(URL(fileURLWithPath: folder).appendingPathComponent(CohortDirectory.manifestName).path)")
    }

    private func writeSingleSlide(path: String) throws {
        let url = URL(fileURLWithPath: path)
        let cls = TissueClass(rawValue: tissueClass!)!
        let slideID = url.deletingPathExtension().lastPathComponent
        let spec = SlideSpec(slideID: slideID, patientID: slideID, tissueClass: cls, seed: seed,
                             width: width, height: height,
                             scan: ScanProfile(micronsPerPixel: mpp ?? 0.499, recordsResolution: !noMPP))
        let synthesizer = SlideSynthesizer(spec: spec, tileSize: tileSize)
        let levels = synthesizer.layout.levels.map { "\($0.width)×\($0.height)" }.joined(separator: ", ")
        Log.info("slide \(path): \(cls.label), \(spec.scan.micronsPerPixel) µm/px (\(spec.scan.objectivePower)×"
                 + (noMPP ? ", not recorded" : "") + "), levels \(levels), \(tileSize) px tiles, JPEG Q\(quality), seed \(seed)")
        let progress = ProgressLog("level 0", total: synthesizer.layout.tileRows(0), unit: "tile rows", interval: 10)
        try synthesizer.writeFile(at: url, makeSink: TIFFPyramidSink.factory(quality: quality), progress: progress)
        Log.info("wrote \(path)")
    }
}
