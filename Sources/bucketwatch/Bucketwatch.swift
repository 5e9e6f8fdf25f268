import ArgumentParser
import BucketwatchApp
import BucketwatchCore

/// The command line. Names, options and exit codes are a contract (README "Command line").
@main
struct Bucketwatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bucketwatch",
        abstract: "Checks W&B bring-your-own-bucket stores against the wandb-byob baseline.",
        version: BuildInfo.version,
        subcommands: [Check.self, Validate.self, Run.self]
    )
}

struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "Path of the YAML configuration file.")
    var config: String
}

/// Exit code for a configuration error (EX_CONFIG).
let configErrorExitCode: Int32 = 78
