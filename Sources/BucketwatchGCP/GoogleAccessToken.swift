import BucketwatchTransport
import Foundation

/// An OAuth 2 access token. `description` never shows the token itself.
public struct GoogleAccessToken: Sendable, Equatable, CustomStringConvertible {
    public var value: String
    public var expiresAt: Date?

    public init(value: String, expiresAt: Date?) {
        self.value = value
        self.expiresAt = expiresAt
    }

    public var description: String { "GoogleAccessToken(<redacted>, expires: \(expiresAt.map { "\($0)" } ?? "never"))" }
}

/// Why no token could be had. Names sources, files and the token endpoint's error code,
/// never key material or tokens.
public struct GoogleAuthError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "no Google access token: \(reason)" }
}

/// A source of access tokens for the storage API.
public protocol GoogleTokenProvider: Sendable {
    /// `nil` means "send no Authorization header" (the emulator case, `STORAGE_EMULATOR_HOST`).
    func token() async throws(GoogleAuthError) -> GoogleAccessToken?
}

/// The scope every token is asked for. `devstorage.read_only` cannot call
/// `buckets.getIamPolicy`; `cloud-platform` can, and IAM restricts what it may do.
public let googleStorageScope = "https://www.googleapis.com/auth/cloud-platform"

/// Caches another provider's token, refreshes it `refreshMargin` before it expires, and
/// runs at most one refresh at a time. Shared by every store with the same identity.
public final class CachedTokenProvider: GoogleTokenProvider {
    private let cache: ExpiringValueCache<GoogleAccessToken?>

    public init(_ source: any GoogleTokenProvider, refreshMargin: Duration = .seconds(300), now: @escaping @Sendable () -> Date = Date.init) {
        cache = ExpiringValueCache(refreshMargin: refreshMargin, now: now, expiry: { $0?.expiresAt }) { try await source.token() }
    }

    /// How many times the source was asked (tests).
    public var refreshes: Int { get async { await cache.fetches } }

    public func token() async throws(GoogleAuthError) -> GoogleAccessToken? {
        do {
            return try await cache.value()
        } catch let error as GoogleAuthError {
            throw error
        } catch {
            throw GoogleAuthError("\(error)")
        }
    }
}

/// The emulator needs no token (as in Google's own client libraries).
public struct NoTokenProvider: GoogleTokenProvider {
    public init() {}
    public func token() async throws(GoogleAuthError) -> GoogleAccessToken? { nil }
}

/// An access token kept in a file (for instance written by another agent); re-read each time.
public struct TokenFileProvider: GoogleTokenProvider {
    public var path: String
    public init(path: String) { self.path = path }

    public func token() async throws(GoogleAuthError) -> GoogleAccessToken? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw GoogleAuthError("access token file \(path) cannot be read")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, !token.contains(where: { $0.isNewline || $0 == " " }) else {
            throw GoogleAuthError("access token file \(path) does not hold a single token")
        }
        // No expiry is known: re-read the file every minute.
        return GoogleAccessToken(value: token, expiresAt: Date().addingTimeInterval(360))
    }
}

/// The GCE / GKE metadata server (`GCE_METADATA_HOST` overrides the address).
public struct MetadataServerTokenProvider: GoogleTokenProvider {
    public var host: String
    let http: any HTTPClient

    public init(host: String, http: any HTTPClient) {
        self.host = host
        self.http = http
    }

    public func token() async throws(GoogleAuthError) -> GoogleAccessToken? {
        let base = host.hasPrefix("http://") || host.hasPrefix("https://") ? host : "http://\(host)"
        let url = "\(base)/computeMetadata/v1/instance/service-accounts/default/token?scopes=\(PercentEncoding.rfc3986(googleStorageScope))"
        let response: HTTPResponse
        do {
            response = try await http.send(HTTPRequest(
                url: url, headers: [(name: "Metadata-Flavor", value: "Google")],
                limits: RequestLimits(connectTimeout: .seconds(2), totalTimeout: .seconds(5), maxResponseBytes: 64 * 1024)))
        } catch {
            throw GoogleAuthError("metadata server: \(error)")
        }
        guard response.status == 200 else { throw GoogleAuthError("metadata server answered HTTP \(response.status)") }
        // A genuine metadata server echoes the header; anything else may be a captive proxy.
        guard response.header("Metadata-Flavor") == "Google" else {
            throw GoogleAuthError("the metadata server's answer lacks Metadata-Flavor: Google")
        }
        return try OAuthTokenResponse.parse(response.body, source: "metadata server")
    }
}

enum OAuthTokenResponse {
    static func parse(_ body: [UInt8], source: String) throws(GoogleAuthError) -> GoogleAccessToken {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
              let token = object["access_token"] as? String, !token.isEmpty
        else { throw GoogleAuthError("\(source): unparsable token response") }
        let expiresIn = (object["expires_in"] as? NSNumber)?.doubleValue ?? Double(object["expires_in"] as? String ?? "") ?? 3600
        return GoogleAccessToken(value: token, expiresAt: Date().addingTimeInterval(expiresIn))
    }

    /// `{"error": "invalid_grant", "error_description": "..."}`: safe to show.
    static func error(_ response: HTTPResponse) -> String {
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        let code = object?["error"] as? String
        let description = object?["error_description"] as? String
        return ["HTTP \(response.status)", code, description].compactMap { $0 }.joined(separator: " ")
    }
}

