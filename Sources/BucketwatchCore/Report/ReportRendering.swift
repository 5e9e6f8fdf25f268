import Foundation

/// The outcome of a `check` run: what it prints and how it exits.
public struct CheckReport: Sendable, Equatable {
    public var stores: [StoreReport]

    public init(stores: [StoreReport]) {
        self.stores = stores
    }

    /// Exit codes are a contract: 0 only compliant / not_applicable, 1 any drift,
    /// 2 some unknown and no drift.
    public var exitCode: Int32 {
        let states = stores.flatMap { $0.checks.map(\.status) }
        if states.contains(.drift) { return 1 }
        if states.contains(.unknown) { return 2 }
        return 0
    }

    /// `--format json`: `{"stores": [{"name", "provider", "bucket", "status", "checks": [...]}]}`.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(JSONReport(stores: stores.map(JSONStore.init)))) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// `--format text`: one block per store, one line per check, drift explained.
    public func text() -> String {
        var lines: [String] = []
        for store in stores {
            var header = "\(store.name) (\(store.provider.rawValue), bucket \(store.bucket)"
            if let prefix = store.prefix { header += ", prefix \(prefix)" }
            lines.append(header + "): \(store.status.rawValue.uppercased())")
            let width = max(14, store.checks.map(\.id.count).max() ?? 0)
            for check in store.checks {
                let mark = switch check.status {
                case .compliant: "ok  "
                case .drift: "DRIFT"
                case .unknown: "??  "
                case .notApplicable: "n/a "
                }
                let id = check.id.padding(toLength: width, withPad: " ", startingAt: 0)
                lines.append("  \(mark.padding(toLength: 5, withPad: " ", startingAt: 0)) \(id) \(check.message)")
                if check.status == .drift {
                    if let expected = check.expected { lines.append("        expected: \(expected)") }
                    if let actual = check.actual { lines.append("        actual:   \(actual)") }
                }
                for warning in check.warnings { lines.append("        warning:  \(warning)") }
            }
        }
        let states = stores.flatMap { $0.checks.map(\.status) }
        let count = { (state: CheckState) in states.filter { $0 == state }.count }
        lines.append("\(stores.count) store(s): \(count(.compliant)) compliant, \(count(.drift)) drift, \(count(.unknown)) unknown, \(count(.notApplicable)) not applicable")
        return lines.joined(separator: "\n")
    }
}

private struct JSONReport: Encodable {
    var stores: [JSONStore]
}

private struct JSONStore: Encodable {
    var name: String
    var provider: String
    var bucket: String
    var prefix: String?
    var status: String
    var checks: [JSONCheck]

    init(_ store: StoreReport) {
        name = store.name
        provider = store.provider.rawValue
        bucket = store.bucket
        prefix = store.prefix
        status = store.status.rawValue
        checks = store.checks.map(JSONCheck.init)
    }
}

private struct JSONCheck: Encodable {
    var id: String
    var status: String
    var expected: String?
    var actual: String?
    var message: String
    var warnings: [String]?

    init(_ check: CheckResult) {
        id = check.id
        status = check.status.rawValue
        expected = check.expected
        actual = check.actual
        message = check.message
        warnings = check.warnings.isEmpty ? nil : check.warnings
    }
}
