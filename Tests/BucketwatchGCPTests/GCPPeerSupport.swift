import BucketwatchTransport
import Foundation
import Testing

@testable import BucketwatchGCP

/// The fault server that `bash scripts/peers.sh start` launches (scripts/peers/fault_server.py),
/// with its Google stand-ins: the token endpoint (`/google/token[/KEY]`), the metadata server
/// (`/computeMetadata/...`, `/meta/KEY/computeMetadata/...`) and the test service account's
/// key file it writes at start (`.peers/gcp-sa-key.json`). A missing peer fails the test with
/// what to do; it never skips silently.
enum GCPFault {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let base: String = {
        let configured = ProcessInfo.processInfo.environment["BUCKETWATCH_FAULT_URL"] ?? ""
        let url = configured.isEmpty ? "http://127.0.0.1:5056" : configured
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }()

    /// `host:port` of the fault server, as `GCE_METADATA_HOST` wants it.
    static var hostPort: String { base.replacingOccurrences(of: "http://", with: "") }

    static var keyFilePath: String {
        let configured = ProcessInfo.processInfo.environment["BUCKETWATCH_GCP_KEY_FILE"] ?? ""
        return configured.isEmpty ? repoRoot.appendingPathComponent(".peers/gcp-sa-key.json").path : configured
    }

    static let clientEmail = "bucketwatch-test@test-project.iam.gserviceaccount.com"

    /// For the helpers below only; tests make their own clients.
    static let http = CurlHTTPClient(maxConcurrentTransfers: 4)

    struct NotRunning: Error, CustomStringConvertible {
        var detail: String
        var description: String { "test peers are not running: run bash scripts/peers.sh start (\(detail))" }
    }

    /// The base URL, after checking that the fault server answers and has the Google routes.
    @discardableResult
    static func url() async throws -> String {
        let response: HTTPResponse
        do {
            response = try await get("/google/pubkey")
        } catch {
            throw NotRunning(detail: "\(base)/google/pubkey: \(error)")
        }
        guard response.status == 200 else {
            throw NotRunning(detail: "\(base)/google/pubkey answered HTTP \(response.status): an old fault server without the Google routes? restart it")
        }
        return base
    }

    static func get(_ path: String, headers: [(name: String, value: String)] = []) async throws -> HTTPResponse {
        try await http.send(HTTPRequest(url: base + path, headers: headers, limits: RequestLimits(connectTimeout: .seconds(2), totalTimeout: .seconds(10))))
    }

    static func json(_ path: String) async throws -> [String: Any] {
        let response = try await get(path)
        try #require(response.status == 200, "GET \(path): HTTP \(response.status)")
        return try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    /// A counter from `/__stats`: `google_token_issued[:KEY]`, `metadata_token_issued[:KEY]`,
    /// or a request path.
    static func stat(_ name: String) async throws -> Int {
        (try await json("/__stats")[name] as? Int) ?? 0
    }

    /// The public half of the test service account's key, as the server made it.
    static func publicKeyPEM() async throws -> String {
        try #require(try await json("/google/pubkey")["kid1"] as? String)
    }

    /// The key file the fault server wrote at start: its path, parsed key and raw JSON.
    static func keyFile() async throws -> (path: String, key: ServiceAccountKey, pem: String) {
        try await url()
        let path = keyFilePath
        let data = try #require(FileManager.default.contents(atPath: path), "no \(path): restart the fault server (bash scripts/peers.sh start)")
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let pem = try #require(object["private_key"] as? String)
        let key = try ServiceAccountKey.parse([UInt8](data), source: path)
        try #require(key.tokenURI == base + "/google/token", "the key file \(path) belongs to another fault server (token_uri \(key.tokenURI))")
        return (path, key, pem)
    }

    /// A key no other test (or run) shares, for `/google/token/KEY` and `/meta/KEY/...`.
    static func uniqueKey(_ label: String) -> String {
        "\(label)-\(UUID().uuidString.lowercased())"
    }

    static func tokenURI(key: String) -> String { "\(base)/google/token/\(key)" }

    /// Sets the lifetime of tokens issued under KEY only (others keep theirs).
    static func setGoogleLifetime(seconds: Int, key: String) async throws {
        let config = try await json("/__config?google_expires_in=\(seconds)&key=\(key)")
        try #require(config["google_expires_in"] as? Int == seconds, "fault server config: \(config)")
    }

    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bucketwatch-gcp-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    static func write(_ text: String, name: String) throws -> String {
        let path = try temporaryDirectory().appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

enum Base64URL {
    static func decode(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
