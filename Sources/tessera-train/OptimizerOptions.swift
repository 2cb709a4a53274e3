import ArgumentParser
import TesseraCLI
import Training

/// The optimiser and its learning-rate schedule (`--learning-rate` … `--schedule`): one group, so
/// that its options, their checks and what `TrainingConfig` records of them stay together.
struct OptimizerOptions: ParsableArguments {
    @Option(help: "Learning rate for a global batch of 256 (scaled linearly with ranks × batch); finite and > 0.")
    var learningRate = 0.1

    @Option(help: "sgd (momentum, Nesterov) or adam. (default: sgd)", transform: OptimizerOption.parse)
    var optimizer = OptimizerOption.sgd

    @Option(help: "SGD momentum.")
    var momentum: Float = 0.9

    @Flag(help: "Plain momentum instead of Nesterov's.")
    var noNesterov = false

    @Option(help: "Weight decay (on convolution and linear weights), 0…1.")
    var weightDecay: Float = 5e-4

    @Option(help: "Epochs of linear learning-rate warm-up, 0…10000.")
    var warmupEpochs = 1.0

    @Option(help: "Decay after warm-up: cosine, or step:E1,E2 (divide by 10 at those epochs). (default: cosine)", transform: ScheduleOption.parse)
    var schedule = ScheduleOption.cosine

    /// The usage error of each option, nil where it is fine.
    var problems: [String?] {
        [
            OptionCheck.number("--learning-rate", learningRate, in: .above(0), example: "0.1"),
            OptionCheck.number("--weight-decay", weightDecay, in: .closed(0, 1), example: "5e-4"),
            OptionCheck.number("--warmup-epochs", warmupEpochs, in: .closed(0, 10_000), example: "1"),
            (0..<1).contains(momentum) ? nil : "--momentum must be in [0, 1)",
        ]
    }

    func apply(to config: inout TrainingConfig) {
        config.learningRate = learningRate
        config.optimizer = optimizer.rawValue
        config.momentum = momentum
        config.nesterov = !noNesterov
        config.weightDecay = weightDecay
        config.warmupEpochs = warmupEpochs
        config.schedule = schedule.description
    }
}
