/// The four states of a check (`docs/byob-baseline.md`). Raw values are the contract.
public enum CheckState: String, Sendable, Equatable, Codable, CaseIterable, Comparable {
    case compliant
    case drift
    case unknown
    case notApplicable = "not_applicable"

    /// Severity for rolling checks up into a store's state: drift > unknown > compliant > not_applicable.
    public var severity: Int {
        switch self {
        case .drift: 3
        case .unknown: 2
        case .compliant: 1
        case .notApplicable: 0
        }
    }

    public static func < (lhs: CheckState, rhs: CheckState) -> Bool { lhs.severity < rhs.severity }

    /// The worst of some states; `not_applicable` for none.
    public static func worst<S: Sequence>(of states: S) -> CheckState where S.Element == CheckState {
        states.max() ?? .notApplicable
    }
}

/// The outcome of one check of one store.
public struct CheckResult: Sendable, Equatable, Codable {
    /// Stable check ID (`versioning`, `cors`, ...).
    public var id: String
    public var status: CheckState
    /// What the baseline asks for, in words short enough for a table cell.
    public var expected: String?
    /// What was read; for `unknown`, `nil`.
    public var actual: String?
    /// One readable sentence: why this state. For `unknown`, the reason the read failed.
    public var message: String
    /// Findings that do not change the state (e.g. a conditional Deny seen, ETag not exposed on GCS).
    public var warnings: [String]

    public init(id: String, status: CheckState, expected: String? = nil, actual: String? = nil, message: String, warnings: [String] = []) {
        self.id = id
        self.status = status
        self.expected = expected
        self.actual = actual
        self.message = message
        self.warnings = warnings
    }
}

/// All checks of one store, as reported by `check` and kept by the daemon.
public struct StoreReport: Sendable, Equatable, Codable {
    public var name: String
    public var provider: Provider
    public var bucket: String
    public var prefix: String?
    public var checks: [CheckResult]

    public init(name: String, provider: Provider, bucket: String, prefix: String? = nil, checks: [CheckResult]) {
        self.name = name
        self.provider = provider
        self.bucket = bucket
        self.prefix = prefix
        self.checks = checks
    }

    /// The worst state among the checks.
    public var status: CheckState { CheckState.worst(of: checks.map(\.status)) }
}
