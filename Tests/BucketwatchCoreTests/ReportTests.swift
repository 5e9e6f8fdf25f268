import Foundation
import Testing

@testable import BucketwatchCore

/// Golden outputs sit next to this file: Tests/BucketwatchCoreTests/Fixtures/golden/.
private enum GoldenFiles {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("Fixtures/golden")

    static func text(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }
}

private func sampleCheck(_ id: String, _ status: CheckState, warnings: [String] = []) -> CheckResult {
    CheckResult(id: id, status: status, expected: "expected \(id)", actual: status == .unknown ? nil : "actual \(id)",
                message: "\(id) is \(status.rawValue)", warnings: warnings)
}

private func sampleStore(_ name: String, _ states: [CheckState], provider: Provider = .aws, prefix: String? = nil) -> StoreReport {
    StoreReport(name: name, provider: provider, bucket: "\(name)-bucket", prefix: prefix,
                checks: states.enumerated().map { sampleCheck("check-\($0.offset)", $0.element) })
}

// MARK: - States

@Suite struct CheckStateTests {
    @Test func rawValuesAreTheContract() {
        #expect(CheckState.allCases.map(\.rawValue) == ["compliant", "drift", "unknown", "not_applicable"])
        #expect(CheckState(rawValue: "not_applicable") == .notApplicable)
        #expect(CheckState(rawValue: "notApplicable") == nil)
    }

    @Test func orderingIsDriftUnknownCompliantNotApplicable() {
        #expect(CheckState.allCases.sorted(by: >) == [.drift, .unknown, .compliant, .notApplicable])
        #expect(CheckState.drift > .unknown)
        #expect(CheckState.unknown > .compliant)
        #expect(CheckState.compliant > .notApplicable)
    }

    static let worstCases: [(states: [CheckState], worst: CheckState)] = [
        ([], .notApplicable),
        ([.notApplicable], .notApplicable),
        ([.notApplicable, .compliant, .notApplicable], .compliant),
        ([.compliant, .unknown, .compliant], .unknown),
        ([.unknown, .drift, .compliant], .drift),
        ([.drift, .notApplicable], .drift),
        ([.notApplicable, .unknown], .unknown),
        ([.compliant, .unknown, .drift, .notApplicable], .drift),
    ]

    @Test(arguments: worstCases)
    func worst(_ states: [CheckState], _ expected: CheckState) {
        #expect(CheckState.worst(of: states) == expected)
        #expect(sampleStore("s", states).status == expected)
        // The order of the checks does not matter.
        #expect(CheckState.worst(of: states.reversed()) == expected)
    }

    @Test func encodesAsRawValue() throws {
        let data = try JSONEncoder().encode([CheckState.notApplicable, .drift])
        #expect(String(decoding: data, as: UTF8.self) == #"["not_applicable","drift"]"#)
    }
}

// MARK: - Exit codes

@Suite struct ExitCodeTests {
    static let cases: [(stores: [[CheckState]], code: Int32)] = [
        ([], 0),
        ([[]], 0),
        ([[.compliant, .compliant]], 0),
        ([[.compliant, .notApplicable]], 0),
        ([[.notApplicable]], 0),
        ([[.compliant, .drift]], 1),
        ([[.unknown]], 2),
        ([[.compliant, .unknown, .notApplicable]], 2),
        ([[.unknown, .drift]], 1),
        ([[.drift, .unknown]], 1),
        // Across stores.
        ([[.compliant], [.unknown]], 2),
        ([[.unknown], [.drift]], 1),
        ([[.compliant], [.notApplicable]], 0),
    ]

    @Test(arguments: cases)
    func exitCode(_ stores: [[CheckState]], _ code: Int32) {
        let report = CheckReport(stores: stores.enumerated().map { sampleStore("s\($0.offset)", $0.element) })
        #expect(report.exitCode == code)
    }
}

// MARK: - JSON

@Suite struct ReportJSONTests {
    /// Parses `json()` back; fails the test unless it is an object.
    private func parsed(_ report: CheckReport) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(report.json().utf8))
        return try #require(object as? [String: Any])
    }

    private func storesOf(_ report: CheckReport) throws -> [[String: Any]] {
        let root = try parsed(report)
        #expect(Set(root.keys) == ["stores"])
        return try #require(root["stores"] as? [[String: Any]])
    }

    @Test func contractShape() throws {
        let report = CheckReport(stores: [
            StoreReport(name: "team-a", provider: .aws, bucket: "team-a-artifacts", checks: [
                CheckResult(id: "versioning", status: .drift, expected: "Enabled", actual: "Suspended",
                            message: "versioning is Suspended: deleted or overwritten objects cannot be recovered"),
            ]),
        ])
        let stores = try storesOf(report)
        #expect(stores.count == 1)
        let store = stores[0]
        #expect(Set(store.keys) == ["name", "provider", "bucket", "status", "checks"])
        #expect(store["name"] as? String == "team-a")
        #expect(store["provider"] as? String == "aws")
        #expect(store["bucket"] as? String == "team-a-artifacts")
        #expect(store["status"] as? String == "drift")
        let checks = try #require(store["checks"] as? [[String: Any]])
        #expect(checks.count == 1)
        #expect(Set(checks[0].keys) == ["id", "status", "expected", "actual", "message"])
        #expect(checks[0]["id"] as? String == "versioning")
        #expect(checks[0]["status"] as? String == "drift")
        #expect(checks[0]["expected"] as? String == "Enabled")
        #expect(checks[0]["actual"] as? String == "Suspended")
        #expect(checks[0]["message"] as? String == "versioning is Suspended: deleted or overwritten objects cannot be recovered")
    }

    @Test func statusStrings() throws {
        let report = CheckReport(stores: [
            sampleStore("mixed", [.compliant, .drift, .unknown, .notApplicable]),
            sampleStore("unknown", [.compliant, .unknown]),
            sampleStore("ok", [.compliant, .notApplicable]),
            sampleStore("na", [.notApplicable]),
        ])
        let stores = try storesOf(report)
        #expect(stores.compactMap { $0["status"] as? String } == ["drift", "unknown", "compliant", "not_applicable"])
        let checks = try #require(stores[0]["checks"] as? [[String: Any]])
        #expect(checks.compactMap { $0["status"] as? String } == ["compliant", "drift", "unknown", "not_applicable"])
        #expect(checks.compactMap { $0["id"] as? String } == ["check-0", "check-1", "check-2", "check-3"])
    }

    @Test func warningsOnlyWhenPresent() throws {
        let report = CheckReport(stores: [
            StoreReport(name: "team-a", provider: .aws, bucket: "b", checks: [
                sampleCheck("bucket-policy", .compliant, warnings: ["Sid TLS denies s3:PutObject on arn:aws:s3:::b/* under a condition"]),
                sampleCheck("cors", .compliant, warnings: []),
            ]),
        ])
        let checks = try #require(try storesOf(report).first?["checks"] as? [[String: Any]])
        #expect(checks[0]["warnings"] as? [String] == ["Sid TLS denies s3:PutObject on arn:aws:s3:::b/* under a condition"])
        #expect(Set(checks[0].keys) == ["id", "status", "expected", "actual", "message", "warnings"])
        #expect(checks[1]["warnings"] == nil)
        #expect(Set(checks[1].keys) == ["id", "status", "expected", "actual", "message"])
        // Slashes are not escaped: ARNs stay greppable.
        #expect(report.json().contains("arn:aws:s3:::b/*"))
    }

    /// An unread value (`actual` of an unknown check) is left out, not written as null or "".
    @Test func absentValuesAreLeftOut() throws {
        let report = CheckReport(stores: [
            StoreReport(name: "team-a", provider: .aws, bucket: "b", checks: [
                CheckResult(id: "cors", status: .unknown, expected: "origins *", message: "could not read the CORS configuration: timeout"),
                CheckResult(id: "kms-key", status: .notApplicable, message: "skipped"),
            ]),
        ])
        let checks = try #require(try storesOf(report).first?["checks"] as? [[String: Any]])
        #expect(Set(checks[0].keys) == ["id", "status", "expected", "message"])
        #expect(Set(checks[1].keys) == ["id", "status", "message"])
        #expect(!report.json().contains("null"))
    }

    @Test func prefixOnlyWhenSet() throws {
        let report = CheckReport(stores: [
            sampleStore("with", [.compliant], prefix: "wandb/artifacts"),
            sampleStore("without", [.compliant]),
        ])
        let stores = try storesOf(report)
        #expect(stores[0]["prefix"] as? String == "wandb/artifacts")
        #expect(Set(stores[0].keys) == ["name", "provider", "bucket", "prefix", "status", "checks"])
        #expect(Set(stores[1].keys) == ["name", "provider", "bucket", "status", "checks"])
    }

    @Test(arguments: Provider.allCases)
    func providerStrings(_ provider: Provider) throws {
        let stores = try storesOf(CheckReport(stores: [sampleStore("s", [.compliant], provider: provider)]))
        #expect(stores.first?["provider"] as? String == provider.rawValue)
    }

    @Test func emptyReport() throws {
        #expect(try storesOf(CheckReport(stores: [])).isEmpty)
    }

    /// Messages carry quotes, backslashes and non-ASCII from providers' words: they must survive.
    @Test func stringsRoundTrip() throws {
        let message = "the store said \"NotImplemented\" \\ 未実装 \ttab\n"
        let report = CheckReport(stores: [
            StoreReport(name: "s", provider: .s3, bucket: "b", checks: [CheckResult(id: "cors", status: .notApplicable, message: message)]),
        ])
        let checks = try #require(try storesOf(report).first?["checks"] as? [[String: Any]])
        #expect(checks.first?["message"] as? String == message)
    }
}

// MARK: - Text

@Suite struct ReportTextTests {
    /// A small fixed report exercising every branch of the text renderer: a prefix, each state,
    /// drift with and without `actual`, warnings, and a check ID longer than the minimum column.
    static let fixed = CheckReport(stores: [
        StoreReport(name: "team-a", provider: .aws, bucket: "team-a-artifacts", prefix: "wandb", checks: [
            CheckResult(id: "versioning", status: .compliant, expected: "Enabled", actual: "Enabled", message: "versioning is enabled"),
            CheckResult(id: "encryption", status: .drift, expected: "aws:kms", actual: "AES256",
                        message: "default encryption is AES256, not SSE-KMS"),
            CheckResult(id: "bucket-policy", status: .compliant, expected: "Allow the vendor", actual: "all actions granted",
                        message: "the bucket policy grants the vendor principal every required action",
                        warnings: ["Sid DenyInsecureTransport denies s3:PutObject on arn:aws:s3:::team-a-artifacts/* under a condition"]),
            CheckResult(id: "public-access", status: .unknown, expected: "block fully on",
                        message: "could not read the bucket policy: AccessDenied"),
        ]),
        StoreReport(name: "minio", provider: .s3, bucket: "ml", checks: [
            CheckResult(id: "kms-key", status: .notApplicable, message: "S3-compatible store: there is no AWS KMS key policy to read"),
            CheckResult(id: "cors", status: .unknown, expected: "origins *", message: "could not read the CORS configuration: timeout after 20 s"),
            CheckResult(id: "versioning", status: .drift, expected: "Enabled", message: "versioning has never been enabled on this bucket",
                        warnings: ["a warning on a drift"]),
        ]),
        StoreReport(name: "azure-team", provider: .azure, bucket: "artifacts", checks: [
            CheckResult(id: "container-soft-delete", status: .compliant, expected: "enabled", actual: "enabled",
                        message: "container soft delete is enabled"),
            CheckResult(id: "cors", status: .notApplicable, message: "skipped: this store's baseline lists 'cors' under skip"),
        ]),
    ])

    @Test func golden() throws {
        let golden = try GoldenFiles.text("check-report.txt")
        let text = Self.fixed.text()
        #expect(text + "\n" == golden)
    }

    @Test func emptyReport() {
        #expect(CheckReport(stores: []).text() == "0 store(s): 0 compliant, 0 drift, 0 unknown, 0 not applicable")
    }

    @Test func expectedAndActualOnlyForDrift() {
        let text = CheckReport(stores: [sampleStore("s", [.compliant, .unknown, .notApplicable])]).text()
        #expect(!text.contains("expected:"))
        #expect(!text.contains("actual:"))
        let drift = CheckReport(stores: [sampleStore("s", [.drift])]).text()
        #expect(drift.contains("        expected: expected check-0\n        actual:   actual check-0"))
    }
}
