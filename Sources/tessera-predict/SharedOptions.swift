import ArgumentParser
import TesseraCLI

// The option groups that several subcommands share: each declares its options once, with their
// help, job-file keys and checks.

/// `--model`, the model file tessera-train wrote: predict and embed.
struct ModelFileOption: ParsableArguments {
    @Option(help: "The model file written by tessera-train (RUN/model.tsm).")
    var model: String

    static let jobKeys: [JobFile.Mapping] = [.file("RUN", "--model", in: "model.tsm")]

    func validate() throws {
        if let problem = OptionCheck.readableFile("--model", model, fix: "pass the model.tsm written by tessera-train") {
            throw ValidationError(problem)
        }
    }
}

/// `--batch`, tiles per forward pass of the model: predict and embed.
struct ForwardBatchOption: ParsableArguments {
    @Option(help: "Tiles per forward batch.")
    var batch = 64

    static let jobKeys: [JobFile.Mapping] = [.option("PREDICT_BATCH", "--batch")]

    func validate() throws {
        guard (1...4096).contains(batch) else { throw ValidationError("--batch must be 1…4096 tiles") }
    }
}

/// The bootstrap of the AUC intervals, shared by predict and merge.
struct ReportOptions: ParsableArguments {
    @Option(help: "Bootstrap resamples for the 95% AUC intervals, 0…100000 (0: none).")
    var bootstrap = 1000

    @Option(help: "Seed of the bootstrap resamples.")
    var seed: UInt64 = 1

    static let jobKeys: [JobFile.Mapping] = [.option("BOOTSTRAP", "--bootstrap"), .option("BOOTSTRAP_SEED", "--seed")]

    func validate() throws {
        guard (0...100_000).contains(bootstrap) else { throw ValidationError("--bootstrap must be 0…100000 (0 skips the intervals); got \(bootstrap)") }
    }
}
