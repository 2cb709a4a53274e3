import ArgumentParser
import BLAS
import Foundation
import Prediction
import TesseraCLI
import TesseraCore

@main
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera-predict",
        abstract: "Predict slides with a trained model: tile, slide and patient predictions, metrics, heatmaps.",
        discussion: """
            Predicts either the test slides of a tile store (STORE/test/<slide_id>.h5) or new slides \
            listed in a manifest, which it tiles itself with the tiling recorded in the model. Run \
            `tessera-predict predict --help` for the options (predict is the default subcommand).

            Examples:
              tessera-predict --model run/model.tsm --store store --out pred
              tessera-predict --model run/model.tsm --manifest new.csv --out pred --heatmaps
              sbatch --array=0-7 --wrap 'tessera-predict --model run/model.tsm --store store --out pred'
              tessera-predict merge --out pred
              tessera-predict embed --model run/model.tsm --store store --out features
              tessera-predict --job Jobs/demo.env --shard 0 --shards 1
            """,
        version: TesseraVersion.line("tessera-predict"),
        subcommands: [Predict.self, Merge.self, Embed.self],
        defaultSubcommand: Predict.self)

    /// `--job FILE` expanded into the options of the subcommand it is given to (see `JobFile`).
    static func main() { main(jobFileSubcommands: [Predict.self, Merge.self, Embed.self], defaultSubcommand: Predict.self) }
}
