import BucketwatchTransport
import Foundation

/// Why no credentials could be had. Safe to show: names sources and files, never values.
public struct CredentialError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "no AWS credentials: \(reason)" }
}

/// A source of AWS credentials.
public protocol AWSCredentialProvider: Sendable {
    func credentials() async throws(CredentialError) -> AWSCredentials
}

/// Caches another provider's credentials and refreshes them `refreshMargin` before they
/// expire, with at most one refresh in flight however many stores ask at once.
public final class RefreshingCredentialProvider: AWSCredentialProvider {
    private let cache: ExpiringValueCache<AWSCredentials>

    public init(_ source: any AWSCredentialProvider, refreshMargin: Duration = .seconds(300), now: @escaping @Sendable () -> Date = Date.init) {
        cache = ExpiringValueCache(refreshMargin: refreshMargin, now: now, expiry: \.expiration) { try await source.credentials() }
    }

    public func credentials() async throws(CredentialError) -> AWSCredentials {
        do {
            return try await cache.value()
        } catch let error as CredentialError {
            throw error
        } catch {
            throw CredentialError("\(error)")
        }
    }
}

/// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN` (or legacy `AWS_SECURITY_TOKEN`).
public struct EnvironmentCredentialProvider: AWSCredentialProvider {
    let environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    public static func isConfigured(_ environment: [String: String]) -> Bool {
        environment["AWS_ACCESS_KEY_ID"]?.isEmpty == false && environment["AWS_SECRET_ACCESS_KEY"]?.isEmpty == false
    }

    public func credentials() async throws(CredentialError) -> AWSCredentials {
        guard let key = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"], !key.isEmpty, !secret.isEmpty else {
            throw CredentialError("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set")
        }
        let token = environment["AWS_SESSION_TOKEN"] ?? environment["AWS_SECURITY_TOKEN"]
        let expiration = environment["AWS_CREDENTIAL_EXPIRATION"].flatMap(ISO8601.parse)
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token?.isEmpty == true ? nil : token, expiration: expiration)
    }
}

enum ISO8601 {
    /// Parses `2026-11-29T12:00:00Z`, with or without fractional seconds.
    static func parse(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
