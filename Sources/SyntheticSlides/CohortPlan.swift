import TesseraCore

/// Which slides a synthetic cohort has: patients, TCGA-style names, classes and scan profiles,
/// drawn deterministically from the options' seed.
///
/// - About a third of the patients (⌊N/3⌉, at least one when N ≥ 2) have a tumour slide
///   (`-01A-01-TS1`) and a normal slide (`-11A-01-TS1`); the others have one slide.
/// - Classes are balanced across slides: about a third normal, the tumours split between LUAD and
///   LUSC (a patient has one tumour type).
/// - About 25% of the slides are 40× scans and 10% record no resolution; a cohort of six slides or
///   more has at least one of each.
public struct CohortPlan: Equatable, Sendable {
    public let options: CohortOptions
    /// Slides in patient order, tumour before normal.
    public let slides: [SlideSpec]
    /// The tissue source sites of a realistic cohort (empty for a clean one).
    public let sites: [TissueSourceSite]

    /// Patients are numbered 1...9999 (`TCGA-SY-0001`).
    public static let maxPatients = 9999

    public init(options: CohortOptions) {
        let n = options.patients
        precondition(n >= 1 && n <= Self.maxPatients, "patients must be 1...\(Self.maxPatients), got \(n)")
        self.options = options
        var rng = SeededGenerator(seed: options.seed, stream: 0x5EED_C0_4027)

        let pairCount = n >= 2 ? max(1, Int((Double(n) / 3).rounded())) : 0
        var order = Array(0..<n)
        order.deterministicShuffle(using: &rng)
        let paired = Set(order.prefix(pairCount))
        let singles = order.dropFirst(pairCount)

        let slideCount = n + pairCount
        let normalTotal = Int((Double(slideCount) / 3).rounded())
        let normalSingles = min(singles.count, max(0, normalTotal - pairCount))
        let normalOnly = Set(singles.prefix(normalSingles))

        let tumourCount = n - normalOnly.count
        let luadCount = tumourCount / 2 + (tumourCount % 2 == 1 && rng.next() & 1 == 0 ? 1 : 0)
        var tumourClasses = [TissueClass](repeating: .luad, count: luadCount)
            + [TissueClass](repeating: .lusc, count: tumourCount - luadCount)
        tumourClasses.deterministicShuffle(using: &rng)

        var slides: [SlideSpec] = []
        var nextTumour = 0
        for patient in 0..<n {
            let patientID = Self.patientID(patient + 1)
            func slide(_ cls: TissueClass, sampleType: Int) -> SlideSpec {
                let code = String(format2: sampleType) + "A"
                return SlideSpec(slideID: "\(patientID)-\(code)-01-TS1", patientID: patientID, tissueClass: cls,
                                 seed: mixHash(options.seed, UInt64(patient + 1), UInt64(sampleType)),
                                 width: options.width, height: options.height, scan: .aperio20x)
            }
            if !normalOnly.contains(patient) {
                slides.append(slide(tumourClasses[nextTumour], sampleType: 1))
                nextTumour += 1
            }
            if normalOnly.contains(patient) || paired.contains(patient) {
                slides.append(slide(.normal, sampleType: 11))
            }
        }

        let m = slides.count
        var unrecorded = Int((0.10 * Double(m)).rounded())
        var fortyX = Int((0.25 * Double(m)).rounded())
        if m >= 6 {
            unrecorded = max(1, unrecorded)
            fortyX = max(1, fortyX)
        }
        var indices = Array(0..<m)
        indices.deterministicShuffle(using: &rng)
        for (rank, i) in indices.enumerated() {
            if rank < unrecorded {
                slides[i].scan = .unrecorded20x
            } else if rank < unrecorded + fortyX {
                slides[i].scan = .aperio40x
            }
        }
        if let realism = options.realism {
            (self.slides, self.sites) = Self.realistic(slides, options: options, realism: realism)
        } else {
            self.slides = slides
            self.sites = []
        }
    }

    /// `TCGA-SY-0001` for patient 1.
    public static func patientID(_ number: Int) -> String {
        let digits = String(number)
        return "TCGA-SY-" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

private extension String {
    /// Two-digit, zero-padded (TCGA sample types "01", "11").
    init(format2 value: Int) { self = value < 10 ? "0\(value)" : "\(value)" }
}

extension Array {
    /// Fisher–Yates with our own index draws: the standard library's `shuffle(using:)` may change its
    /// algorithm between Swift releases, and cohorts must be the same on every toolchain.
    mutating func deterministicShuffle(using rng: inout SeededGenerator) {
        guard count > 1 else { return }
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = Int(rng.next().multipliedFullWidth(by: UInt64(i + 1)).high)
            swapAt(i, j)
        }
    }
}
