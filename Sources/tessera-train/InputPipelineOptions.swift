import ArgumentParser
import Foundation
import Stain
import TesseraCLI
import Training

/// What the input pipeline does to every training tile before the network (`--no-augment` …
/// `--hed-jitter`): flips and rotations, colour and HED jitter, stain normalisation. One group, so
/// that its options, their checks and what `TrainingConfig` records of them stay together.
struct InputPipelineOptions: ParsableArguments {
    @Flag(help: "No random flips and 90° rotations.")
    var noAugment = false

    @Option(help: "Colour jitter brightness,contrast,hue: three fractions in 0…1 (e.g. 0.1,0.1,0.05); default none.")
    var jitter: String?

    @Option(help: "Stain normalisation of every tile, here and at prediction: \(StainNormOption.choices) (Lab statistics; optical-density stain vectors). (default: none)",
            transform: StainNormOption.parse)
    var stainNorm = StainNormOption.none

    @Option(help: """
        The stain normalisation's target: builtin (Macenko's published H&E reference), train (fitted on the sampled \
        training tiles), slide:PATH (fitted on a reference slide's tissue, cut as the store was) or slide:PATH@X,Y,W,H \
        (on that level-0 pixel region of it). (default: builtin)
        """, transform: StainReferenceOption.parse)
    var stainReference = StainReferenceOption.builtin

    @Option(help: "HED stain augmentation σ, 0…1 (0 = off; Tellez et al. use 0.05 light, 0.2 strong): each stain × U[1−σ,1+σ] + U[−σ,σ].")
    var hedJitter: Float = 0

    /// nil without --jitter; `problems` refuses a --jitter that is not three fractions.
    var jitterValues: [Float]? { jitter.flatMap { OptionCheck.numbers($0, count: 3, in: .closed(0, 1)) }.map { $0.map(Float.init) } }

    /// The usage error of each option, nil where it is fine.
    var problems: [String?] {
        var problems = [OptionCheck.number("--hed-jitter", hedJitter, in: .closed(0, 1), example: "0.05")]
        if let jitter, jitterValues == nil {
            problems.append("--jitter takes three fractions (0…1) brightness,contrast,hue, e.g. 0.1,0.1,0.05; got '\(jitter)'")
        }
        if case let .slide(path, _) = stainReference, stainNorm != .none, !FileManager.default.fileExists(atPath: path) {
            problems.append("--stain-reference \(stainReference.spelled): no such file \(path); name the reference slide (job key STAIN_REFERENCE)")
        }
        return problems
    }

    func apply(to config: inout TrainingConfig) {
        config.augmentation.dihedral = !noAugment
        if let j = jitterValues { (config.augmentation.brightness, config.augmentation.contrast, config.augmentation.hue) = (j[0], j[1], j[2]) }
        config.augmentation.hed = hedJitter
        if let method = StainNormalization.Method(rawValue: stainNorm.rawValue) {
            config.stainNormalization = stainNormalizationOption(method)
        }
    }

    /// The training configuration's record of `--stain-norm` with `--stain-reference`.
    private func stainNormalizationOption(_ method: StainNormalization.Method) -> StainNormalizationOption {
        switch stainReference {
        case .builtin: StainNormalizationOption(method: method, reference: .builtin)
        case .train: StainNormalizationOption(method: method, reference: .train)
        case .slide: StainNormalizationOption(method: method, reference: .slide, slide: stainReference.spelled)
        }
    }
}
