import BucketwatchApp
import BucketwatchCore
import BucketwatchTransport
import Testing

/// The same S3 checks against SeaweedFS, a second, independent S3 implementation with its own
/// SigV4 verifier. It lacks the public access block API (501), which must be not_applicable.
@Suite("S3-compatible checks against SeaweedFS")
struct SeaweedTests {
    func check(_ bucket: String) async throws -> [String: CheckResult] {
        let weed = try Peers.seaweed()
        let credentials = try Peers.credentialsFile(accessKey: weed.access_key_id, secret: weed.secret_access_key)
        let store = StoreConfig(name: bucket, provider: .s3, bucket: bucket, region: weed.region, endpoint: weed.endpoint,
                                deployment: .saas, credentialsFile: credentials)
        let runner = CheckRunner(environment: ["HOME": "/nonexistent"], http: CurlHTTPClient(maxConcurrentTransfers: 4))
        let report = try #require(await runner.run([store]).first)
        return Dictionary(uniqueKeysWithValues: report.checks.map { ($0.id, $0) })
    }

    @Test("compliant bucket: versioning, CORS, encryption, policy read; publicAccessBlock 501 is not_applicable")
    func compliantBucket() async throws {
        let checks = try await check("bw-weed-compliant")
        for id in ["versioning", "cors", "encryption", "bucket-policy"] {
            #expect(checks[id]?.status == .compliant, "\(id): \(checks[id]?.message ?? "missing")")
        }
        #expect(checks["public-access"]?.status == .notApplicable)
        #expect(checks["public-access"]?.message.contains("NotImplemented") == true, "\(checks["public-access"]?.message ?? "")")
        // S3-compatible stores have no AWS KMS API.
        #expect(checks["kms-key"]?.status == .notApplicable)
    }

    @Test("drifted bucket: versioning and CORS drift")
    func driftedBucket() async throws {
        let checks = try await check("bw-weed-drift")
        #expect(checks["versioning"]?.status == .drift)
        #expect(checks["cors"]?.status == .drift)
        #expect(checks["public-access"]?.status == .notApplicable)
    }
}
