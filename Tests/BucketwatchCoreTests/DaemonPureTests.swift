import Foundation
import Testing

@testable import BucketwatchCore

// Pure parts of the daemon: what gets announced (StateChanges), how it is written to the
// journal (JournalFields) and what /metrics shows (MetricsExposition).

private func daemonCheck(_ id: String, _ status: CheckState) -> CheckResult {
    CheckResult(id: id, status: status, expected: status == .notApplicable ? nil : "want \(id)",
                actual: status == .unknown || status == .notApplicable ? nil : "have \(id)",
                message: status == .unknown ? "could not read \(id): AccessDenied" : "\(id) is \(status.rawValue)")
}

private func daemonReport(_ checks: [(String, CheckState)], name: String = "prod", provider: Provider = .aws) -> StoreReport {
    StoreReport(name: name, provider: provider, bucket: "\(name)-bucket", checks: checks.map { daemonCheck($0.0, $0.1) })
}

private func daemonKnown(_ checks: [(String, CheckState)]) -> [String: CheckRecord] {
    Dictionary(uniqueKeysWithValues: checks.map { ($0.0, CheckRecord(daemonCheck($0.0, $0.1))) })
}

// MARK: - StateChanges

@Suite("Daemon state changes")
struct DaemonStateChangesTests {
    @Test func firstSweepAnnouncesOnlyDriftAndUnknown() {
        let report = daemonReport([("versioning", .drift), ("cors", .unknown), ("encryption", .compliant), ("kms-key", .notApplicable)])
        let changes = StateChanges.diff(previous: nil, report: report)
        #expect(changes.map(\.check) == ["versioning", "cors"])
        #expect(changes.map(\.kind) == [.driftFound, .becameUnknown])
        #expect(changes.allSatisfy { $0.previousState == nil })
        #expect(changes.map(\.state) == [.drift, .unknown])
        #expect(changes.allSatisfy { $0.store == "prod" && $0.bucket == "prod-bucket" && $0.provider == .aws })

        // An empty previous map (store known, no checks remembered) behaves the same.
        #expect(StateChanges.diff(previous: [:], report: report).map(\.kind) == [.driftFound, .becameUnknown])
    }

    struct Transition: Sendable, CustomTestStringConvertible {
        var before: CheckState
        var after: CheckState
        var kind: StateChangeKind?
        init(_ before: CheckState, _ after: CheckState, _ kind: StateChangeKind?) {
            self.before = before
            self.after = after
            self.kind = kind
        }
        var testDescription: String { "\(before.rawValue) -> \(after.rawValue)" }
    }

    static let transitions: [Transition] = [
        .init(.drift, .compliant, .driftResolved),
        .init(.drift, .notApplicable, .driftResolved),
        .init(.unknown, .compliant, .readableAgain),
        .init(.unknown, .notApplicable, .readableAgain),
        .init(.compliant, .drift, .driftFound),
        .init(.notApplicable, .drift, .driftFound),
        .init(.drift, .unknown, .becameUnknown),
        .init(.compliant, .unknown, .becameUnknown),
        .init(.notApplicable, .unknown, .becameUnknown),
        .init(.unknown, .drift, .driftFound),
        .init(.compliant, .notApplicable, nil),
        .init(.notApplicable, .compliant, nil),
        .init(.drift, .drift, nil),
        .init(.unknown, .unknown, nil),
        .init(.compliant, .compliant, nil),
        .init(.notApplicable, .notApplicable, nil),
    ]

    @Test(arguments: transitions)
    func transition(_ t: Transition) {
        let changes = StateChanges.diff(previous: daemonKnown([("versioning", t.before)]), report: daemonReport([("versioning", t.after)]))
        #expect(changes.map(\.kind) == (t.kind.map { [$0] } ?? []))
        if let change = changes.first {
            #expect(change.previousState == t.before)
            #expect(change.state == t.after)
            #expect(change.check == "versioning")
            #expect(change.expected == daemonCheck("versioning", t.after).expected)
            #expect(change.actual == daemonCheck("versioning", t.after).actual)
        }
    }

    @Test func steadyDriftIsNotReannouncedEvenWhenDetailsChange() {
        var report = daemonReport([("versioning", .drift)])
        report.checks[0].actual = "Suspended, differently"
        report.checks[0].message = "another sentence"
        #expect(StateChanges.diff(previous: daemonKnown([("versioning", .drift)]), report: report).isEmpty)
    }

    @Test func newCheckInKnownStoreIsTreatedLikeFirstSweep() {
        let previous = daemonKnown([("versioning", .compliant)])
        let changes = StateChanges.diff(previous: previous, report: daemonReport([("versioning", .compliant), ("cors", .drift)]))
        #expect(changes.map(\.check) == ["cors"])
        #expect(changes.first?.kind == .driftFound)
        #expect(changes.first?.previousState == nil)
    }

    @Test func reasonOnlyForUnknown() {
        let previous = daemonKnown([("a", .compliant), ("b", .unknown), ("c", .drift), ("d", .compliant)])
        let changes = StateChanges.diff(previous: previous, report: daemonReport([("a", .drift), ("b", .compliant), ("c", .compliant), ("d", .unknown)]))
        #expect(changes.map(\.kind) == [.driftFound, .readableAgain, .driftResolved, .becameUnknown])
        #expect(changes.map(\.reason) == [nil, nil, nil, "could not read d: AccessDenied"])
    }

    @Test func messagesNameStoreBucketAndCheck() {
        let changes = StateChanges.diff(previous: nil, report: daemonReport([("versioning", .drift)]))
        #expect(changes.first?.message == "store prod (bucket prod-bucket): versioning drifted: versioning is drift")
    }

    @Test func prioritiesAndMessageIDs() {
        #expect(StateChangeKind.driftFound.priority == 4)
        #expect(StateChangeKind.becameUnknown.priority == 4)
        #expect(StateChangeKind.driftResolved.priority == 5)
        #expect(StateChangeKind.readableAgain.priority == 5)
        #expect(StateChangeKind.allCases.map(\.rawValue) == ["drift_found", "drift_resolved", "became_unknown", "readable_again"])

        let ids = StateChangeKind.allCases.map(\.messageID)
        #expect(Set(ids).count == 4)
        for id in ids {
            #expect(id.count == 32, "\(id)")
            #expect(id.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }, "\(id)")
        }
    }
}

// MARK: - JournalFields

@Suite("Daemon journal fields")
struct DaemonJournalFieldsTests {
    static func change(_ kind: StateChangeKind, state: CheckState, previous: CheckState?, expected: String?, actual: String?,
                       reason: String?) -> StateChange {
        StateChange(kind: kind, store: "prod", provider: .aws, bucket: "prod-bucket", check: "versioning", state: state,
                    previousState: previous, expected: expected, actual: actual, reason: reason, message: "the message")
    }

    /// Field names must be unique (journald would keep both); compared as a set of pairs,
    /// since journald does not care about order.
    static func asMap(_ fields: [(name: String, value: String)]) -> [String: String] {
        #expect(Set(fields.map(\.name)).count == fields.count, "duplicate field names: \(fields.map(\.name))")
        return Dictionary(fields.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    @Test func driftFields() {
        let fields = JournalFields.fields(for: Self.change(.driftFound, state: .drift, previous: nil, expected: "Enabled", actual: "Suspended",
                                                          reason: nil))
        #expect(Self.asMap(fields) == [
            "MESSAGE": "the message",
            "PRIORITY": "4",
            "SYSLOG_IDENTIFIER": "bucketwatch",
            "MESSAGE_ID": "5b0f3c6e8a2d4d51b7e4b1f0c2a9d701",
            "BUCKETWATCH_EVENT": "drift_found",
            "BUCKETWATCH_STORE": "prod",
            "BUCKETWATCH_PROVIDER": "aws",
            "BUCKETWATCH_BUCKET": "prod-bucket",
            "BUCKETWATCH_CHECK": "versioning",
            "BUCKETWATCH_STATE": "drift",
            "BUCKETWATCH_PREVIOUS_STATE": "none",
            "BUCKETWATCH_EXPECTED": "Enabled",
            "BUCKETWATCH_ACTUAL": "Suspended",
        ])
        #expect(fields.first?.name == "MESSAGE")
        #expect(fields.allSatisfy { JournalFields.isValidFieldName($0.name) })
    }

    @Test func unknownFields() {
        let fields = JournalFields.fields(for: Self.change(.becameUnknown, state: .unknown, previous: .drift, expected: "Enabled", actual: nil,
                                                          reason: "could not read: AccessDenied"))
        #expect(Self.asMap(fields) == [
            "MESSAGE": "the message",
            "PRIORITY": "4",
            "SYSLOG_IDENTIFIER": "bucketwatch",
            "MESSAGE_ID": "5b0f3c6e8a2d4d51b7e4b1f0c2a9d703",
            "BUCKETWATCH_EVENT": "became_unknown",
            "BUCKETWATCH_STORE": "prod",
            "BUCKETWATCH_PROVIDER": "aws",
            "BUCKETWATCH_BUCKET": "prod-bucket",
            "BUCKETWATCH_CHECK": "versioning",
            "BUCKETWATCH_STATE": "unknown",
            "BUCKETWATCH_PREVIOUS_STATE": "drift",
            "BUCKETWATCH_EXPECTED": "Enabled",
            "BUCKETWATCH_REASON": "could not read: AccessDenied",
        ])
        #expect(fields.allSatisfy { JournalFields.isValidFieldName($0.name) })
    }

    @Test func recoveryFieldsHaveNoticePriorityAndNoReason() {
        let resolved = Self.asMap(JournalFields.fields(for: Self.change(.driftResolved, state: .compliant, previous: .drift, expected: "Enabled",
                                                                        actual: "Enabled", reason: nil)))
        #expect(resolved["PRIORITY"] == "5")
        #expect(resolved["MESSAGE_ID"] == "5b0f3c6e8a2d4d51b7e4b1f0c2a9d702")
        #expect(resolved["BUCKETWATCH_PREVIOUS_STATE"] == "drift")
        #expect(resolved["BUCKETWATCH_REASON"] == nil)
        let readable = Self.asMap(JournalFields.fields(for: Self.change(.readableAgain, state: .notApplicable, previous: .unknown, expected: nil,
                                                                        actual: nil, reason: nil)))
        #expect(readable["PRIORITY"] == "5")
        #expect(readable["MESSAGE_ID"] == "5b0f3c6e8a2d4d51b7e4b1f0c2a9d704")
        #expect(readable["BUCKETWATCH_STATE"] == "not_applicable")
        #expect(readable["BUCKETWATCH_EXPECTED"] == nil)
        #expect(readable["BUCKETWATCH_ACTUAL"] == nil)
    }

    @Test func fieldNamesFromDiffedChangesAreValid() {
        let report = daemonReport([("a", .drift), ("b", .unknown)])
        for change in StateChanges.diff(previous: nil, report: report) {
            for field in JournalFields.fields(for: change) {
                #expect(JournalFields.isValidFieldName(field.name), "\(field.name)")
            }
        }
    }

    @Test func fieldNameValidation() {
        #expect(JournalFields.isValidFieldName("MESSAGE"))
        #expect(JournalFields.isValidFieldName("BUCKETWATCH_PREVIOUS_STATE"))
        #expect(JournalFields.isValidFieldName("A1_B2"))
        #expect(JournalFields.isValidFieldName(String(repeating: "A", count: 64)))
        #expect(!JournalFields.isValidFieldName(String(repeating: "A", count: 65)))
        #expect(!JournalFields.isValidFieldName("_X"))
        #expect(!JournalFields.isValidFieldName("_SYSTEMD_UNIT"))
        #expect(!JournalFields.isValidFieldName("lower"))
        #expect(!JournalFields.isValidFieldName("Mixed"))
        #expect(!JournalFields.isValidFieldName("A-B"))
        #expect(!JournalFields.isValidFieldName("A B"))
        #expect(!JournalFields.isValidFieldName("A=B"))
        #expect(!JournalFields.isValidFieldName("ÄB"))
        #expect(!JournalFields.isValidFieldName(""))
    }

    /// journald (`journal_field_valid` in systemd) also rejects names starting with a digit,
    /// and drops such fields from the entry.
    @Test func fieldNameStartingWithDigitIsRejected() {
        #expect(!JournalFields.isValidFieldName("1ABC"))
        #expect(JournalFields.isValidFieldName("A1BC"))
    }

    @Test func encodeIsNameEqualsValueAndKeepsNewlines() {
        let encoded = JournalFields.encode([("MESSAGE", "line one\nline two"), ("BUCKETWATCH_STORE", "prod"), ("EMPTY", ""),
                                            ("BUCKETWATCH_ACTUAL", "a=b é")])
        #expect(encoded == [
            Array("MESSAGE=line one\nline two".utf8),
            Array("BUCKETWATCH_STORE=prod".utf8),
            Array("EMPTY=".utf8),
            Array("BUCKETWATCH_ACTUAL=a=b é".utf8),
        ])
        #expect(encoded[0].filter { $0 == 0x0A }.count == 1)  // the newline is carried as is, not escaped
        #expect(!encoded[0].contains(0x5C))  // no backslash was introduced
    }
}

// MARK: - MetricsExposition

/// Golden files sit next to this file: Tests/BucketwatchCoreTests/Fixtures/golden/.
private enum DaemonGolden {
    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/golden/metrics.prom")
}

/// Runs `promtool check metrics` on `text`; returns (exit status, output).
func daemonPromtoolCheck(_ text: String) throws -> (status: Int32, output: String)? {
    let promtool = "/usr/bin/promtool"
    guard FileManager.default.isExecutableFile(atPath: promtool) else { return nil }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: promtool)
    process.arguments = ["check", "metrics"]
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = output
    try process.run()
    input.fileHandleForWriting.write(Data(text.utf8))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite("Daemon metrics exposition")
struct DaemonMetricsExpositionTests {
    /// Two stores: `east` swept (cors drifted, one unknown check, so not up), `west` never swept;
    /// a version string that needs escaping; request and transition counters.
    static let snapshot: MetricsSnapshot = {
        let east = StoreReport(name: "east", provider: .aws, bucket: "east-bucket", checks: [
            CheckResult(id: "versioning", status: .compliant, expected: "Enabled", actual: "Enabled", message: "versioning is enabled"),
            CheckResult(id: "cors", status: .drift, expected: "origins *", actual: "no CORS configuration", message: "no CORS configuration"),
            CheckResult(id: "kms-key", status: .unknown, expected: "enabled key", message: "could not read the KMS key: AccessDenied"),
            CheckResult(id: "public-access", status: .notApplicable, message: "skipped"),
        ])
        return MetricsSnapshot(
            version: #"0.4.0+"local"\build"#,
            stores: [
                // Deliberately not in name order: the renderer sorts.
                MetricsSnapshot.Store(name: "west", provider: .s3, sweeps: 0, skippedSweeps: 1),
                MetricsSnapshot.Store(name: "east", provider: .aws, report: east, lastSuccessTimestamp: 1_767_225_600,
                                      lastSweepDurationSeconds: 1.25, sweeps: 3, skippedSweeps: 0),
            ],
            requests: [
                .init(service: "s3", operation: "GetBucketVersioning", outcome: "success"): 3,
                .init(service: "s3", operation: "GetBucketCors", outcome: "client_error"): 3,
                .init(service: "kms", operation: "DescribeKey", outcome: "throttled"): 2,
                .init(service: "imds", operation: "GetCredentials", outcome: "timeout"): 1,
            ],
            transitions: [
                .init(store: "east", provider: "aws", event: "drift_found"): 1,
                .init(store: "east", provider: "aws", event: "became_unknown"): 2,
            ],
            lastReloadSuccessful: true, lastReloadSuccessTimestamp: 1_767_225_000, reloads: 2, failedReloads: 1)
    }()

    @Test func goldenFile() throws {
        let rendered = MetricsExposition.render(Self.snapshot)
        let golden = try Data(contentsOf: DaemonGolden.url)
        #expect(Array(rendered.utf8) == Array(golden), "rendered:\n\(rendered)")
    }

    @Test func promtoolAcceptsTheExposition() throws {
        for snapshot in [Self.snapshot, MetricsSnapshot(version: "0.0.0")] {
            let text = MetricsExposition.render(snapshot)
            guard let (status, output) = try daemonPromtoolCheck(text) else {
                Issue.record("install prometheus (promtool): /usr/bin/promtool is needed to validate the exposition")
                return
            }
            #expect(status == 0, "promtool check metrics failed:\n\(output)\n--- input:\n\(text)")
        }
    }

    @Test func promtoolRejectsBrokenExposition() throws {
        // The check above means something only if promtool does reject bad input.
        guard let (status, _) = try daemonPromtoolCheck("bucketwatch_store_up{store=\"a\"b\"} 1\n") else {
            Issue.record("install prometheus (promtool)")
            return
        }
        #expect(status != 0)
    }

    /// `name{labels} value` lines of one family, as (labels, value).
    static func series(_ text: String, _ name: String) -> [(labels: [String: String], value: String)] {
        text.split(separator: "\n").compactMap { line -> (labels: [String: String], value: String)? in
            guard line.hasPrefix(name + "{") || line.hasPrefix(name + " ") else { return nil }
            let value = String(line[line.index(after: line.lastIndex(of: " ")!)...])
            var labels: [String: String] = [:]
            if let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}") {
                for pair in line[line.index(after: open)..<close].split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
                }
            }
            return (labels, value)
        }
    }

    @Test func oneSeriesPerStateAndExactlyOneIsSet() {
        let text = MetricsExposition.render(Self.snapshot)
        let series = Self.series(text, "bucketwatch_check_state")
        #expect(series.count == 4 * 4)
        let byCheck = Dictionary(grouping: series) { $0.labels["check"]! }
        let wanted: [String: String] = ["versioning": "compliant", "cors": "drift", "kms-key": "unknown", "public-access": "not_applicable"]
        #expect(Set(byCheck.keys) == Set(wanted.keys))
        for (check, rows) in byCheck {
            #expect(rows.count == 4, "\(check)")
            #expect(Set(rows.map { $0.labels["state"]! }) == Set(CheckState.allCases.map(\.rawValue)), "\(check)")
            #expect(rows.filter { $0.value == "1" }.map { $0.labels["state"]! } == [wanted[check]!], "\(check)")
            #expect(rows.filter { $0.value == "0" }.count == 3, "\(check)")
            #expect(rows.allSatisfy { $0.labels["store"] == "east" && $0.labels["provider"] == "aws" })
        }
    }

    @Test func neverSweptStoreIsDownWithoutCheckSeries() {
        let text = MetricsExposition.render(Self.snapshot)
        #expect(!Self.series(text, "bucketwatch_check_state").contains { $0.labels["store"] == "west" })
        let up = Self.series(text, "bucketwatch_store_up")
        #expect(up.first { $0.labels["store"] == "west" }?.value == "0")
        // east has an unknown check: down as well; its sweep count and duration are shown.
        #expect(up.first { $0.labels["store"] == "east" }?.value == "0")
        #expect(!Self.series(text, "bucketwatch_store_last_success_timestamp_seconds").contains { $0.labels["store"] == "west" })
        #expect(!Self.series(text, "bucketwatch_store_last_sweep_duration_seconds").contains { $0.labels["store"] == "west" })
        #expect(Self.series(text, "bucketwatch_store_sweeps_total").first { $0.labels["store"] == "west" }?.value == "0")
        #expect(Self.series(text, "bucketwatch_store_sweeps_skipped_total").first { $0.labels["store"] == "west" }?.value == "1")
    }

    @Test func storeIsUpWhenNoCheckIsUnknown() {
        var snapshot = Self.snapshot
        let index = snapshot.stores.firstIndex { $0.name == "east" }!
        snapshot.stores[index].report!.checks.removeAll { $0.status == .unknown }
        let up = Self.series(MetricsExposition.render(snapshot), "bucketwatch_store_up")
        #expect(up.first { $0.labels["store"] == "east" }?.value == "1")
    }

    @Test func helpSaysResultsAreCachedBetweenSweeps() {
        let text = MetricsExposition.render(Self.snapshot)
        for name in ["bucketwatch_check_state", "bucketwatch_store_up", "bucketwatch_store_last_success_timestamp_seconds"] {
            let help = text.split(separator: "\n").first { $0.hasPrefix("# HELP \(name) ") }
            #expect(help?.contains("Results are cached between sweeps.") == true, "\(name): \(help ?? "no HELP")")
        }
    }

    @Test func everyFamilyHasHelpAndType() {
        let text = MetricsExposition.render(Self.snapshot)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(text.hasSuffix("\n"))
        let types = lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        let helps = lines.filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] }
        #expect(types == helps)
        #expect(Set(types).count == types.count)
        #expect(types.count == 13)
        for line in lines where line.hasPrefix("# TYPE ") && line.hasSuffix(" counter") {
            #expect(line.split(separator: " ")[2].hasSuffix("_total"), "\(line)")
        }
    }

    @Test func escapesLabelValues() {
        #expect(MetricsExposition.escape(#"a"b\c"#) == #"a\"b\\c"#)
        #expect(MetricsExposition.escape("line\nbreak") == #"line\nbreak"#)
        #expect(MetricsExposition.escape("plain-name_1.ü") == "plain-name_1.ü")

        let snapshot = MetricsSnapshot(version: "1", stores: [MetricsSnapshot.Store(name: #"a"b\c"#, provider: .s3)])
        let text = MetricsExposition.render(snapshot)
        #expect(text.contains(#"bucketwatch_store_up{store="a\"b\\c",provider="s3"} 0"#))
        #expect(!text.contains(#"store="a"b"#))
    }

    @Test func formatsNumbers() {
        #expect(MetricsExposition.format(0) == "0")
        #expect(MetricsExposition.format(3) == "3")
        #expect(MetricsExposition.format(1_767_225_600) == "1767225600")
        #expect(MetricsExposition.format(1.25) == "1.25")
        #expect(MetricsExposition.format(.nan) == "NaN")
    }

    @Test func contentTypeIsTextFormat004() {
        #expect(MetricsExposition.contentType.hasPrefix("text/plain; version=0.0.4"))
    }
}
