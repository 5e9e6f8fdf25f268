import ArgumentParser
import BucketwatchApp
import BucketwatchCore
import BucketwatchTransport
import Foundation

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read every configured store once and report each check.",
        discussion: """
            Exit status: 0 every check compliant or not_applicable; 1 any drift; \
            2 some unknown and no drift; 78 configuration error; 64 usage error.
            """,
        version: BuildInfo.version
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @OptionGroup var options: ConfigOption

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    @Option(name: .customLong("store"), help: "Check only this store (repeatable).")
    var stores: [String] = []

    func run() async throws {
        let config = try loadConfigOrExit(options.config)
        var selected = config.stores
        if !stores.isEmpty {
            let known = Set(config.stores.map(\.name))
            if let unknown = stores.first(where: { !known.contains($0) }) {
                throw ValidationError("no store named '\(unknown)' in \(options.config); known stores: \(config.stores.map(\.name).joined(separator: ", "))")
            }
            selected = config.stores.filter { stores.contains($0.name) }
        }
        let http = CurlHTTPClient(maxConcurrentTransfers: 8)
        defer { http.shutdown() }
        let runner = CheckRunner(environment: ProcessInfo.processInfo.environment, http: http)
        let report = CheckReport(stores: await runner.run(selected))
        print(format == .json ? report.json() : report.text())
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }
}

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the configuration file and exit: 0 valid, 78 invalid.",
        version: BuildInfo.version
    )

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try loadConfigOrExit(options.config)
        print("\(options.config): valid, \(config.stores.count) store(s): \(config.stores.map(\.name).joined(separator: ", "))")
    }
}

/// Loads and validates the config; on error prints the located message and exits 78.
func loadConfigOrExit(_ path: String) throws -> BucketwatchConfig {
    do {
        return try ConfigValidation.load(path: path)
    } catch {
        FileHandle.standardError.write(Data("bucketwatch: \(error.description)\n".utf8))
        throw ExitCode(configErrorExitCode)
    }
}
