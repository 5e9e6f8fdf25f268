import BucketwatchTransport
import Foundation
import Testing

@testable import BucketwatchAWS

/// The fault server that `bash scripts/peers.sh start` launches (scripts/peers/fault_server.py).
/// Tests call `FaultPeer.url()` first: when `/ok` does not answer, the test fails with what to
/// do. It never skips silently.
enum FaultPeer {
    static let base: String = {
        let configured = ProcessInfo.processInfo.environment["BUCKETWATCH_FAULT_URL"] ?? ""
        let url = configured.isEmpty ? "http://127.0.0.1:5056" : configured
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }()

    /// For the helpers below only; tests make their own clients.
    static let http = CurlHTTPClient(maxConcurrentTransfers: 4)

    struct NotRunning: Error, CustomStringConvertible {
        var detail: String
        var description: String { "test peers are not running: run bash scripts/peers.sh start (\(detail))" }
    }

    /// The base URL, after checking that `GET /ok` answers `200 hello`.
    static func url() async throws -> String {
        let response: HTTPResponse
        do {
            response = try await http.send(HTTPRequest(url: base + "/ok", limits: RequestLimits(connectTimeout: .seconds(2), totalTimeout: .seconds(5))))
        } catch {
            throw NotRunning(detail: "\(base)/ok: \(error)")
        }
        guard response.status == 200, response.bodyText == "hello" else {
            throw NotRunning(detail: "\(base)/ok answered HTTP \(response.status), not the fault server's 200 hello")
        }
        return base
    }

    static func get(_ path: String) async throws -> HTTPResponse {
        try await http.send(HTTPRequest(url: base + path, limits: RequestLimits(totalTimeout: .seconds(10))))
    }

    static func json(_ path: String) async throws -> [String: Any] {
        let response = try await get(path)
        try #require(response.status == 200, "GET \(path): HTTP \(response.status)")
        return try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    /// How many requests `/flaky/KEY` has had.
    static func flakyCount(_ key: String) async throws -> Int {
        try #require(try await json("/__stats/flaky/\(key)")["count"] as? Int)
    }

    /// Requests per path since the last `/__reset` (paths under `/__` are not counted).
    static func count(path: String) async throws -> Int {
        (try await json("/__stats")[path] as? Int) ?? 0
    }

    /// Sets the lifetime of the credentials IMDS and the container endpoint issue.
    static func setCredentialLifetime(seconds: Int) async throws {
        let config = try await json("/__config?expires_in=\(seconds)")
        try #require(config["expires_in"] as? Int == seconds, "fault server config: \(config)")
    }

    /// A key for `/flaky/KEY` that no other test (or run) shares.
    static func uniqueKey(_ label: String) -> String {
        "\(label)-\(UUID().uuidString.lowercased())"
    }
}

/// The second moto instance reserved for the STS web-identity test, as `.peers/moto-sts.json`
/// describes it (written by `scripts/peers.sh start`). Switching its auth off cannot let other
/// tests' requests through, because no other test talks to it.
enum MotoPeer {
    struct Info: Decodable {
        struct Key: Decodable {
            var access_key_id: String
            var secret_access_key: String
        }
        var endpoint: String
        var region: String
        var reader: Key
        var role_arn: String
    }

    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func info() throws -> Info {
        let url = repoRoot.appendingPathComponent(".peers/moto-sts.json")
        guard let data = try? Data(contentsOf: url) else {
            throw FaultPeer.NotRunning(detail: "\(url.path) is missing")
        }
        return try JSONDecoder().decode(Info.self, from: data)
    }

    /// Only for switching auth: never queued behind other tests' helper requests.
    static let authHTTP = CurlHTTPClient(maxConcurrentTransfers: 1)

    /// `POST /moto-api/reset-auth`: body `inf` switches SigV4/IAM checking off, `0` back on.
    static func setAuth(enabled: Bool, endpoint: String) async throws {
        let response: HTTPResponse
        do {
            response = try await authHTTP.send(HTTPRequest(
                method: "POST", url: endpoint + "/moto-api/reset-auth",
                headers: [(name: "Content-Type", value: "text/plain")], body: Array((enabled ? "0" : "inf").utf8),
                limits: RequestLimits(connectTimeout: .seconds(2), totalTimeout: .seconds(10))))
        } catch {
            throw FaultPeer.NotRunning(detail: "moto at \(endpoint): \(error)")
        }
        try #require(response.status == 200, "moto reset-auth \(enabled ? "0" : "inf"): HTTP \(response.status) \(response.bodyText)")
    }

    /// Runs `body` with moto's auth switched off, and switches it back on whatever happens.
    /// moto 5.2.1 answers unsigned requests (AssumeRoleWithWebIdentity) with a 500 while auth is on.
    static func withAuthOff<T>(endpoint: String, _ body: () async throws -> T) async throws -> T {
        let start = ContinuousClock.now
        try await setAuth(enabled: false, endpoint: endpoint)
        let off = ContinuousClock.now
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        let bodyDone = ContinuousClock.now
        defer { print("measured: moto auth was off for at most \(ContinuousClock.now - start) (off \(off - start), body \(bodyDone - off), on \(ContinuousClock.now - bodyDone))") }
        // Retry switching auth back on: leaving moto open would make other tests lie.
        var lastError: (any Error)?
        for _ in 0..<3 {
            do {
                try await setAuth(enabled: true, endpoint: endpoint)
                lastError = nil
                break
            } catch {
                lastError = error
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        if let lastError { throw lastError }
        return try result.get()
    }
}

/// Fixed credentials: the fault server does not check signatures.
struct FixedCredentials: AWSCredentialProvider {
    var value: AWSCredentials
    init(_ value: AWSCredentials) { self.value = value }
    func credentials() async throws(CredentialError) -> AWSCredentials { value }
}

let dummyCredentials = AWSCredentials(
    accessKeyID: "AKIDFAULTTEST000001", secretAccessKey: "dummy-secret-never-sent-Zx81", sessionToken: "dummy-session-token-Qw27")

/// Records requests and answers with a fixed response; sends nothing anywhere.
final class RecordingHTTPClient: HTTPClient, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [HTTPRequest] = []
    let answer: HTTPResponse

    init(answer: HTTPResponse = HTTPResponse(status: 500)) { self.answer = answer }

    var requests: [HTTPRequest] { lock.withLock { recorded } }

    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        lock.withLock { recorded.append(request) }
        return answer
    }
}

/// A fresh temporary directory, removed by the caller.
func makeTemporaryDirectory() throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bucketwatch-aws-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}

func writeFile(_ text: String, to url: URL) throws {
    try text.write(to: url, atomically: true, encoding: .utf8)
}
