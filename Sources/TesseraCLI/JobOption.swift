import ArgumentParser

/// `--job FILE`, for the programs that read job files. The file is expanded into options before
/// parsing (`ParsableCommand.main(jobKeys:)`); this declaration gives it its help and lets the
/// parser accept it.
public struct JobOption: ParsableArguments {
    @Option(help: "Job definition file (KEY=value lines, e.g. Jobs/demo.env); options given here override it.")
    public var job: String?

    public init() {}
}

/// A subcommand that reads job files.
public protocol JobFileCommand: ParsableCommand {
    /// The job-file keys it maps to its options, given its command line (a key may depend on
    /// another option: predict's STORE gives way to --manifest).
    static func jobKeys(_ commandLine: [String]) -> [JobFile.Mapping]
}

extension ParsableCommand {
    /// `main()` with `--job FILE` replaced by the job file's options (see `JobFile.expand`).
    public static func main(jobKeys: [JobFile.Mapping]) {
        main(expandingJobFile: { try JobFile.expand($0, mappings: jobKeys) })
    }

    /// `main()` of a program with subcommands: `--job FILE` is replaced by the options of the
    /// subcommand named first (its name stays first), or, when none is named, of `defaultSubcommand`
    /// (nil: no expansion).
    public static func main(jobFileSubcommands: [any JobFileCommand.Type], defaultSubcommand: (any JobFileCommand.Type)? = nil) {
        main(expandingJobFile: { arguments in
            if let name = arguments.first, let subcommand = jobFileSubcommands.first(where: { $0._commandName == name }) {
                return [name] + (try JobFile.expand(Array(arguments.dropFirst()), mappings: subcommand.jobKeys(arguments)))
            }
            guard let defaultSubcommand else { return arguments }
            return try JobFile.expand(arguments, mappings: defaultSubcommand.jobKeys(arguments))
        })
    }

    private static func main(expandingJobFile expand: ([String]) throws -> [String]) {
        let arguments: [String]
        do {
            arguments = try expand(Array(CommandLine.arguments.dropFirst()))
        } catch {
            // A bad job file is a usage error (64), like a bad option.
            exit(withError: ValidationError("\(error)"))
        }
        main(arguments)
    }
}
