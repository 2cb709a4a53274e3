import ArgumentParser

/// `--job FILE`, for the programs that read job files. The file is expanded into options before
/// parsing (`ParsableCommand.main(jobKeys:)`); this declaration gives it its help and lets the
/// parser accept it.
public struct JobOption: ParsableArguments {
    @Option(help: "Job definition file (KEY=value lines, e.g. Jobs/demo.env); options given here override it.")
    public var job: String?

    public init() {}
}

extension ParsableCommand {
    /// `main()` with `--job FILE` replaced by the job file's options (see `JobFile.expand`); a bad
    /// job file is a usage error (64), like a bad option.
    public static func main(jobKeys: [JobFile.Mapping]) {
        do {
            main(try JobFile.expand(Array(CommandLine.arguments.dropFirst()), mappings: jobKeys))
        } catch {
            exit(withError: ValidationError("\(error)"))
        }
    }
}
