import BucketwatchTransport
import Foundation

/// Picks the token source for a GCS store, in Google's usual order, and shares one cache
/// per identity across stores:
/// `STORAGE_EMULATOR_HOST` (no token at all); the store's `credentials_file` (a
/// service-account key, or a file holding an access token); `GOOGLE_APPLICATION_CREDENTIALS`;
/// the metadata server (`GCE_METADATA_HOST`, default `metadata.google.internal`).
public final class GoogleTokenResolver: @unchecked Sendable {
    private let environment: [String: String]
    private let http: any HTTPClient
    private let lock = NSLock()
    private var providers: [String: CachedTokenProvider] = [:]

    public init(environment: [String: String], http: any HTTPClient) {
        self.environment = environment
        self.http = http
    }

    public func provider(credentialsFile: String?) -> any GoogleTokenProvider {
        if environment["STORAGE_EMULATOR_HOST"]?.isEmpty == false { return NoTokenProvider() }
        let path = credentialsFile.map { CredentialFiles.resolve($0, environment: environment) }
            ?? environment["GOOGLE_APPLICATION_CREDENTIALS"]
        let key = path ?? "metadata"
        return lock.withLock {
            if let existing = providers[key] { return existing }
            let made = CachedTokenProvider(FileOrMetadataProvider(path: path, environment: environment, http: http))
            providers[key] = made
            return made
        }
    }
}

/// Decides on each refresh what the credentials file holds, so a rotated file is picked up.
struct FileOrMetadataProvider: GoogleTokenProvider {
    let path: String?
    let environment: [String: String]
    let http: any HTTPClient

    func token() async throws(GoogleAuthError) -> GoogleAccessToken? {
        guard let path else {
            let host = environment["GCE_METADATA_HOST"] ?? environment["GCE_METADATA_IP"] ?? "metadata.google.internal"
            return try await MetadataServerTokenProvider(host: host, http: http).token()
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GoogleAuthError("credentials file \(path) cannot be read")
        }
        let bytes = [UInt8](data)
        if bytes.first(where: { !$0.isASCIIWhitespace }) == UInt8(ascii: "{") {
            return try await ServiceAccountTokenProvider(key: try ServiceAccountKey.parse(bytes, source: path), http: http).token()
        }
        return try await TokenFileProvider(path: path).token()
    }
}

private extension UInt8 {
    var isASCIIWhitespace: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D }
}
