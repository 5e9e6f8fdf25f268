/// What a reader learned about one setting of a bucket.
///
/// The distinction between "configured", "explicitly not configured" and "could not tell"
/// is the heart of never lying about state: only the first two may become `compliant` or
/// `drift`; everything else ends in `unknown` or `not_applicable`.
public enum Observation<Value: Sendable & Equatable>: Sendable, Equatable {
    /// Read, with this value.
    case value(Value)
    /// Read: the provider said this setting is not configured (e.g. `NoSuchCORSConfiguration`).
    case notConfigured(String)
    /// The bucket itself does not exist.
    case bucketMissing
    /// The provider does not implement this API (e.g. S3-compatible store answering 501).
    case notImplemented(String)
    /// Could not be read: access denied, timeout, throttling, 5xx, unparsable answer.
    case unreadable(String)

    public var value: Value? {
        if case .value(let v) = self { return v }
        return nil
    }

    /// Carries a non-value observation over to another value type.
    public func map<T>(_ transform: (Value) -> T) -> Observation<T> {
        switch self {
        case .value(let v): .value(transform(v))
        case .notConfigured(let s): .notConfigured(s)
        case .bucketMissing: .bucketMissing
        case .notImplemented(let s): .notImplemented(s)
        case .unreadable(let s): .unreadable(s)
        }
    }
}
