import Foundation
import Model
import TesseraCore
import TileStore

/// What a run leaves for people and the predictor (rank 0): metrics.csv, the training curves,
/// model.tsm and model-best.tsm.
extension DataParallelTrainer {
    /// Whether the last epoch has the best validation accuracy so far (ties keep the earlier epoch).
    static func isBestEpoch(_ history: [EpochMetrics]) -> Bool {
        guard let last = history.last?.validationAccuracy else { return false }
        return history.dropLast().allSatisfy { ($0.validationAccuracy ?? -1) < last }
    }

    /// model.tsm from the finished run, or model-best.tsm after a best epoch.
    func writeModel(_ state: TrainingState, attributes: TileStoreAttributes, selection: ModelFile.Selection) throws {
        let network = state.network
        let url = selection == .last ? modelURL : bestModelURL
        let header = ModelFile.Header(network: network, classes: attributes.classes, normalization: state.normalization, tiling: attributes.tiling,
                                      epochs: selection == .last ? config.epochs : state.epoch,
                                      validationAccuracy: state.history.last?.validationAccuracy, selection: selection)
        let model = ModelFile(header: header, parameters: network.exportParameters(), state: network.exportState())
        // A re-run of a finished run (--resume from the last checkpoint) computes the same model:
        // keep the file as it is, so that its digest — which prediction tasks record to refuse
        // mixing models — does not change with the creation time.
        if let existing = try? ModelFile.read(url), existing.sameModel(as: model) {
            Log.info("\(url.path) already holds this model; kept as it is")
        } else {
            try model.write(to: url)
            Log.info("wrote \(url.path): \(header.selectionDescription)")
        }
    }

    /// metrics.csv (numbers in plain decimals, 6 significant digits, never an exponent; one
    /// validation accuracy column per class) and the training curves.
    func writeMetrics(_ history: [EpochMetrics], classes: [String]) throws {
        let rows = history.map { m in
            [String(m.epoch), String(m.step), Self.plain(m.trainLoss), Self.plain(m.trainAccuracy), Self.plain(m.validationLoss),
             Self.plain(m.validationAccuracy)]
                + classes.indices.map { k in Self.plain(m.validationClassAccuracy.flatMap { k < $0.count ? $0[k] : nil }) }
                + [Self.plain(m.learningRate), Self.plain(m.imagesPerSecond), Self.plain(m.seconds)]
        }
        let header = ["epoch", "step", "train_loss", "train_accuracy", "validation_loss", "validation_accuracy"]
            + classes.map { "validation_accuracy_\($0)" } + ["learning_rate", "images_per_second", "seconds"]
        try AtomicFile.write(Data(CSV.document(header: header, rows: rows).utf8), to: metricsURL)
        let title = "\(config.model), \(world.size) rank\(world.size == 1 ? "" : "s") × batch \(config.batch), input \(config.inputSize)²"
        try AtomicFile.write(Data(TrainingCurves.svg(history, title: title).utf8), to: curvesURL)
    }

    /// 6 significant digits in plain decimal notation (1.5e-05 → 0.000015); empty for nil.
    static func plain(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "" }
        return DecimalText.format(Double(String(format: "%.6g", v))!)
    }
}
