import MPI
import Model
import Stain
import TesseraCore

/// Stain normalisation in training: its reference (built in, or fitted on the training tiles by
/// every rank together) and the count of tiles it left as they were.
extension DataParallelTrainer {
    /// The stain normalisation asked for: the built-in reference, or one fitted on the sample of
    /// training tiles (every rank fits its share; the sums are added with allreduce).
    func stainNormalization(_ train: TileIndex) throws -> StainNormalization? {
        guard let option = config.stainNormalization else { return nil }
        guard option.reference == .train else {
            log("stain normalisation: \(StainNormalization.builtIn(option.method).description)")
            return .builtIn(option.method)
        }
        let (mine, n) = sampleShare(train)
        let pipeline = try InputPipeline(tileSize: train.attributes.tileSize, inputSize: config.inputSize,
                                         normalization: Normalization(mean: [0, 0, 0], std: [1, 1, 1]),
                                         augmentation: .none, seed: config.seed)
        var fit = StainReferenceFit(method: option.method)
        for (k, payload) in try BatchLoader.payloads(train, mine).enumerated() {
            fit.add(try pipeline.image(payload, source: "\(train.readers[Int(train.file[mine[k]])].path) tile \(train.local[mine[k]])"))
        }
        world.allreduceSum(&fit.sums)
        guard let stain = fit.normalization() else {
            throw TrainingError.badStore(path: options.store.path,
                                         message: "none of the \(n) sampled training tiles has enough tissue for a \(option.method.rawValue) fit",
                                         hint: "use --stain-reference builtin, or re-tile with a stricter background rule")
        }
        log("stain normalisation: \(stain.description), fitted on \(Int(fit.sums[0])) of \(n) sampled tiles: "
            + (stain.reinhard.map { "L*a*b* mean \($0.mean.map { String(format: "%.1f", $0) }), std \($0.std.map { String(format: "%.1f", $0) })" }
                ?? stain.macenko.map { "H \($0.haematoxylin.map { String(format: "%.3f", $0) }), E \($0.eosin.map { String(format: "%.3f", $0) }), maxima \($0.maxConcentrations.map { String(format: "%.2f", $0) })" } ?? ""))
        return stain
    }

    /// Logs how many tiles the pipeline stain-normalised since the last call, over all ranks, and
    /// how many it left as they were (too little tissue). A collective call when stain normalisation is on.
    func reportStainFallbacks(_ pipeline: InputPipeline, _ normalization: Normalization, what: String) {
        guard let stain = normalization.stain else { return }
        let counts = pipeline.takeStainCounts()
        var sums = [Double(counts.tiles), Double(counts.fallbacks)]
        world.allreduceSum(&sums)
        guard sums[0] > 0 else { return }
        log(String(format: "stain normalisation %@: %.0f of %.0f %@ (%.1f%%) left unnormalised (too little tissue)",
                   stain.method.rawValue, sums[1], sums[0], what, 100 * sums[1] / sums[0]))
    }
}
