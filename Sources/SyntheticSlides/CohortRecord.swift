import Foundation

/// `cohort.json`: what a synthetic cohort was generated from and, per slide, the ground truth the
/// files do not state (the true resolution of slides that record none, the seed, the pyramid).
public struct CohortRecord: Codable, Equatable, Sendable {
    public static let formatName = "tessera-synth-cohort"
    public static let currentVersion = 1

    public struct Slide: Codable, Equatable, Sendable {
        /// Relative to the cohort folder, as in `manifest.csv`.
        public var slidePath: String
        public var slideID: String
        public var patientID: String
        public var label: String
        public var seed: UInt64
        public var width: Int
        public var height: Int
        /// True resolution of level 0, µm per pixel.
        public var micronsPerPixel: Double
        /// What the file states (absent for slides scanned without resolution metadata).
        public var recordedMicronsPerPixel: Double?
        public var recordedObjectivePower: Int?
        /// [width, height] of each pyramid level.
        public var levels: [[Int]]
        /// Fraction of the slide covered by tissue.
        public var tissueFraction: Double
        /// Realistic profile only: the tissue source site, the target purity, and whether the
        /// site is held out (its slides are in `manifest-heldout.csv`, not `manifest.csv`).
        public var site: String?
        public var purity: Double?
        public var heldOut: Bool?

        enum CodingKeys: String, CodingKey {
            case slidePath = "slide_path", slideID = "slide_id", patientID = "patient_id", label, seed, width, height
            case micronsPerPixel = "mpp", recordedMicronsPerPixel = "recorded_mpp"
            case recordedObjectivePower = "recorded_objective_power", levels, tissueFraction = "tissue_fraction"
            case site, purity, heldOut = "held_out"
        }
    }

    public var format: String
    public var version: Int
    public var generator: String
    public var options: CohortOptions
    public var slides: [Slide]

    public init(plan: CohortPlan, slidesFolder: String) {
        format = Self.formatName
        version = Self.currentVersion
        generator = "tessera-synth"
        options = plan.options
        slides = plan.slides.map { spec in
            let layout = PyramidLayout(width: spec.width, height: spec.height, tileSize: plan.options.tileSize)
            return Slide(slidePath: "\(slidesFolder)/\(spec.fileName)", slideID: spec.slideID, patientID: spec.patientID,
                         label: spec.tissueClass.label, seed: spec.seed, width: spec.width, height: spec.height,
                         micronsPerPixel: spec.scan.micronsPerPixel,
                         recordedMicronsPerPixel: spec.scan.recordedMicronsPerPixel,
                         recordedObjectivePower: spec.scan.recordedObjectivePower,
                         levels: layout.levels.map { [$0.width, $0.height] },
                         tissueFraction: SlideRenderer.tissueLayout(for: spec).targetFraction,
                         site: spec.realism?.site, purity: spec.realism?.purity, heldOut: spec.realism?.heldOut)
        }
    }

    /// Pretty, key-sorted JSON: the same record gives the same bytes.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    public static func decode(_ data: Data) throws -> CohortRecord {
        try JSONDecoder().decode(CohortRecord.self, from: data)
    }

    /// `manifest.csv`: `slide_path,slide_id,patient_id,label`, one row per slide (of a realistic
    /// cohort: per slide of the sites not held out).
    public var manifestCSV: String { manifest(heldOut: false) }

    /// `manifest-heldout.csv`: the slides of the held-out sites.
    public var heldOutManifestCSV: String { manifest(heldOut: true) }

    private func manifest(heldOut: Bool) -> String {
        var s = "slide_path,slide_id,patient_id,label\n"
        for slide in slides where (slide.heldOut ?? false) == heldOut {
            s += "\(slide.slidePath),\(slide.slideID),\(slide.patientID),\(slide.label)\n"
        }
        return s
    }
}
