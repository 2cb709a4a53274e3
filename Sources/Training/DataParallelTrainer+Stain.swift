import MPI
import Model
import Stain
import TesseraCore

/// Stain normalisation in training: its reference (built in, or fitted by every rank together on
/// the training tiles or on a reference slide's) and the count of tiles it left as they were.
extension DataParallelTrainer {
    /// The stain normalisation asked for: the built-in reference, or one fitted on the sample of
    /// training tiles or on the reference slide's tiles (rank 0 reads the slide and sends its tiles;
    /// every rank fits its share; the sums are added with allreduce).
    func stainNormalization(_ train: TileIndex) throws -> StainNormalization? {
        guard let option = config.stainNormalization else { return nil }
        switch option.reference {
        case .builtin:
            log("stain normalisation: \(StainNormalization.builtIn(option.method).description)")
            return .builtIn(option.method)
        case .train:
            let (mine, n) = sampleShare(train)
            let payloads = try BatchLoader.payloads(train, mine)
            let sources = mine.map { "\(train.readers[Int(train.file[$0])].path) tile \(train.local[$0])" }
            let fit = try fitReference(option.method, Array(zip(payloads, sources)), tileSize: train.attributes.tileSize, name: "train")
            guard let stain = fit.stain else {
                throw TrainingError.badStore(path: options.store.path,
                                             message: "none of the \(n) sampled training tiles has enough tissue for a \(option.method.rawValue) fit",
                                             hint: "use --stain-reference builtin, or re-tile with a stricter background rule")
            }
            logFit(stain, fitted: fit.tiles, of: n, "sampled tiles")
            return stain
        case .slide:
            guard let cut = options.stainReferenceTiles else {
                throw TrainingError.badOption("--stain-reference \(option.slide ?? "slide:"): this program cannot read reference slides")
            }
            let reference = try StainReferenceTiles.broadcast(world) { try cut(train.attributes.tiling) }
            let mine = Array(stride(from: world.rank, to: reference.payloads.count, by: world.size))
            let share = mine.map { (reference.payloads[$0], "\(reference.name) tile \($0)") }
            let fit = try fitReference(option.method, share, tileSize: train.attributes.tileSize, name: reference.name)
            guard let stain = fit.stain else {
                throw TrainingError.badStainReference(path: option.slide ?? reference.name,
                                                      message: "none of the \(reference.payloads.count) tiles of \(reference.name) has enough tissue for a \(option.method.rawValue) fit",
                                                      hint: "choose a region with more tissue, or leave out @X,Y,W,H to use the slide's tissue")
            }
            logFit(stain, fitted: fit.tiles, of: reference.payloads.count, "tiles of the reference slide")
            return stain
        }
    }

    /// The reference fitted on this rank's tiles and every other rank's (a collective call), as the
    /// input pipeline sees them (decoded and reduced to the network input), and the tiles with
    /// enough tissue to count; nil without any.
    private func fitReference(_ method: StainNormalization.Method, _ tiles: [(payload: TilePayload, source: String)], tileSize: Int,
                              name: String) throws -> (stain: StainNormalization?, tiles: Int) {
        let pipeline = try InputPipeline(tileSize: tileSize, inputSize: config.inputSize,
                                         normalization: Normalization(mean: [0, 0, 0], std: [1, 1, 1]),
                                         augmentation: .none, seed: config.seed)
        var fit = StainReferenceFit(method: method)
        for tile in tiles { fit.add(try pipeline.image(tile.payload, source: tile.source)) }
        world.allreduceSum(&fit.sums)
        return (fit.normalization(from: name), Int(fit.sums[0]))
    }

    private func logFit(_ stain: StainNormalization, fitted: Int, of n: Int, _ what: String) {
        let values = stain.reinhard.map { "L*a*b* mean \($0.mean.map { String(format: "%.1f", $0) }), std \($0.std.map { String(format: "%.1f", $0) })" }
            ?? stain.macenko.map { "H \($0.haematoxylin.map { String(format: "%.3f", $0) }), E \($0.eosin.map { String(format: "%.3f", $0) }), maxima \($0.maxConcentrations.map { String(format: "%.2f", $0) })" }
        log("stain normalisation: \(stain.description), fitted on \(fitted) of \(n) \(what): \(values ?? "")")
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
