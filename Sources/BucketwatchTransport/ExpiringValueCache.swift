import Foundation

/// Holds one value that expires (credentials, access tokens), fetches it again a margin
/// before it expires, and lets at most one fetch run at a time however many callers ask.
///
/// Shared by the AWS credential and Google token providers: both need exactly this, and
/// getting the single-flight bookkeeping right once is easier than twice.
public actor ExpiringValueCache<Value: Sendable> {
    private let refreshMargin: TimeInterval
    private let now: @Sendable () -> Date
    private let expiry: @Sendable (Value) -> Date?
    private let fetch: @Sendable () async throws -> Value
    private var cached: Value?
    private var inFlight: Task<Value, any Error>?
    /// How many fetches were started (tests and metrics).
    public private(set) var fetches = 0

    /// `expiry` returns `nil` for values that never expire (then they are fetched once).
    public init(refreshMargin: Duration, now: @escaping @Sendable () -> Date = Date.init,
                expiry: @escaping @Sendable (Value) -> Date?, fetch: @escaping @Sendable () async throws -> Value) {
        self.refreshMargin = Double(refreshMargin.components.seconds)
        self.now = now
        self.expiry = expiry
        self.fetch = fetch
    }

    public func value() async throws -> Value {
        if let cached, isFresh(cached) { return cached }
        let task: Task<Value, any Error>
        if let inFlight {
            task = inFlight
        } else {
            let fetch = self.fetch
            task = Task { try await fetch() }
            inFlight = task
            fetches += 1
        }
        // Only the fetch this caller waited for is cleared: a newer one started meanwhile by
        // another caller must stay visible, or fetches would pile up.
        defer { if inFlight == task { inFlight = nil } }
        do {
            let fresh = try await task.value
            cached = fresh
            return fresh
        } catch {
            // A failed early refresh does not throw away a value that still works.
            if let cached, let expiresAt = expiry(cached), expiresAt > now() { return cached }
            throw error
        }
    }

    private func isFresh(_ value: Value) -> Bool {
        guard let expiresAt = expiry(value) else { return true }
        return expiresAt.timeIntervalSince(now()) > refreshMargin
    }
}
