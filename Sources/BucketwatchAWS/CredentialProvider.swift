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
public actor RefreshingCredentialProvider: AWSCredentialProvider {
    private let source: any AWSCredentialProvider
    private let refreshMargin: Duration
    private let now: @Sendable () -> Date
    private var cached: AWSCredentials?
    private var refreshing: Task<AWSCredentials, any Error>?

    public init(_ source: any AWSCredentialProvider, refreshMargin: Duration = .seconds(300), now: @escaping @Sendable () -> Date = Date.init) {
        self.source = source
        self.refreshMargin = refreshMargin
        self.now = now
    }

    public func credentials() async throws(CredentialError) -> AWSCredentials {
        if let cached, !needsRefresh(cached) { return cached }
        let task: Task<AWSCredentials, any Error>
        if let refreshing {
            task = refreshing
        } else {
            let source = self.source
            task = Task { try await source.credentials() }
            refreshing = task
        }
        // Only the refresh this caller waited for is cleared: a newer one started meanwhile
        // by another caller must stay visible, or refreshes would pile up.
        defer { if refreshing == task { refreshing = nil } }
        do {
            let fresh = try await task.value
            cached = fresh
            return fresh
        } catch let error as CredentialError {
            throw error
        } catch {
            throw CredentialError("\(error)")
        }
    }

    private func needsRefresh(_ credentials: AWSCredentials) -> Bool {
        guard let expiration = credentials.expiration else { return false }
        let margin = Double(refreshMargin.components.seconds)
        return expiration.timeIntervalSince(now()) <= margin
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
