import BucketwatchApp
import BucketwatchCore
import BucketwatchGCP
import BucketwatchTransport
import Foundation
import Testing
import _CryptoExtras

/// The GCS peers: gcp-storage-emulator seeded by `scripts/peers/seed_gcs.py` (`.peers/gcs.json`),
/// and the fault server's authenticated GCS stand-in with its service-account key file.
enum GCSPeers {
    struct Emulator: Decodable {
        var endpoint: String
        var missing_bucket: String
        var buckets: [String]
    }

    static func emulator() throws -> Emulator { try Peers.load("gcs.json") }

    static let faultBase = "http://127.0.0.1:5056"
    static var keyFile: String { Peers.repoRoot.appendingPathComponent(".peers/gcp-sa-key.json").path }
    static let http = CurlHTTPClient(maxConcurrentTransfers: 8)

    /// The key file, after checking the fault server has the Google routes and wrote it.
    static func serviceAccountKeyFile() async throws -> String {
        let response: HTTPResponse
        do {
            response = try await http.send(HTTPRequest(url: faultBase + "/google/pubkey", limits: RequestLimits(connectTimeout: .seconds(2), totalTimeout: .seconds(5))))
        } catch {
            Issue.record("the fault server is not running (\(error)): run `bash scripts/peers.sh start`")
            throw Peers.PeerMissing()
        }
        guard response.status == 200, FileManager.default.fileExists(atPath: keyFile) else {
            Issue.record("the fault server has no Google routes or did not write \(keyFile): restart it (`bash scripts/peers.sh start`)")
            throw Peers.PeerMissing()
        }
        return keyFile
    }

    static func stats() async throws -> [String: Any] {
        let response = try await http.send(HTTPRequest(url: faultBase + "/__stats", limits: RequestLimits(totalTimeout: .seconds(5))))
        return try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    static func temporaryFile(_ text: String, name: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bucketwatch-gcs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let allCompliant: [String: CheckState] = Dictionary(uniqueKeysWithValues: GCSBaseline.checkIDs.map { ($0, .compliant) })

    static func states(_ report: StoreReport) -> [String: CheckState] {
        Dictionary(uniqueKeysWithValues: report.checks.map { ($0.id, $0.status) })
    }

    static func describe(_ report: StoreReport) -> String {
        report.checks.map { "\($0.id): \($0.status.rawValue) — \($0.message)" }.joined(separator: "\n")
    }

    static func check(_ report: StoreReport, _ id: String) -> CheckResult? { report.checks.first { $0.id == id } }
}

// MARK: - gcp-storage-emulator

@Suite("GCS checks against gcp-storage-emulator")
struct GCSIntegrationEmulatorTests {
    static let retry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10))

    func runner(_ emulator: GCSPeers.Emulator) -> CheckRunner {
        let host = emulator.endpoint.replacingOccurrences(of: "http://", with: "")
        return CheckRunner(environment: ["STORAGE_EMULATOR_HOST": host, "HOME": "/nonexistent"], http: GCSPeers.http, retry: Self.retry)
    }

    func store(_ bucket: String, kmsKey: String? = nil) -> StoreConfig {
        StoreConfig(name: bucket, provider: .gcp, bucket: bucket, deployment: .saas, kmsKey: kmsKey)
    }

    /// Each seeded bucket differs from the compliant shape in one way (scripts/peers/README.md).
    static let scenarios: [(bucket: String, changed: [String: CheckState])] = [
        ("gcs-compliant", [:]),
        ("gcs-versioning-off", ["versioning": .drift]),
        ("gcs-softdelete-off", ["soft-delete": .drift]),
        ("gcs-softdelete-short", ["soft-delete": .drift]),
        ("gcs-cmek", ["encryption": .drift]),
        ("gcs-cors-missing", ["cors": .drift]),
        ("gcs-cors-noput", ["cors": .drift]),
        ("gcs-cors-no-etag", [:]),
        ("gcs-iam-missing", ["iam": .drift]),
        ("gcs-iam-conditional", ["iam": .drift]),
        ("gcs-public", ["public-access": .drift]),
        ("gcs-pap-enforced", [:]),
    ]

    @Test("the seed covers every scenario of this table")
    func seedMatchesTable() throws {
        let emulator = try GCSPeers.emulator()
        #expect(Set(emulator.buckets) == Set(Self.scenarios.map(\.bucket)))
    }

    @Test("every seeded bucket gives exactly the expected states", arguments: scenarios)
    func scenario(bucket: String, changed: [String: CheckState]) async throws {
        let emulator = try GCSPeers.emulator()
        let report = try #require(await runner(emulator).run([store(bucket)]).first)
        var expected = GCSPeers.allCompliant
        expected.merge(changed) { _, new in new }
        #expect(GCSPeers.states(report) == expected, "\(bucket)\n\(GCSPeers.describe(report))")
        for check in report.checks where check.status == .drift {
            #expect(check.expected != nil && check.actual != nil, "drift of \(check.id) names expected and actual")
        }
        #expect(report.provider == .gcp)
        #expect(report.status == (changed.isEmpty ? .compliant : .drift))
        let warned = report.checks.filter { !$0.warnings.isEmpty }.map(\.id)
        #expect(warned == (bucket == "gcs-cors-no-etag" ? ["cors"] : []), "\(bucket)")
    }

    @Test("findings name what is wrong")
    func findingDetails() async throws {
        let emulator = try GCSPeers.emulator()
        let buckets = ["gcs-versioning-off", "gcs-softdelete-off", "gcs-softdelete-short", "gcs-cmek", "gcs-cors-noput",
                       "gcs-iam-conditional", "gcs-public", "gcs-pap-enforced", "gcs-cors-no-etag", "gcs-iam-missing"]
        let reports = await runner(emulator).run(buckets.map { store($0) })
        func check(_ bucket: String, _ id: String) -> CheckResult? {
            reports.first { $0.bucket == bucket }.flatMap { GCSPeers.check($0, id) }
        }
        #expect(check("gcs-versioning-off", "versioning")?.actual == "disabled")
        #expect(check("gcs-softdelete-off", "soft-delete")?.actual == "disabled (0)")
        #expect(check("gcs-softdelete-short", "soft-delete")?.actual == "2 days")
        #expect(check("gcs-cmek", "encryption")?.actual?.contains("projects/test/locations/us/keyRings/bw-ring/cryptoKeys/bw-key") == true)
        #expect(check("gcs-cors-noput", "cors")?.message.contains("method PUT not allowed") == true)
        #expect(check("gcs-iam-conditional", "iam")?.actual?.contains("condition 'expires-2030'") == true)
        #expect(check("gcs-iam-missing", "iam")?.actual == "not granted")
        #expect(check("gcs-public", "public-access")?.actual == "public bindings: roles/storage.objectViewer")
        #expect(check("gcs-pap-enforced", "public-access")?.actual?.contains("public access prevention enforced") == true)
        let warnings = check("gcs-cors-no-etag", "cors")?.warnings ?? []
        #expect(warnings.count == 1 && warnings[0].contains("ETag"), "\(warnings)")
    }

    @Test("kms_key: the CMEK bucket is compliant when that key is the configured one")
    func configuredKey() async throws {
        let emulator = try GCSPeers.emulator()
        let key = "projects/test/locations/us/keyRings/bw-ring/cryptoKeys/bw-key"
        let reports = await runner(emulator).run([store("gcs-cmek", kmsKey: key), store("gcs-compliant", kmsKey: key)])
        #expect(GCSPeers.check(reports[0], "encryption")?.status == .compliant)
        #expect(GCSPeers.check(reports[1], "encryption")?.status == .drift)
        #expect(GCSPeers.check(reports[1], "encryption")?.actual == "Google-managed")
    }

    @Test("a missing bucket drifts every check")
    func missingBucket() async throws {
        let emulator = try GCSPeers.emulator()
        let report = try #require(await runner(emulator).run([store(emulator.missing_bucket)]).first)
        #expect(GCSPeers.states(report) == GCSPeers.allCompliant.mapValues { _ in .drift }, "\(GCSPeers.describe(report))")
        #expect(report.checks.allSatisfy { $0.actual == "bucket does not exist" })
    }

    @Test("the dedicated deployment's account is not granted on the seeded buckets")
    func dedicatedDeployment() async throws {
        let emulator = try GCSPeers.emulator()
        var dedicated = store("gcs-compliant")
        dedicated.deployment = .dedicated
        var custom = store("gcs-compliant")
        custom.deployment = nil
        custom.serviceAccount = "wandb-integration@wandb-production.iam.gserviceaccount.com"
        let reports = await runner(emulator).run([dedicated, custom])
        #expect(GCSPeers.check(reports[0], "iam")?.status == .drift)
        #expect(GCSPeers.check(reports[1], "iam")?.status == .compliant)
    }

    @Test("all twelve buckets in one sweep, in config order")
    func oneSweep() async throws {
        let emulator = try GCSPeers.emulator()
        let reports = await runner(emulator).run(Self.scenarios.map { store($0.bucket) })
        #expect(reports.map(\.bucket) == Self.scenarios.map(\.bucket))
        for (report, scenario) in zip(reports, Self.scenarios) {
            #expect(report.status == (scenario.changed.isEmpty ? .compliant : .drift), "\(report.bucket)")
        }
    }
}

// MARK: - the fault server's authenticated GCS stand-in

/// Real auth end to end: the store's `credentials_file` is a service-account key; the JWT is
/// verified by the fault server's token endpoint, and its GCS stand-in wants the token it issued.
/// No `STORAGE_EMULATOR_HOST` here.
@Suite("GCS checks against the authenticated stand-in (fault server)")
struct GCSIntegrationAuthTests {
    static let endpoint = "\(GCSPeers.faultBase)/gcs/storage/v1"

    func runner(environment: [String: String] = [:]) -> CheckRunner {
        var env = ["HOME": "/nonexistent"]
        env.merge(environment) { _, new in new }
        return CheckRunner(environment: env, http: GCSPeers.http, retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10)))
    }

    func store(_ bucket: String, credentials: String?) -> StoreConfig {
        StoreConfig(name: bucket, provider: .gcp, bucket: bucket, endpoint: Self.endpoint, deployment: .saas, credentialsFile: credentials)
    }

    func report(_ bucket: String, credentials: String?, environment: [String: String] = [:]) async throws -> StoreReport {
        try #require(await runner(environment: environment).run([store(bucket, credentials: credentials)]).first)
    }

    @Test("auth-compliant: every check compliant")
    func compliant() async throws {
        let key = try await GCSPeers.serviceAccountKeyFile()
        let report = try await report("auth-compliant", credentials: key)
        #expect(GCSPeers.states(report) == GCSPeers.allCompliant, "\(GCSPeers.describe(report))")
    }

    @Test("the metadata server's token works as well (GCE_METADATA_HOST, no credentials file)")
    func metadataToken() async throws {
        _ = try await GCSPeers.serviceAccountKeyFile()
        let host = GCSPeers.faultBase.replacingOccurrences(of: "http://", with: "")
        let report = try await report("auth-compliant", credentials: nil, environment: ["GCE_METADATA_HOST": host])
        #expect(GCSPeers.states(report) == GCSPeers.allCompliant, "\(GCSPeers.describe(report))")
    }

    @Test("auth-iam-forbidden: iam unknown with Google's reason; the bucket's checks still compliant")
    func iamForbidden() async throws {
        let key = try await GCSPeers.serviceAccountKeyFile()
        let report = try await report("auth-iam-forbidden", credentials: key)
        var expected = GCSPeers.allCompliant
        // Public access prevention is only "inherited" here, so it cannot vouch for public access.
        expected["iam"] = .unknown
        expected["public-access"] = .unknown
        #expect(GCSPeers.states(report) == expected, "\(GCSPeers.describe(report))")
        let iam = try #require(GCSPeers.check(report, "iam"))
        #expect(iam.message.contains("getIamPolicy") && iam.message.contains("forbidden") && iam.message.contains("HTTP 403"), "\(iam.message)")
        #expect(iam.actual == nil)
    }

    @Test("throttled first, then fine: compliant, two requests for each resource")
    func throttled() async throws {
        let key = try await GCSPeers.serviceAccountKeyFile()
        let bucket = "auth-throttled-\(UUID().uuidString.lowercased())"
        let report = try await report(bucket, credentials: key)
        #expect(GCSPeers.states(report) == GCSPeers.allCompliant, "\(GCSPeers.describe(report))")
        let stats = try await GCSPeers.stats()
        #expect(stats["/gcs/storage/v1/b/\(bucket)"] as? Int == 2)
        #expect(stats["/gcs/storage/v1/b/\(bucket)/iam"] as? Int == 2)
    }

    @Test("hostile answers: every check unknown, nothing crashes", arguments: [
        ("auth-hostile-notjson", "unparsable bucket response (HTTP 200)"),
        ("auth-hostile-wrongtypes", "unparsable bucket response (HTTP 200)"),
        ("auth-hostile-huge", "response larger than the"),
        ("auth-hostile-deep", "unparsable bucket response (HTTP 200)"),
    ])
    func hostile(bucket: String, reason: String) async throws {
        let key = try await GCSPeers.serviceAccountKeyFile()
        let report = try await report(bucket, credentials: key)
        #expect(GCSPeers.states(report) == GCSPeers.allCompliant.mapValues { _ in .unknown }, "\(GCSPeers.describe(report))")
        #expect(GCSPeers.check(report, "versioning")?.message.contains(reason) == true, "\(GCSPeers.describe(report))")
        #expect(report.checks.allSatisfy { $0.actual == nil })
    }

    @Test("a key file with a different RSA key: every check unknown, invalid_grant, no key text")
    func wrongKey() async throws {
        let key = try await GCSPeers.serviceAccountKeyFile()
        let original = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: key))) as? [String: Any])
        var wrong = original
        let pem = try _RSA.Signing.PrivateKey(keySize: .bits2048).pkcs8PEMRepresentation
        wrong["private_key"] = pem
        let path = try GCSPeers.temporaryFile(String(decoding: try JSONSerialization.data(withJSONObject: wrong), as: UTF8.self), name: "wrong-key.json")
        let report = try await report("auth-compliant", credentials: path)
        #expect(GCSPeers.states(report) == GCSPeers.allCompliant.mapValues { _ in .unknown }, "\(GCSPeers.describe(report))")
        for check in report.checks where check.id != "public-access" {
            #expect(check.message.contains("invalid_grant"), "\(check.id): \(check.message)")
        }
        let text = CheckReport(stores: [report]).json() + CheckReport(stores: [report]).text()
        for line in pem.split(separator: "\n") + ((original["private_key"] as? String) ?? "").split(separator: "\n") where !line.hasPrefix("-----") {
            #expect(!text.contains(line))
        }
        #expect(!text.contains("PRIVATE KEY"))
    }

    @Test("a token the stand-in does not accept: 401, unknown")
    func badToken() async throws {
        _ = try await GCSPeers.serviceAccountKeyFile()
        let path = try GCSPeers.temporaryFile("not-a-google-token\n", name: "token")
        let report = try await report("auth-compliant", credentials: path)
        #expect(GCSPeers.states(report) == GCSPeers.allCompliant.mapValues { _ in .unknown }, "\(GCSPeers.describe(report))")
        #expect(GCSPeers.check(report, "versioning")?.message.contains("HTTP 401") == true)
        #expect(!CheckReport(stores: [report]).json().contains("not-a-google-token"))
    }

    @Test("no credentials and no metadata server: unknown, never drift")
    func noCredentials() async throws {
        let report = try await report("auth-compliant", credentials: nil, environment: ["GCE_METADATA_HOST": "127.0.0.1:1"])
        #expect(GCSPeers.states(report) == GCSPeers.allCompliant.mapValues { _ in .unknown }, "\(GCSPeers.describe(report))")
        #expect(GCSPeers.check(report, "versioning")?.message.contains("metadata server") == true)
    }

    @Test("a bucket the stand-in does not know: 404, drift on every check")
    func missingBucket() async throws {
        let key = try await GCSPeers.serviceAccountKeyFile()
        let report = try await report("auth-no-such-bucket", credentials: key)
        #expect(GCSPeers.states(report) == GCSPeers.allCompliant.mapValues { _ in .drift }, "\(GCSPeers.describe(report))")
    }
}

// MARK: - the command line

@Suite("bucketwatch check with GCS stores (emulator)")
struct GCSIntegrationCLITests {
    static func config(_ buckets: [String]) throws -> String {
        var text = "stores:\n"
        for bucket in buckets {
            text += """
                  - name: \(bucket)
                    provider: gcp
                    bucket: \(bucket)
                    deployment: saas

                """
        }
        return try CLITests.writeConfig(text)
    }

    static func environment() throws -> [String: String] {
        let emulator = try GCSPeers.emulator()
        return ["STORAGE_EMULATOR_HOST": emulator.endpoint.replacingOccurrences(of: "http://", with: "")]
    }

    @Test("--format json: provider gcp, the warnings array on cors, exit 1 on drift")
    func json() throws {
        let env = try Self.environment()
        let path = try Self.config(["gcs-compliant", "gcs-cors-no-etag", "gcs-versioning-off"])
        let run = try CLITests.run(["check", "--config", path, "--format", "json"], environment: env)
        #expect(run.status == 1, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout)")
        let stores = try #require(object["stores"] as? [[String: Any]])
        #expect(stores.map { $0["name"] as? String } == ["gcs-compliant", "gcs-cors-no-etag", "gcs-versioning-off"])
        #expect(stores.allSatisfy { $0["provider"] as? String == "gcp" })
        #expect(stores.map { $0["status"] as? String } == ["compliant", "compliant", "drift"])
        #expect(stores[1]["bucket"] as? String == "gcs-cors-no-etag")

        let noETag = try #require(stores[1]["checks"] as? [[String: Any]])
        #expect(noETag.map { $0["id"] as? String } == GCSBaseline.checkIDs)
        let cors = try #require(noETag.first { $0["id"] as? String == "cors" })
        #expect(cors["status"] as? String == "compliant")
        let warnings = try #require(cors["warnings"] as? [String])
        #expect(warnings.count == 1 && warnings[0].contains("ETag") && warnings[0].contains("responseHeader"))
        for check in noETag where check["id"] as? String != "cors" { #expect(check["warnings"] == nil) }

        let compliant = try #require(stores[0]["checks"] as? [[String: Any]])
        #expect(compliant.allSatisfy { $0["warnings"] == nil && $0["status"] as? String == "compliant" })

        let drifted = try #require(stores[2]["checks"] as? [[String: Any]])
        let versioning = try #require(drifted.first { $0["id"] as? String == "versioning" })
        #expect(versioning["status"] as? String == "drift")
        #expect(versioning["expected"] as? String == "enabled")
        #expect(versioning["actual"] as? String == "disabled")
        #expect((versioning["message"] as? String)?.isEmpty == false)
    }

    @Test("only compliant GCS stores: exit 0; text output shows the warning")
    func compliantExit() throws {
        let env = try Self.environment()
        let path = try Self.config(["gcs-compliant", "gcs-cors-no-etag", "gcs-pap-enforced"])
        let run = try CLITests.run(["check", "--config", path], environment: env)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("gcs-cors-no-etag (gcp, bucket gcs-cors-no-etag): COMPLIANT"), "\(run.stdout)")
        #expect(run.stdout.contains("warning:  ETag"), "\(run.stdout)")
    }

    @Test("a missing bucket: drift, exit 1")
    func missing() throws {
        let env = try Self.environment()
        let emulator = try GCSPeers.emulator()
        let path = try Self.config([emulator.missing_bucket])
        let run = try CLITests.run(["check", "--config", path, "--format", "json"], environment: env)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stdout.contains("bucket does not exist"))
    }
}
