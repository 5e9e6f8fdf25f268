/// Bounded retries with full-jitter exponential backoff.
///
/// Only the caller knows what is retryable (S3 says `SlowDown` in XML, KMS says
/// `ThrottlingException` in JSON), so the decision is a closure; the schedule is here.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 3, baseDelay: Duration = .milliseconds(250), maxDelay: Duration = .seconds(5)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The wait before attempt `attempt + 1`: uniformly random in [0, min(max, base * 2^attempt)].
    public func delay(afterAttempt attempt: Int) -> Duration {
        let cap = min(maxDelay, baseDelay * (1 << min(attempt, 20)))
        let capNanos = cap.components.seconds * 1_000_000_000 + cap.components.attoseconds / 1_000_000_000
        return .nanoseconds(Int64.random(in: 0...max(0, capNanos)))
    }

    /// Runs `attempt` until it succeeds, is not retryable, or attempts run out.
    /// `attempt` is called anew each time, so requests can be re-signed with a fresh date.
    public func run(
        _ attempt: () async -> Result<HTTPResponse, TransportError>,
        isRetryable: (Result<HTTPResponse, TransportError>) -> Bool
    ) async -> (result: Result<HTTPResponse, TransportError>, attempts: Int) {
        var number = 0
        while true {
            let result = await attempt()
            number += 1
            guard number < maxAttempts, isRetryable(result), !Task.isCancelled else { return (result, number) }
            try? await Task.sleep(for: delay(afterAttempt: number - 1))
        }
    }
}
