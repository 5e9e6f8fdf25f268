import Foundation
import Testing

/// Finds the real peers `scripts/peers.sh start` launched, through the JSON files it writes.
/// A missing peer fails the test with what to do; it never skips silently.
enum Peers {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Moto: Decodable {
        struct Key: Decodable {
            var access_key_id: String
            var secret_access_key: String
        }
        struct KMS: Decodable {
            var good: String
            var nogrant: String
            var disabled: String
        }
        var endpoint: String
        var region: String
        var reader: Key
        var nopolicy_reader: Key
        var kms: KMS
        var buckets: [String]
    }

    struct Seaweed: Decodable {
        var endpoint: String
        var region: String
        var access_key_id: String
        var secret_access_key: String
        var encryption: String
        var buckets: [String]
    }

    static func load<T: Decodable>(_ name: String) throws -> T {
        let url = repoRoot.appendingPathComponent(".peers/\(name)")
        guard let data = try? Data(contentsOf: url) else {
            Issue.record("test peers are not running (\(url.path) missing): run `bash scripts/peers.sh start`")
            throw PeerMissing()
        }
        return try JSONDecoder().decode(T.self, from: data)
    }

    static func moto() throws -> Moto { try load("moto.json") }
    static func seaweed() throws -> Seaweed { try load("seaweed.json") }

    struct PeerMissing: Error {}

    /// Writes an AWS shared credentials file with one `[default]` profile; returns its path.
    static func credentialsFile(accessKey: String, secret: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bucketwatch-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("credentials").path
        try "[default]\naws_access_key_id = \(accessKey)\naws_secret_access_key = \(secret)\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
