import Foundation
import Testing

/// The `bucketwatch` binary as users and CI pipelines run it: arguments, exit codes, JSON.
@Suite("bucketwatch command line")
struct CLITests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The binary SwiftPM built next to the test bundle (the test target depends on it).
    static var binary: URL {
        if let override = ProcessInfo.processInfo.environment["BUCKETWATCH_BINARY"] { return URL(fileURLWithPath: override) }
        let besideTests = Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("bucketwatch")
        if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
        return Peers.repoRoot.appendingPathComponent(".build/debug/bucketwatch")
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var env = ["PATH": "/usr/bin:/bin", "HOME": "/nonexistent"]
        env.merge(environment) { _, new in new }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func writeConfig(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bucketwatch-cli-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func motoConfig(buckets: [String], secret: String? = nil) throws -> (path: String, env: [String: String]) {
        let moto = try Peers.moto()
        let credentials = try Peers.credentialsFile(accessKey: moto.reader.access_key_id, secret: secret ?? moto.reader.secret_access_key)
        var text = "interval: 5m\nlisten_address: 127.0.0.1:9750\nstores:\n"
        for bucket in buckets {
            text += """
                  - name: \(bucket)
                    provider: aws
                    bucket: \(bucket)
                    region: us-east-1
                    endpoint: \(moto.endpoint)
                    path_style: true
                    deployment: saas
                    credentials_file: \(credentials)

                """
        }
        return (try writeConfig(text), ["AWS_ENDPOINT_URL_KMS": moto.endpoint])
    }

    @Test("check --format json: the contract's shape, exit 1 on drift")
    func jsonOutput() throws {
        let (path, env) = try Self.motoConfig(buckets: ["bw-compliant", "bw-versioning-suspended"])
        let run = try Self.run(["check", "--config", path, "--format", "json"], environment: env)
        #expect(run.status == 1, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let stores = try #require(object["stores"] as? [[String: Any]])
        #expect(stores.count == 2)
        #expect(stores[0]["name"] as? String == "bw-compliant")
        #expect(stores[0]["provider"] as? String == "aws")
        #expect(stores[0]["bucket"] as? String == "bw-compliant")
        #expect(stores[0]["status"] as? String == "compliant")
        #expect(stores[1]["status"] as? String == "drift")
        let checks = try #require(stores[1]["checks"] as? [[String: Any]])
        let versioning = try #require(checks.first { $0["id"] as? String == "versioning" })
        #expect(versioning["status"] as? String == "drift")
        #expect(versioning["expected"] as? String == "Enabled")
        #expect(versioning["actual"] as? String == "Suspended")
        #expect((versioning["message"] as? String)?.isEmpty == false)
    }

    @Test("--store selects stores; only compliant checks exit 0")
    func storeSelection() throws {
        let (path, env) = try Self.motoConfig(buckets: ["bw-compliant", "bw-cors-missing"])
        let run = try Self.run(["check", "--config", path, "--store", "bw-compliant"], environment: env)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("bw-compliant"))
        #expect(!run.stdout.contains("bw-cors-missing"))
    }

    @Test("a wrong secret: exit 2 (unknown), the secret appears nowhere in the output")
    func wrongSecretExit() throws {
        let secret = "NOT-THE-SECRET-\(UUID().uuidString)"
        let (path, env) = try Self.motoConfig(buckets: ["bw-compliant"], secret: secret)
        let run = try Self.run(["check", "--config", path, "--format", "json"], environment: env)
        #expect(run.status == 2)
        #expect(run.stdout.contains("\"unknown\""))
        #expect(!run.stdout.contains(secret) && !run.stderr.contains(secret))
    }

    @Test("an unknown --store is a usage error (64)")
    func unknownStore() throws {
        let (path, env) = try Self.motoConfig(buckets: ["bw-compliant"])
        let run = try Self.run(["check", "--config", path, "--store", "nope"], environment: env)
        #expect(run.status == 64)
        #expect(run.stderr.contains("no store named 'nope'"))
    }

    @Test("a bad config exits 78 with file, line and key; validate agrees")
    func badConfig() throws {
        let path = try Self.writeConfig("stores:\n  - name: a\n    provider: aws\n    bukcet: x\n")
        for command in ["check", "validate"] {
            let run = try Self.run([command, "--config", path])
            #expect(run.status == 78, "\(command): \(run.stderr)")
            #expect(run.stderr.contains("\(path):4"), "\(command): \(run.stderr)")
            #expect(run.stderr.contains("bukcet"), "\(command): \(run.stderr)")
        }
    }

    @Test("an S3 store without deployment or principal is a config error (78)")
    func missingPrincipal() throws {
        let path = try Self.writeConfig("stores:\n  - name: a\n    provider: aws\n    bucket: x\n")
        let run = try Self.run(["validate", "--config", path])
        #expect(run.status == 78)
        #expect(run.stderr.contains("deployment"), "\(run.stderr)")
        #expect(run.stderr.contains("\(path):2: key 'stores[0]'"), "the store's line is named: \(run.stderr)")
    }

    @Test("the shipped sample config validates")
    func sampleConfig() throws {
        let run = try Self.run(["validate", "--config", Peers.repoRoot.appendingPathComponent("Config/bucketwatch.example.yaml").path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("2 store(s): team-a, team-minio"))
    }

    @Test("validate accepts a good config (exit 0)")
    func validateGood() throws {
        let path = try Self.writeConfig("stores:\n  - name: a\n    provider: aws\n    bucket: x\n    deployment: dedicated\n")
        let run = try Self.run(["validate", "--config", path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("valid, 1 store(s): a"))
    }

    @Test("--help and --version on the root and on subcommands; a missing --config is a usage error")
    func helpAndVersion() throws {
        for arguments in [["--version"], ["check", "--version"], ["validate", "--version"]] {
            let run = try Self.run(arguments)
            #expect(run.status == 0, "\(arguments)")
            #expect(run.stdout.contains("0.1.0"), "\(arguments): \(run.stdout)")
        }
        for arguments in [["--help"], ["check", "--help"]] {
            let run = try Self.run(arguments)
            #expect(run.status == 0)
            #expect(run.stdout.contains("USAGE"), "\(arguments)")
        }
        let missing = try Self.run(["check"])
        #expect(missing.status == 64)
        let badFormat = try Self.run(["check", "--config", "/dev/null", "--format", "xml"])
        #expect(badFormat.status == 64)
    }
}
