/// A check's last known state, as remembered across sweeps and restarts.
public struct CheckRecord: Sendable, Equatable, Codable {
    public var state: CheckState
    public var expected: String?
    public var actual: String?
    public var message: String

    public init(state: CheckState, expected: String? = nil, actual: String? = nil, message: String) {
        self.state = state
        self.expected = expected
        self.actual = actual
        self.message = message
    }

    public init(_ result: CheckResult) {
        self.init(state: result.status, expected: result.expected, actual: result.actual, message: result.message)
    }
}

/// What the daemon remembers: store name -> check ID -> last state.
public typealias KnownStates = [String: [String: CheckRecord]]

/// The kinds of announcement the daemon makes, one journal entry each.
/// Each has a fixed `MESSAGE_ID` (documented in `systemd/bucketwatch.catalog`).
public enum StateChangeKind: String, Sendable, Equatable, CaseIterable {
    case driftFound = "drift_found"
    case driftResolved = "drift_resolved"
    case becameUnknown = "became_unknown"
    case readableAgain = "readable_again"

    public var messageID: String {
        switch self {
        case .driftFound: "5b0f3c6e8a2d4d51b7e4b1f0c2a9d701"
        case .driftResolved: "5b0f3c6e8a2d4d51b7e4b1f0c2a9d702"
        case .becameUnknown: "5b0f3c6e8a2d4d51b7e4b1f0c2a9d703"
        case .readableAgain: "5b0f3c6e8a2d4d51b7e4b1f0c2a9d704"
        }
    }

    /// syslog priority: warning for problems, notice for recoveries.
    public var priority: Int {
        switch self {
        case .driftFound, .becameUnknown: 4
        case .driftResolved, .readableAgain: 5
        }
    }
}

/// One check of one store changed state.
public struct StateChange: Sendable, Equatable {
    public var kind: StateChangeKind
    public var store: String
    public var provider: Provider
    public var bucket: String
    public var check: String
    public var state: CheckState
    /// `nil` when the check had no known state before (first sweep, lost state file).
    public var previousState: CheckState?
    public var expected: String?
    public var actual: String?
    /// For `unknown`: why the check could not be read.
    public var reason: String?
    public var message: String
}

public enum StateChanges {
    /// Compares a store's new report with what was known and lists what to announce.
    ///
    /// Only changes are announced, never steady states: drift that persists across
    /// sweeps (or restarts, with the state file) is said once. A check first seen in
    /// `compliant` or `not_applicable` is not news.
    public static func diff(previous: [String: CheckRecord]?, report: StoreReport) -> [StateChange] {
        report.checks.compactMap { check in
            let before = previous?[check.id]?.state
            guard before != check.status else { return nil }
            let kind: StateChangeKind
            switch (before, check.status) {
            case (_, .drift): kind = .driftFound
            case (_, .unknown): kind = .becameUnknown
            case (.drift?, _): kind = .driftResolved
            case (.unknown?, _): kind = .readableAgain
            default: return nil  // nil/compliant/not_applicable among themselves: not news
            }
            return StateChange(
                kind: kind, store: report.name, provider: report.provider, bucket: report.bucket, check: check.id,
                state: check.status, previousState: before, expected: check.expected, actual: check.actual,
                reason: check.status == .unknown ? check.message : nil,
                message: summary(kind: kind, store: report.name, bucket: report.bucket, check: check))
        }
    }

    static func summary(kind: StateChangeKind, store: String, bucket: String, check: CheckResult) -> String {
        switch kind {
        case .driftFound:
            "store \(store) (bucket \(bucket)): \(check.id) drifted: \(check.message)"
        case .driftResolved:
            "store \(store) (bucket \(bucket)): \(check.id) is \(check.status.rawValue) again"
        case .becameUnknown:
            "store \(store) (bucket \(bucket)): \(check.id) could not be read: \(check.message)"
        case .readableAgain:
            "store \(store) (bucket \(bucket)): \(check.id) readable again, \(check.status.rawValue)"
        }
    }
}
