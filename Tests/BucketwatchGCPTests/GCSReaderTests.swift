import BucketwatchCore
import BucketwatchTransport
import Foundation
import Testing

@testable import BucketwatchGCP

/// An `HTTPClient` that answers from a script and records what it was sent.
final class ScriptedHTTP: HTTPClient, @unchecked Sendable {
    typealias Answer = Result<HTTPResponse, TransportError>
    private let lock = NSLock()
    private var sent: [HTTPRequest] = []
    private var counts: [String: Int] = [:]
    /// (resource "bucket" or "iam", attempt number from 1) -> answer.
    private let script: @Sendable (String, Int) -> Answer

    init(_ script: @escaping @Sendable (String, Int) -> Answer) { self.script = script }

    var requests: [HTTPRequest] { lock.withLock { sent } }

    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let resource = request.url.contains("/iam?") ? "iam" : "bucket"
        let attempt = lock.withLock {
            sent.append(request)
            counts[resource, default: 0] += 1
            return counts[resource]!
        }
        return try script(resource, attempt).get()
    }

    static func json(_ status: Int, _ text: String) -> Answer { .success(HTTPResponse(status: status, headers: [(name: "content-type", value: "application/json")], body: Array(text.utf8))) }
}

struct FixedToken: GoogleTokenProvider {
    var result: Result<GoogleAccessToken?, GoogleAuthError>
    func token() async throws(GoogleAuthError) -> GoogleAccessToken? { try result.get() }
}

@Suite("GCSReader")
struct GCSReaderTests {
    static let bucketBody = #"{"versioning":{"enabled":true},"softDeletePolicy":{"retentionDurationSeconds":"604800"},"iamConfiguration":{"publicAccessPrevention":"enforced"}}"#
    static let iamBody = #"{"version":3,"bindings":[{"role":"roles/storage.admin","members":["serviceAccount:a@b"]}]}"#
    static let fastRetry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5))
    static let token = FixedToken(result: .success(GoogleAccessToken(value: "ya29.scripted", expiresAt: nil)))

    func reader(_ http: ScriptedHTTP, tokens: any GoogleTokenProvider = GCSReaderTests.token, bucket: String = "bw-bucket") -> GCSReader {
        GCSReader(baseURL: "https://storage.example/storage/v1/", bucket: bucket, tokens: tokens, http: http, retry: Self.fastRetry)
    }

    // MARK: base URL

    @Test("base URL: the store's endpoint, else STORAGE_EMULATOR_HOST, else Google's", arguments: [
        (String?.none, [String: String](), "https://storage.googleapis.com/storage/v1"),
        (String?.none, ["STORAGE_EMULATOR_HOST": ""], "https://storage.googleapis.com/storage/v1"),
        (String?.none, ["STORAGE_EMULATOR_HOST": "127.0.0.1:9023"], "http://127.0.0.1:9023/storage/v1"),
        (String?.none, ["STORAGE_EMULATOR_HOST": "localhost:9023/"], "http://localhost:9023/storage/v1"),
        (String?.none, ["STORAGE_EMULATOR_HOST": "http://127.0.0.1:9023"], "http://127.0.0.1:9023/storage/v1"),
        (String?.none, ["STORAGE_EMULATOR_HOST": "http://127.0.0.1:9023/"], "http://127.0.0.1:9023/storage/v1"),
        (String?.none, ["STORAGE_EMULATOR_HOST": "https://gcs.test:8443"], "https://gcs.test:8443/storage/v1"),
        (String?.some("https://gcs.internal"), ["STORAGE_EMULATOR_HOST": "127.0.0.1:9023"], "https://gcs.internal/storage/v1"),
        (String?.some("https://gcs.internal/"), [:], "https://gcs.internal/storage/v1"),
        (String?.some("http://127.0.0.1:5056/gcs/storage/v1"), [:], "http://127.0.0.1:5056/gcs/storage/v1"),
        (String?.some("http://127.0.0.1:5056/gcs/storage/v1/"), [:], "http://127.0.0.1:5056/gcs/storage/v1"),
        // A path is taken as the whole base: nothing is appended to it.
        (String?.some("http://127.0.0.1:5056/gcs"), [:], "http://127.0.0.1:5056/gcs"),
        (String?.some("storage.internal:443"), [:], "http://storage.internal:443/storage/v1"),
    ])
    func baseURL(endpoint: String?, environment: [String: String], expected: String) {
        #expect(GCSReader.baseURL(storeEndpoint: endpoint, environment: environment) == expected)
    }

    @Test("the reader drops a trailing slash of its base URL")
    func trailingSlash() {
        #expect(reader(ScriptedHTTP { _, _ in .failure(.cancelled) }).baseURL == "https://storage.example/storage/v1")
    }

    // MARK: requests

    @Test("two GETs: the bucket with fields=, the IAM policy at version 3; bearer token and Accept")
    func requestShape() async throws {
        let http = ScriptedHTTP { resource, _ in ScriptedHTTP.json(200, resource == "iam" ? Self.iamBody : Self.bucketBody) }
        let observed = await reader(http).read()
        let urls = Set(http.requests.map(\.url))
        #expect(urls == [
            "https://storage.example/storage/v1/b/bw-bucket?fields=versioning%2CsoftDeletePolicy%2Cencryption%2Ccors%2CiamConfiguration",
            "https://storage.example/storage/v1/b/bw-bucket/iam?optionsRequestedPolicyVersion=3",
        ])
        for request in http.requests {
            #expect(request.method == "GET")
            #expect(request.headers.contains { $0.name == "Authorization" && $0.value == "Bearer ya29.scripted" })
            #expect(request.headers.contains { $0.name == "Accept" && $0.value == "application/json" })
        }
        #expect(observed.bucket.value?.versioningEnabled == true)
        #expect(observed.bucket.value?.publicAccessPrevention == "enforced")
        #expect(observed.iam.value?.bindings.first?.role == "roles/storage.admin")
    }

    @Test("no token (emulator): no Authorization header")
    func noToken() async {
        let http = ScriptedHTTP { resource, _ in ScriptedHTTP.json(200, resource == "iam" ? Self.iamBody : Self.bucketBody) }
        _ = await reader(http, tokens: NoTokenProvider()).read()
        #expect(http.requests.count == 2)
        #expect(http.requests.allSatisfy { request in !request.headers.contains { $0.name.lowercased() == "authorization" } })
    }

    @Test("the bucket name is percent-encoded in the path")
    func encodedName() async {
        let http = ScriptedHTTP { _, _ in ScriptedHTTP.json(404, "") }
        _ = await reader(http, bucket: "a b/c").read()
        #expect(http.requests.allSatisfy { $0.url.contains("/b/a%20b%2Fc") })
    }

    @Test("404: the bucket is missing (both resources)")
    func missing() async {
        let http = ScriptedHTTP { _, _ in ScriptedHTTP.json(404, #"{"error":{"code":404,"message":"Not Found","errors":[{"reason":"notFound"}]}}"#) }
        let observed = await reader(http).read()
        #expect(observed == GCSObservations(bucket: .bucketMissing, iam: .bucketMissing))
    }

    @Test("an empty 404 (the emulator) is a missing bucket too")
    func missingEmptyBody() async {
        let http = ScriptedHTTP { _, _ in .success(HTTPResponse(status: 404)) }
        #expect(await reader(http).read() == GCSObservations(bucket: .bucketMissing, iam: .bucketMissing))
    }

    /// docs/provider-apis.md §7: only the provider's own "not found" answer means absent. A 404
    /// page from something else (a wrong `endpoint` path, a proxy) cannot tell whether the
    /// bucket exists, and must not become "bucket does not exist" drift on every check.
    @Test("a 404 that is not Google's (HTML or plain text) is unknown, not a missing bucket")
    func foreign404() async {
        let http = ScriptedHTTP { _, _ in .success(HTTPResponse(status: 404, headers: [(name: "content-type", value: "text/plain")], body: Array("no such route\n".utf8))) }
        let observed = await reader(http).read()
        #expect(observed.bucket != .bucketMissing)
        #expect(observed.iam != .bucketMissing)
    }

    @Test("403 on the IAM policy: unreadable with Google's reason; the bucket is still read")
    func iamForbidden() async {
        let http = ScriptedHTTP { resource, _ in
            resource == "iam"
                ? ScriptedHTTP.json(403, #"{"error":{"code":403,"message":"a@b does not have storage.buckets.getIamPolicy access","errors":[{"reason":"forbidden"}]}}"#)
                : ScriptedHTTP.json(200, Self.bucketBody)
        }
        let observed = await reader(http).read()
        #expect(observed.iam == .unreadable("HTTP 403 forbidden: a@b does not have storage.buckets.getIamPolicy access"))
        #expect(observed.bucket.value != nil)
        #expect(http.requests.count == 2, "403 is not retried")
    }

    @Test("429 and 5xx are retried; a later 200 wins", arguments: [429, 408, 500, 503])
    func retried(status: Int) async {
        let http = ScriptedHTTP { resource, attempt in
            attempt == 1 ? ScriptedHTTP.json(status, "{}") : ScriptedHTTP.json(200, resource == "iam" ? Self.iamBody : Self.bucketBody)
        }
        let observed = await reader(http).read()
        #expect(observed.bucket.value != nil && observed.iam.value != nil)
        #expect(http.requests.count == 4)
    }

    @Test("throttled every time: unknown after the retries, with the reason")
    func alwaysThrottled() async {
        let http = ScriptedHTTP { _, _ in ScriptedHTTP.json(429, #"{"error":{"code":429,"message":"slow down","errors":[{"reason":"rateLimitExceeded"}]}}"#) }
        let observed = await reader(http).read()
        #expect(observed.bucket == .unreadable("HTTP 429 rateLimitExceeded: slow down"))
        #expect(http.requests.count == 6)
    }

    @Test("transport errors: dropped connections are retried, the rest are not")
    func transportErrors() async {
        let dropped = ScriptedHTTP { resource, attempt in
            attempt == 1 ? .failure(.connectionFailed("127.0.0.1")) : ScriptedHTTP.json(200, resource == "iam" ? Self.iamBody : Self.bucketBody)
        }
        #expect(await reader(dropped).read().bucket.value != nil)
        let slow = ScriptedHTTP { _, _ in .failure(.timedOut("storage.example")) }
        let observed = await reader(slow).read()
        #expect(observed.bucket == .unreadable("timed out (storage.example)"))
        #expect(slow.requests.count == 2)
        let huge = ScriptedHTTP { _, _ in .failure(.responseTooLarge(limit: 1 << 20)) }
        #expect(await reader(huge).read().iam == .unreadable("response larger than the 1048576-byte limit"))
        let down = ScriptedHTTP { _, _ in .failure(.connectionFailed("storage.example")) }
        #expect(await reader(down).read().bucket == .unreadable("connection failed (storage.example) after 3 attempts"))
    }

    @Test("a 200 that is not the expected JSON is unknown, never a value")
    func unparsable() async {
        let http = ScriptedHTTP { _, _ in .success(HTTPResponse(status: 200, body: Array("<html>captive portal</html>".utf8))) }
        let observed = await reader(http).read()
        #expect(observed.bucket == .unreadable("unparsable bucket response (HTTP 200)"))
        #expect(observed.iam == .unreadable("unparsable bucket IAM policy response (HTTP 200)"))
    }

    @Test("no token: both resources unknown with the reason, and nothing is sent")
    func tokenFailure() async {
        let http = ScriptedHTTP { _, _ in ScriptedHTTP.json(200, "{}") }
        let observed = await reader(http, tokens: FixedToken(result: .failure(GoogleAuthError("token endpoint: HTTP 400 invalid_grant")))).read()
        #expect(observed.bucket == .unreadable("no Google access token: token endpoint: HTTP 400 invalid_grant"))
        #expect(observed.iam == .unreadable("no Google access token: token endpoint: HTTP 400 invalid_grant"))
        #expect(http.requests.isEmpty)
    }
}

@Suite("Token sources without a server")
struct LocalTokenSourceTests {
    @Test("a token file: one token, trimmed, re-read within a few minutes")
    func tokenFile() async throws {
        let path = try GCPFault.write("  ya29.file-token-123\n", name: "token")
        let before = Date()
        let token = try #require(try await TokenFileProvider(path: path).token())
        #expect(token.value == "ya29.file-token-123")
        let lifetime = try #require(token.expiresAt).timeIntervalSince(before)
        #expect(lifetime > 300 && lifetime < 400, "refreshed one minute after the 300 s margin: \(lifetime)")
        #expect(!token.description.contains("ya29"))
    }

    @Test("a token file that does not hold one token: an error naming the file, not its contents", arguments: [
        "", "\n\n", "ya29.one ya29.two", "ya29.one\nya29.two", "ya29.one\r\nx",
    ])
    func badTokenFile(content: String) async throws {
        let path = try GCPFault.write(content, name: "token")
        do {
            _ = try await TokenFileProvider(path: path).token()
            Issue.record("accepted \(content.debugDescription)")
        } catch {
            #expect(error.description == "no Google access token: access token file \(path) does not hold a single token")
        }
    }

    @Test("a missing token file")
    func missingTokenFile() async {
        await #expect(throws: GoogleAuthError("access token file /nonexistent/token cannot be read")) {
            try await TokenFileProvider(path: "/nonexistent/token").token()
        }
    }

    @Test("the resolver: STORAGE_EMULATOR_HOST means no token at all")
    func emulator() async throws {
        let resolver = GoogleTokenResolver(environment: ["STORAGE_EMULATOR_HOST": "127.0.0.1:9023", "GOOGLE_APPLICATION_CREDENTIALS": "/nonexistent"],
                                           http: ScriptedHTTP { _, _ in .failure(.cancelled) })
        #expect(try await resolver.provider(credentialsFile: "/nonexistent/key.json").token() == nil)
    }

    @Test("the resolver: a credentials_file holding a token; one shared provider per identity")
    func tokenFileThroughResolver() async throws {
        let path = try GCPFault.write("ya29.shared\n", name: "token")
        let resolver = GoogleTokenResolver(environment: ["STORAGE_EMULATOR_HOST": ""], http: ScriptedHTTP { _, _ in .failure(.cancelled) })
        let first = resolver.provider(credentialsFile: path)
        #expect(try await first.token()?.value == "ya29.shared")
        let shared = try #require(first as? CachedTokenProvider)
        let second = try #require(resolver.provider(credentialsFile: path) as? CachedTokenProvider)
        let other = try #require(resolver.provider(credentialsFile: path + ".other") as? CachedTokenProvider)
        let sameInstance = ObjectIdentifier(shared) == ObjectIdentifier(second)
        let otherInstance = ObjectIdentifier(shared) != ObjectIdentifier(other)
        #expect(sameInstance)
        #expect(otherInstance)
        #expect(await shared.refreshes == 1)
    }

    @Test("the resolver: unreadable or foreign credentials files are errors naming the file")
    func badCredentialFiles() async throws {
        let resolver = GoogleTokenResolver(environment: [:], http: ScriptedHTTP { _, _ in .failure(.cancelled) })
        await #expect(throws: GoogleAuthError("credentials file /nonexistent/key.json cannot be read")) {
            try await resolver.provider(credentialsFile: "/nonexistent/key.json").token()
        }
        let secret = "1//refresh-token-\(UUID().uuidString)"
        let user = try GCPFault.write(#"{"type":"authorized_user","client_id":"x","client_secret":"y","refresh_token":"\#(secret)"}"#, name: "adc.json")
        do {
            _ = try await resolver.provider(credentialsFile: user).token()
            Issue.record("an authorized_user file gave a token")
        } catch {
            #expect(error.description.contains("not a service account key"))
            #expect(!error.description.contains(secret))
        }
    }
}
