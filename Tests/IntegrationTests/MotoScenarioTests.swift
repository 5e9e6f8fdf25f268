import BucketwatchApp
import BucketwatchAWS
import BucketwatchCore
import BucketwatchTransport
import Foundation
import Testing

/// `check`'s core against moto's S3 and KMS with SigV4 and IAM checking on: the reader
/// user has a least-privilege policy, so every request here is verified by moto.
@Suite("S3 checks against moto (signatures verified)")
struct MotoScenarioTests {
    static let http = CurlHTTPClient(maxConcurrentTransfers: 8)

    func runner(moto: Peers.Moto) -> CheckRunner {
        // KMS goes to moto through the SDKs' endpoint variable, as an admin would set it.
        CheckRunner(environment: ["AWS_ENDPOINT_URL_KMS": moto.endpoint, "HOME": "/nonexistent"], http: Self.http,
                    retry: RetryPolicy(baseDelay: .milliseconds(10)))
    }

    func store(_ bucket: String, moto: Peers.Moto, credentials: String, pathStyle: Bool = true, kmsKey: String? = nil) -> StoreConfig {
        StoreConfig(name: bucket, provider: .aws, bucket: bucket, region: moto.region, endpoint: moto.endpoint,
                    pathStyle: pathStyle, deployment: .saas, kmsKey: kmsKey, credentialsFile: credentials)
    }

    static let allCompliant: [String: CheckState] = Dictionary(uniqueKeysWithValues: S3Baseline.checkIDs.map { ($0, .compliant) })

    /// Each seeded bucket differs from the compliant shape in one way (scripts/peers/README.md).
    static let scenarios: [(bucket: String, drifted: [String])] = [
        ("bw-compliant", []),
        ("bw-versioning-suspended", ["versioning"]),
        ("bw-versioning-never", ["versioning"]),
        // AES256 or no encryption also means no KMS key is in use.
        ("bw-encryption-aes256", ["encryption", "kms-key"]),
        ("bw-encryption-none", ["encryption", "kms-key"]),
        ("bw-kms-nogrant", ["kms-key"]),
        ("bw-kms-disabled", ["kms-key"]),
        ("bw-cors-missing", ["cors"]),
        ("bw-cors-noput", ["cors"]),
        ("bw-policy-missing", ["bucket-policy"]),
        ("bw-policy-partial", ["bucket-policy"]),
        ("bw-policy-deny", ["bucket-policy"]),
        ("bw-policy-conditional", ["bucket-policy"]),
        ("bw-public", ["public-access"]),
        ("bw-pab-missing", ["public-access"]),
        ("bw.dotted.name", []),
    ]

    @Test("every seeded bucket shape gives exactly the expected drift", arguments: scenarios)
    func scenario(bucket: String, drifted: [String]) async throws {
        let moto = try Peers.moto()
        let credentials = try Peers.credentialsFile(accessKey: moto.reader.access_key_id, secret: moto.reader.secret_access_key)
        let reports = await runner(moto: moto).run([store(bucket, moto: moto, credentials: credentials)])
        let report = try #require(reports.first)
        var expected = Self.allCompliant
        for id in drifted { expected[id] = .drift }
        let actual = Dictionary(uniqueKeysWithValues: report.checks.map { ($0.id, $0.status) })
        #expect(actual == expected, "\(report.checks.map { "\($0.id): \($0.status.rawValue) \($0.message)" })")
        for check in report.checks where check.status == .drift {
            #expect(check.expected != nil && check.actual != nil, "drift of \(check.id) must name expected and actual")
        }
        #expect(report.status == (drifted.isEmpty ? .compliant : .drift))
    }

    @Test("findings name what is wrong")
    func findingDetails() async throws {
        let moto = try Peers.moto()
        let credentials = try Peers.credentialsFile(accessKey: moto.reader.access_key_id, secret: moto.reader.secret_access_key)
        let reports = await runner(moto: moto).run(
            ["bw-versioning-suspended", "bw-policy-deny", "bw-policy-conditional", "bw-kms-disabled", "bw-cors-noput", "bw-public"]
                .map { store($0, moto: moto, credentials: credentials) })
        func check(_ store: Int, _ id: String) -> CheckResult? { reports[store].checks.first { $0.id == id } }
        #expect(check(0, "versioning")?.actual == "Suspended")
        #expect(check(1, "bucket-policy")?.actual?.contains("explicitly denied by Sid DenyVendorPut") == true)
        #expect(check(1, "bucket-policy")?.actual?.contains("s3:PutObject") == true)
        #expect(check(2, "bucket-policy")?.message.contains("Condition") == true)
        #expect(check(3, "kms-key")?.actual?.contains("Disabled") == true)
        #expect(check(4, "cors")?.message.contains("method PUT not allowed") == true)
        #expect(check(5, "public-access")?.actual?.contains("public grant") == true)
    }

    @Test("virtual-host addressing (BUCKET.localhost) reads the same as path style")
    func virtualHostStyle() async throws {
        let moto = try Peers.moto()
        let credentials = try Peers.credentialsFile(accessKey: moto.reader.access_key_id, secret: moto.reader.secret_access_key)
        let port = URLComponents(string: moto.endpoint)!.port!
        var config = store("bw-versioning-suspended", moto: moto, credentials: credentials, pathStyle: false)
        config.endpoint = "http://localhost:\(port)"
        let report = try #require(await runner(moto: moto).run([config]).first)
        #expect(report.checks.first { $0.id == "versioning" }?.status == .drift)
        #expect(report.checks.filter { $0.status == .unknown }.isEmpty, "\(report.checks)")
    }

    @Test("a missing bucket makes every check drift: bucket does not exist")
    func missingBucket() async throws {
        let moto = try Peers.moto()
        let credentials = try Peers.credentialsFile(accessKey: moto.reader.access_key_id, secret: moto.reader.secret_access_key)
        let report = try #require(await runner(moto: moto).run([store("bw-does-not-exist", moto: moto, credentials: credentials)]).first)
        #expect(report.checks.count == 6)
        for check in report.checks {
            #expect(check.status == .drift, "\(check.id): \(check.message)")
            #expect(check.actual == "bucket does not exist", "\(check.id)")
        }
    }

    @Test("a reader denied s3:GetBucketPolicy: bucket-policy unknown, the rest still read")
    func deniedPolicyRead() async throws {
        let moto = try Peers.moto()
        let credentials = try Peers.credentialsFile(
            accessKey: moto.nopolicy_reader.access_key_id, secret: moto.nopolicy_reader.secret_access_key)
        let report = try #require(await runner(moto: moto).run([store("bw-compliant", moto: moto, credentials: credentials)]).first)
        let states = Dictionary(uniqueKeysWithValues: report.checks.map { ($0.id, $0) })
        #expect(states["bucket-policy"]?.status == .unknown)
        #expect(states["bucket-policy"]?.message.contains("AccessDenied") == true)
        // public-access depends on the policy: it cannot be known either.
        #expect(states["public-access"]?.status == .unknown)
        for id in ["versioning", "encryption", "kms-key", "cors"] {
            #expect(states[id]?.status == .compliant, "\(id): \(states[id]?.message ?? "")")
        }
        #expect(report.status == .unknown)
    }

    @Test("a wrong secret makes every check unknown, never drift or compliant, and the secret is not echoed")
    func wrongSecret() async throws {
        let moto = try Peers.moto()
        let wrongSecret = "WRONG-SECRET-\(UUID().uuidString)"
        let credentials = try Peers.credentialsFile(accessKey: moto.reader.access_key_id, secret: wrongSecret)
        let report = try #require(await runner(moto: moto).run([store("bw-compliant", moto: moto, credentials: credentials)]).first)
        for check in report.checks {
            #expect(check.status == .unknown, "\(check.id): \(check.message)")
        }
        #expect(report.checks.contains { $0.message.contains("SignatureDoesNotMatch") })
        let rendered = CheckReport(stores: [report]).json() + CheckReport(stores: [report]).text()
        #expect(!rendered.contains(wrongSecret))
        #expect(CheckReport(stores: [report]).exitCode == 2)
    }

    @Test("a configured kms_key that the bucket does not use is encryption drift")
    func configuredKeyMismatch() async throws {
        let moto = try Peers.moto()
        let credentials = try Peers.credentialsFile(accessKey: moto.reader.access_key_id, secret: moto.reader.secret_access_key)
        let report = try #require(await runner(moto: moto).run(
            [store("bw-kms-nogrant", moto: moto, credentials: credentials, kmsKey: moto.kms.good)]).first)
        let encryption = try #require(report.checks.first { $0.id == "encryption" })
        #expect(encryption.status == .drift)
        #expect(encryption.message.contains("another KMS key"))
        // The key checked is the configured one, which is fine.
        #expect(report.checks.first { $0.id == "kms-key" }?.status == .compliant)
    }

    @Test("KMS is read once per sweep per distinct key, however many buckets share it")
    func kmsReadOncePerKey() async throws {
        let moto = try Peers.moto()
        let credentials = try Peers.credentialsFile(accessKey: moto.reader.access_key_id, secret: moto.reader.secret_access_key)
        let cache = KMSKeyCache()
        // Six buckets use the good key, one the nogrant key, one the disabled key.
        let buckets = ["bw-compliant", "bw-versioning-suspended", "bw-cors-missing", "bw-policy-missing", "bw-public", "bw-pab-missing",
                       "bw-kms-nogrant", "bw-kms-disabled"]
        let reports = await runner(moto: moto).run(buckets.map { store($0, moto: moto, credentials: credentials) }, kmsCache: cache)
        #expect(reports.count == buckets.count)
        #expect(await cache.reads == 3)
    }
}
