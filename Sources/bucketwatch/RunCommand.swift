import ArgumentParser
import BucketwatchApp
import Foundation
import Logging

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run as a daemon: sweep every store on a schedule, serve /metrics, announce state changes to the journal.",
        discussion: """
            SIGHUP reloads the configuration (an invalid one is rejected and the old one kept); \
            SIGTERM and SIGINT stop gracefully. Under systemd (Type=notify) it reports READY, STATUS, \
            WATCHDOG, RELOADING and STOPPING. Exit status: 0 stopped, 78 configuration error, \
            69 the listen address cannot be bound.
            """,
        version: BuildInfo.version
    )

    @OptionGroup var options: ConfigOption

    @Option(help: "Where the last known state is kept (default: $STATE_DIRECTORY, else /var/lib/bucketwatch).")
    var stateDirectory: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let destination: DaemonLogHandler.Destination = JournalWriter.stderrIsJournal ? .journal : .stderr
        LoggingSystem.bootstrap { _ in DaemonLogHandler(destination: destination) }
        let daemon = Daemon(
            options: Daemon.Options(configPath: options.config, environment: environment, stateDirectory: stateDirectory),
            logger: Logger(label: "bucketwatch"))
        let status = await daemon.run()
        if status != 0 { throw ExitCode(status) }
    }
}
