import BucketwatchTransport
import Foundation
import Testing
import _CryptoExtras

@testable import BucketwatchGCP

/// Token sources against the fault server's stand-ins, which verify what Google verifies:
/// the token endpoint checks the JWT's RS256 signature with the test account's public key
/// and its claims; the metadata server wants `Metadata-Flavor: Google`. Serialized: some
/// tests count the server's issuances (each under its own key, so other suites' token
/// requests do not disturb them).
@Suite("Google token flows against the fault server", .serialized)
struct TokenFlowTests {
    static let http = CurlHTTPClient(maxConcurrentTransfers: 8)
    static let metadataPath = "/computeMetadata/v1/instance/service-accounts/default/token"

    func serviceAccount(label: String) async throws -> (provider: ServiceAccountTokenProvider, counter: String, key: String) {
        let (_, key, _) = try await GCPFault.keyFile()
        let counterKey = GCPFault.uniqueKey(label)
        return (ServiceAccountTokenProvider(key: key, http: Self.http, tokenURIOverride: GCPFault.tokenURI(key: counterKey)),
                "google_token_issued:\(counterKey)", counterKey)
    }

    // MARK: service-account key -> token endpoint

    @Test("service-account key file: the token endpoint accepts our JWT (signature and claims verified)")
    func serviceAccountToken() async throws {
        let (provider, counter, _) = try await serviceAccount(label: "sa")
        let before = Date()
        let token = try #require(try await provider.token())
        #expect(token.value.hasPrefix("ya29.test-"))
        let expiresAt = try #require(token.expiresAt)
        #expect(expiresAt.timeIntervalSince(before) > 3590 && expiresAt.timeIntervalSince(before) < 3610)
        #expect(try await GCPFault.stat(counter) == 1)
        #expect(!token.description.contains(token.value))
    }

    @Test("the key's own token_uri is used without an override")
    func keyTokenURI() async throws {
        let (_, key, _) = try await GCPFault.keyFile()
        let before = try await GCPFault.stat("google_token_issued")
        let token = try #require(try await ServiceAccountTokenProvider(key: key, http: Self.http).token())
        #expect(token.value.hasPrefix("ya29.test-"))
        #expect(try await GCPFault.stat("google_token_issued") > before)
    }

    @Test("a different RSA key under the same account: invalid_grant, and no secret in the error")
    func wrongKey() async throws {
        let (path, key, serverPEM) = try await GCPFault.keyFile()
        let otherPEM = try _RSA.Signing.PrivateKey(keySize: .bits2048).pkcs8PEMRepresentation
        let json = try JSONSerialization.data(withJSONObject: [
            "type": "service_account", "client_email": key.clientEmail, "private_key_id": "kid1", "private_key": otherPEM,
            "token_uri": key.tokenURI,
        ])
        let wrong = try ServiceAccountKey.parse([UInt8](json), source: "wrong.json")
        let counterKey = GCPFault.uniqueKey("wrong")
        let provider = ServiceAccountTokenProvider(key: wrong, http: Self.http, tokenURIOverride: GCPFault.tokenURI(key: counterKey))
        await #expect(throws: GoogleAuthError("token endpoint: HTTP 400 invalid_grant invalid JWT signature")) {
            try await provider.token()
        }
        #expect(try await GCPFault.stat("google_token_issued:\(counterKey)") == 0)
        let description = await Self.errorDescription { try await provider.token() }
        Self.expectNoSecrets(description, pems: [otherPEM, serverPEM], paths: [path])
    }

    @Test("an unreachable token endpoint: the error names it, not the key")
    func tokenEndpointDown() async throws {
        let (_, key, pem) = try await GCPFault.keyFile()
        let provider = ServiceAccountTokenProvider(key: key, http: Self.http, tokenURIOverride: "http://127.0.0.1:1/token")
        let description = await Self.errorDescription { try await provider.token() }
        #expect(description.hasPrefix("no Google access token: token endpoint: connection failed"), "\(description)")
        Self.expectNoSecrets(description, pems: [pem])
    }

    @Test("the token endpoint's error shapes: not a JSON token answer is an error, not a crash")
    func tokenEndpointOddAnswers() async throws {
        let (_, key, _) = try await GCPFault.keyFile()
        for (uri, expected) in [
            ("\(GCPFault.base)/ok", "no Google access token: token endpoint: unparsable token response"),
            ("\(GCPFault.base)/status/503", "no Google access token: token endpoint: HTTP 503"),
            ("\(GCPFault.base)/malformed", "no Google access token: token endpoint: unparsable token response"),
        ] {
            let provider = ServiceAccountTokenProvider(key: key, http: Self.http, tokenURIOverride: uri)
            #expect(await Self.errorDescription { try await provider.token() } == expected, "\(uri)")
        }
    }

    // MARK: metadata server

    @Test("metadata server: the request carries Metadata-Flavor, the answer echoes it")
    func metadataToken() async throws {
        try await GCPFault.url()
        let counterKey = GCPFault.uniqueKey("meta")
        let provider = MetadataServerTokenProvider(host: "\(GCPFault.hostPort)/meta/\(counterKey)", http: Self.http)
        let token = try #require(try await provider.token())
        #expect(token.value.hasPrefix("ya29.meta-"))
        #expect(try await GCPFault.stat("metadata_token_issued:\(counterKey)") == 1)
        // The plain path, with a scheme in the host.
        let plain = try #require(try await MetadataServerTokenProvider(host: GCPFault.base, http: Self.http).token())
        #expect(plain.value.hasPrefix("ya29.meta-"))
    }

    @Test("the metadata stand-in refuses a request without Metadata-Flavor (403)")
    func metadataNeedsHeader() async throws {
        try await GCPFault.url()
        #expect(try await GCPFault.get(Self.metadataPath).status == 403)
        let answer = try await GCPFault.get(Self.metadataPath, headers: [(name: "Metadata-Flavor", value: "Google")])
        #expect(answer.status == 200)
        #expect(answer.header("Metadata-Flavor") == "Google")
    }

    @Test("an answer without Metadata-Flavor: Google is rejected, and its token is not shown")
    func metadataWithoutFlavor() async throws {
        try await GCPFault.url()
        let before = try await GCPFault.stat("metadata_token_issued")
        let provider = MetadataServerTokenProvider(host: "\(GCPFault.hostPort)/gcs-no-flavor", http: Self.http)
        let description = await Self.errorDescription { try await provider.token() }
        #expect(description == "no Google access token: the metadata server's answer lacks Metadata-Flavor: Google")
        #expect(try await GCPFault.stat("metadata_token_issued") > before, "the stand-in did hand out a token")
        #expect(!description.contains("ya29"))
    }

    @Test("no metadata server: a clear error")
    func metadataDown() async {
        let description = await Self.errorDescription { try await MetadataServerTokenProvider(host: "127.0.0.1:1", http: Self.http).token() }
        #expect(description.hasPrefix("no Google access token: metadata server: connection failed"), "\(description)")
    }

    @Test("GoogleTokenResolver without a credentials file goes to GCE_METADATA_HOST")
    func resolverMetadata() async throws {
        try await GCPFault.url()
        let counterKey = GCPFault.uniqueKey("resolver-meta")
        let resolver = GoogleTokenResolver(environment: ["GCE_METADATA_HOST": "\(GCPFault.hostPort)/meta/\(counterKey)"], http: Self.http)
        let token = try #require(try await resolver.provider(credentialsFile: nil).token())
        #expect(token.value.hasPrefix("ya29.meta-"))
        _ = try await resolver.provider(credentialsFile: nil).token()
        #expect(try await GCPFault.stat("metadata_token_issued:\(counterKey)") == 1, "cached and shared")
    }

    @Test("GoogleTokenResolver: a service-account credentials_file, and GOOGLE_APPLICATION_CREDENTIALS")
    func resolverKeyFile() async throws {
        let (path, _, _) = try await GCPFault.keyFile()
        let fromStore = try #require(try await GoogleTokenResolver(environment: [:], http: Self.http).provider(credentialsFile: path).token())
        #expect(fromStore.value.hasPrefix("ya29.test-"))
        let fromEnvironment = try #require(try await GoogleTokenResolver(environment: ["GOOGLE_APPLICATION_CREDENTIALS": path], http: Self.http)
            .provider(credentialsFile: nil).token())
        #expect(fromEnvironment.value.hasPrefix("ya29.test-"))
        // Relative to systemd's credentials directory.
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let name = URL(fileURLWithPath: path).lastPathComponent
        let viaCredentials = try #require(try await GoogleTokenResolver(environment: ["CREDENTIALS_DIRECTORY": directory], http: Self.http)
            .provider(credentialsFile: name).token())
        #expect(viaCredentials.value.hasPrefix("ya29.test-"))
    }

    // MARK: CachedTokenProvider

    @Test("a token valid for less than the 300 s margin is fetched again on every call")
    func refreshBelowMargin() async throws {
        let (provider, counter, key) = try await serviceAccount(label: "short")
        try await GCPFault.setGoogleLifetime(seconds: 120, key: key)
        let cached = CachedTokenProvider(provider)
        var values: Set<String> = []
        for _ in 0..<3 { values.insert(try #require(try await cached.token()).value) }
        #expect(values.count == 3)
        #expect(await cached.refreshes == 3)
        #expect(try await GCPFault.stat(counter) == 3)
    }

    @Test("a token valid for longer than the margin is reused")
    func reuseAboveMargin() async throws {
        let (provider, counter, key) = try await serviceAccount(label: "long")
        try await GCPFault.setGoogleLifetime(seconds: 3600, key: key)
        let cached = CachedTokenProvider(provider)
        let first = try #require(try await cached.token())
        for _ in 0..<5 { #expect(try await cached.token() == first) }
        #expect(await cached.refreshes == 1)
        #expect(try await GCPFault.stat(counter) == 1)
    }

    @Test("a token at 301 s is reused; the clock passing the margin triggers one refresh")
    func marginBoundary() async throws {
        let (provider, counter, key) = try await serviceAccount(label: "edge")
        try await GCPFault.setGoogleLifetime(seconds: 900, key: key)
        let clock = TestClock()
        let cached = CachedTokenProvider(provider, now: { clock.now })
        let first = try #require(try await cached.token())
        clock.advance(by: 590)  // 900 - 590 = 310 s left: still fresh
        #expect(try await cached.token() == first)
        clock.advance(by: 20)  // 290 s left: inside the margin
        let second = try #require(try await cached.token())
        #expect(second != first)
        #expect(try await GCPFault.stat(counter) == 2)
    }

    @Test("concurrent callers of an empty cache cause one token request")
    func concurrentCallers() async throws {
        let (provider, counter, _) = try await serviceAccount(label: "concurrent")
        let cached = CachedTokenProvider(provider)
        let values = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<24 { group.addTask { try await cached.token()?.value } }
            var out: [String?] = []
            for try await value in group { out.append(value) }
            return out
        }
        #expect(values.count == 24)
        #expect(Set(values).count == 1 && values.first??.hasPrefix("ya29.test-") == true)
        #expect(await cached.refreshes == 1)
        #expect(try await GCPFault.stat(counter) == 1)
    }

    @Test("concurrent callers of an expired cache share one refresh")
    func concurrentRefresh() async throws {
        let (provider, counter, key) = try await serviceAccount(label: "concurrent-refresh")
        try await GCPFault.setGoogleLifetime(seconds: 900, key: key)
        let clock = TestClock()
        let cached = CachedTokenProvider(provider, now: { clock.now })
        let first = try #require(try await cached.token())
        clock.advance(by: 700)  // 200 s left: stale
        // The refreshed token must be fresh on the moved clock too, or late callers would refresh again.
        try await GCPFault.setGoogleLifetime(seconds: 3600, key: key)
        let values = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<16 { group.addTask { try await cached.token()?.value } }
            var out: [String?] = []
            for try await value in group { out.append(value) }
            return out
        }
        #expect(Set(values).count == 1 && values.first! != first.value)
        #expect(try await GCPFault.stat(counter) == 2)
    }

    @Test("a failed refresh is an error for its callers; the next call tries again")
    func failedRefresh() async throws {
        let source = FlakySource()
        let cached = CachedTokenProvider(source)
        await #expect(throws: GoogleAuthError("source down")) { try await cached.token() }
        #expect(try await cached.token()?.value == "ok-2")
        #expect(await cached.refreshes == 2)
    }

    // MARK: helpers

    static func errorDescription(_ body: () async throws -> GoogleAccessToken?) async -> String {
        do {
            let token = try await body()
            Issue.record("expected an error, got \(String(describing: token))")
            return ""
        } catch {
            return "\(error)"
        }
    }

    static func expectNoSecrets(_ text: String, pems: [String], paths: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!text.contains("PRIVATE KEY"), sourceLocation: sourceLocation)
        #expect(!text.contains("ya29."), sourceLocation: sourceLocation)
        for pem in pems {
            for line in pem.split(separator: "\n") where !line.hasPrefix("-----") {
                #expect(!text.contains(line), "key material in: \(text)", sourceLocation: sourceLocation)
            }
        }
        _ = paths  // naming the file is allowed; its contents are not
    }
}

/// A clock tests move by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date()
    var now: Date { lock.withLock { current } }
    func advance(by seconds: TimeInterval) { lock.withLock { current += seconds } }
}

/// Fails the first time, then hands out `ok-N`.
final class FlakySource: GoogleTokenProvider, @unchecked Sendable {
    private let lock = NSLock()
    private var calls = 0
    func token() async throws(GoogleAuthError) -> GoogleAccessToken? {
        let n = lock.withLock { calls += 1; return calls }
        if n == 1 { throw GoogleAuthError("source down") }
        return GoogleAccessToken(value: "ok-\(n)", expiresAt: Date().addingTimeInterval(3600))
    }
}
