import BucketwatchAWS
@testable import BucketwatchCore
import BucketwatchTransport
import Foundation
import Testing

@testable import BucketwatchApp

#if canImport(Glibc)
import Glibc
#endif

// Unit tests of the daemon's parts, without a provider: a scripted in-memory HTTPClient
// stands in for S3, a recording sink stands in for the journal.

// MARK: - Helpers

/// A temporary directory, removed by `remove()`.
struct DaemonTempDir {
    let path: String

    init() throws {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("bucketwatch-daemon-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Thread-safe append-only list (log lines, datagrams).
final class DaemonLines: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []

    func append(_ line: String) { lock.withLock { stored.append(line) } }
    var all: [String] { lock.withLock { stored } }
}

/// An in-memory S3: answers each bucket sub-resource with a canned response, counts
/// requests, optionally delays each one, and tracks how many stores (buckets) have
/// requests in flight at the same time.
final class DaemonScriptedS3: HTTPClient, @unchecked Sendable {
    static let versioningSuspended = """
        <?xml version="1.0" encoding="UTF-8"?>
        <VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Suspended</Status></VersioningConfiguration>
        """
    static let versioningEnabled = """
        <?xml version="1.0" encoding="UTF-8"?>
        <VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>
        """
    static let corsCompliant = """
        <?xml version="1.0" encoding="UTF-8"?>
        <CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule>\
        <AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>\
        <AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader>\
        <MaxAgeSeconds>3600</MaxAgeSeconds></CORSRule></CORSConfiguration>
        """
    static func notConfigured(_ code: String) -> HTTPResponse {
        HTTPResponse(status: 404, headers: [(name: "content-type", value: "application/xml")],
                     body: Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>\(code)</Code><Message>not configured</Message></Error>".utf8))
    }
    static func ok(_ xml: String) -> HTTPResponse {
        HTTPResponse(status: 200, headers: [(name: "content-type", value: "application/xml")], body: Array(xml.utf8))
    }

    private let lock = NSLock()
    private var script: [String: HTTPResponse] = [
        "versioning": ok(versioningSuspended),
        "cors": ok(corsCompliant),
        "encryption": notConfigured("ServerSideEncryptionConfigurationNotFoundError"),
        "policy": notConfigured("NoSuchBucketPolicy"),
        "publicAccessBlock": notConfigured("NoSuchPublicAccessBlockConfiguration"),
    ]
    private let delay: Duration
    private var log: [(bucket: String, subresource: String)] = []
    private var active: [String: Int] = [:]
    private var maxStores = 0

    init(delay: Duration = .zero) {
        self.delay = delay
    }

    func set(_ subresource: String, _ response: HTTPResponse) { lock.withLock { script[subresource] = response } }

    /// Every request so far, as `bucket?subresource`.
    var requests: [String] { lock.withLock { log.map { "\($0.bucket)?\($0.subresource)" } } }
    func requests(bucket: String) -> [String] { lock.withLock { log.filter { $0.bucket == bucket }.map(\.subresource) } }
    /// The largest number of distinct buckets that had a request in flight at one instant.
    var maxConcurrentStores: Int { lock.withLock { maxStores } }

    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        guard let components = URLComponents(string: request.url) else { throw .invalidRequest("bad URL") }
        let bucket = components.path.split(separator: "/").first.map(String.init) ?? ""
        let subresource = components.queryItems?.first?.name ?? ""
        let response: HTTPResponse = lock.withLock {
            log.append((bucket, subresource))
            active[bucket, default: 0] += 1
            maxStores = max(maxStores, active.values.filter { $0 > 0 }.count)
            return script[subresource] ?? HTTPResponse(status: 400, body: Array("<Error><Code>InvalidRequest</Code></Error>".utf8))
        }
        defer { lock.withLock { active[bucket, default: 1] -= 1 } }
        if delay > .zero {
            do { try await Task.sleep(for: delay) } catch { throw .cancelled }
        }
        return response
    }
}

/// Collects what the monitor hands its sinks.
actor DaemonRecordingSink: ReportSink {
    private(set) var outcomes: [SweepOutcome] = []
    private(set) var forgotten: [String] = []

    func record(_ outcome: SweepOutcome) { outcomes.append(outcome) }
    func forget(store: String) { forgotten.append(store) }

    func changes(_ index: Int) -> [StateChange] { outcomes[index].changes }
    var count: Int { outcomes.count }
}

enum DaemonFixtures {
    static let environment = [
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent",
    ]

    static func store(_ name: String) -> StoreConfig {
        StoreConfig(name: name, provider: .s3, bucket: "\(name)-bucket", region: "us-east-1", endpoint: "http://s3.test:9000",
                    deployment: .saas)
    }

    static func monitor(_ client: any HTTPClient, sinks: [any ReportSink], metrics: MetricsState = MetricsState(version: "test"),
                        stateDirectory: String?, maxConcurrentStores: Int = 4, log: DaemonLines = DaemonLines()) -> StoreMonitor {
        StoreMonitor(runner: CheckRunner(environment: environment, http: client, maxConcurrentStores: 4), sinks: sinks, metrics: metrics,
                     stateFile: stateDirectory.map { StateFile(directory: $0) }, maxConcurrentStores: maxConcurrentStores,
                     kmsMaxAge: .seconds(60), log: { log.append($0) })
    }

    static func outcome(_ report: StoreReport, changes: [StateChange] = [], at: Date = Date(timeIntervalSince1970: 1_767_225_600.7),
                        duration: Duration = .milliseconds(1500)) -> SweepOutcome {
        SweepOutcome(report: report, changes: changes, finishedAt: at, duration: duration)
    }

    static func report(_ name: String, provider: Provider = .s3, _ states: [(String, CheckState)]) -> StoreReport {
        StoreReport(name: name, provider: provider, bucket: "\(name)-bucket",
                    checks: states.map { CheckResult(id: $0.0, status: $0.1, message: "\($0.0) \($0.1.rawValue)") })
    }

    /// Polls until `condition` holds (at most ~5 s).
    static func waitUntil(_ condition: () async -> Bool) async {
        for _ in 0..<500 {
            if await condition() { return }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

// MARK: - MetricsState

@Suite("Daemon MetricsState")
struct DaemonMetricsStateTests {
    @Test func configureAddsNewAndRemovesDroppedStores() async {
        let metrics = MetricsState(version: "test")
        await metrics.configure(stores: [DaemonFixtures.store("a"), DaemonFixtures.store("b")])
        #expect(await metrics.current().stores.map(\.name) == ["a", "b"])

        let change = StateChange(kind: .driftFound, store: "a", provider: .s3, bucket: "a-bucket", check: "versioning", state: .drift,
                                 message: "m")
        await metrics.record(DaemonFixtures.outcome(DaemonFixtures.report("a", [("versioning", .drift)]), changes: [change]))
        #expect(await metrics.render().contains(#"bucketwatch_state_transitions_total{store="a",provider="s3",event="drift_found"} 1"#))
        #expect(await metrics.render().contains(#"bucketwatch_check_state{store="a""#))

        await metrics.configure(stores: [DaemonFixtures.store("b"), DaemonFixtures.store("c")])
        let snapshot = await metrics.current()
        #expect(snapshot.stores.map(\.name) == ["b", "c"])
        #expect(snapshot.transitions.isEmpty)
        #expect(snapshot.stores.allSatisfy { $0.report == nil && $0.sweeps == 0 })
        let text = await metrics.render()
        #expect(!text.contains(#"store="a""#))
        #expect(text.contains(#"bucketwatch_store_up{store="c",provider="s3"} 0"#))
    }

    @Test func configureKeepsResultsOfStoresThatStay() async {
        let metrics = MetricsState(version: "test")
        await metrics.configure(stores: [DaemonFixtures.store("a")])
        await metrics.record(DaemonFixtures.outcome(DaemonFixtures.report("a", [("versioning", .compliant)])))
        await metrics.configure(stores: [DaemonFixtures.store("a"), DaemonFixtures.store("b")])
        let a = await metrics.current().stores.first { $0.name == "a" }
        #expect(a?.sweeps == 1)
        #expect(a?.report != nil)
    }

    @Test func providerChangeResetsTheStore() async {
        let metrics = MetricsState(version: "test")
        await metrics.configure(stores: [DaemonFixtures.store("a")])
        await metrics.record(DaemonFixtures.outcome(DaemonFixtures.report("a", [("versioning", .compliant)])))
        var aws = DaemonFixtures.store("a")
        aws.provider = .aws
        await metrics.configure(stores: [aws])
        let a = await metrics.current().stores.first
        #expect(a?.provider == .aws)
        #expect(a?.report == nil)
        #expect(a?.sweeps == 0)
    }

    @Test func recordSetsLastSuccessOnlyWhenNothingIsUnknown() async {
        let metrics = MetricsState(version: "test")
        await metrics.configure(stores: [DaemonFixtures.store("a")])
        let t1 = Date(timeIntervalSince1970: 1_767_225_600.9)
        await metrics.record(DaemonFixtures.outcome(DaemonFixtures.report("a", [("versioning", .drift), ("cors", .compliant)]), at: t1,
                                                    duration: .milliseconds(1500)))
        var a = await metrics.current().stores[0]
        #expect(a.lastSuccessTimestamp == 1_767_225_600)
        #expect(a.lastSweepDurationSeconds == 1.5)
        #expect(a.sweeps == 1)
        #expect(a.up)

        let t2 = Date(timeIntervalSince1970: 1_767_225_900)
        await metrics.record(DaemonFixtures.outcome(DaemonFixtures.report("a", [("versioning", .drift), ("cors", .unknown)]), at: t2,
                                                    duration: .milliseconds(250)))
        a = await metrics.current().stores[0]
        #expect(a.lastSuccessTimestamp == 1_767_225_600)  // unchanged: cors could not be read
        #expect(a.lastSweepDurationSeconds == 0.25)
        #expect(a.sweeps == 2)
        #expect(!a.up)
        #expect(await metrics.render().contains(#"bucketwatch_store_up{store="a",provider="s3"} 0"#))

        // A store that never succeeded has no last_success series at all.
        await metrics.configure(stores: [DaemonFixtures.store("a"), DaemonFixtures.store("b")])
        await metrics.record(DaemonFixtures.outcome(DaemonFixtures.report("b", [("versioning", .unknown)])))
        #expect(await metrics.current().stores.first { $0.name == "b" }?.lastSuccessTimestamp == nil)
        #expect(!(await metrics.render().contains(#"bucketwatch_store_last_success_timestamp_seconds{store="b""#)))
    }

    @Test func recordOfUnconfiguredStoreIsIgnored() async {
        let metrics = MetricsState(version: "test")
        await metrics.configure(stores: [DaemonFixtures.store("a")])
        await metrics.record(DaemonFixtures.outcome(DaemonFixtures.report("zzz", [("versioning", .drift)])))
        #expect(await metrics.current().stores.map(\.name) == ["a"])
        #expect(!(await metrics.render().contains("zzz")))
    }

    @Test func sweepSkippedCounts() async {
        let metrics = MetricsState(version: "test")
        await metrics.configure(stores: [DaemonFixtures.store("a"), DaemonFixtures.store("b")])
        await metrics.sweepSkipped(store: "a")
        await metrics.sweepSkipped(store: "a")
        await metrics.sweepSkipped(store: "nope")
        let stores = await metrics.current().stores
        #expect(stores.map(\.skippedSweeps) == [2, 0])
        #expect(await metrics.render().contains(#"bucketwatch_store_sweeps_skipped_total{store="a",provider="s3"} 2"#))
    }

    @Test func failedReloadKeepsTimestampAndCounts() async {
        let metrics = MetricsState(version: "test")
        await metrics.configLoaded(success: true, at: Date(timeIntervalSince1970: 1000.5), isReload: false)
        var snapshot = await metrics.current()
        #expect(snapshot.lastReloadSuccessful)
        #expect(snapshot.lastReloadSuccessTimestamp == 1000)
        #expect(snapshot.reloads == 0)

        await metrics.configLoaded(success: false, at: Date(timeIntervalSince1970: 2000), isReload: true)
        snapshot = await metrics.current()
        #expect(!snapshot.lastReloadSuccessful)
        #expect(snapshot.lastReloadSuccessTimestamp == 1000)
        #expect(snapshot.reloads == 1)
        #expect(snapshot.failedReloads == 1)
        let text = await metrics.render()
        #expect(text.contains("\nbucketwatch_config_last_reload_successful 0\n"))
        #expect(text.contains("\nbucketwatch_config_reload_failures_total 1\n"))
        #expect(text.contains("\nbucketwatch_config_reloads_total 1\n"))

        await metrics.configLoaded(success: true, at: Date(timeIntervalSince1970: 3000), isReload: true)
        snapshot = await metrics.current()
        #expect(snapshot.lastReloadSuccessful)
        #expect(snapshot.lastReloadSuccessTimestamp == 3000)
        #expect(snapshot.reloads == 2)
        #expect(snapshot.failedReloads == 1)
    }

    @Test func statusLineCountsDriftAndUnknown() async {
        let metrics = MetricsState(version: "test")
        await metrics.configure(stores: ["a", "b", "c"].map(DaemonFixtures.store))
        #expect(await metrics.statusLine() == "3 stores (0 swept), 0 drift, 0 unknown")
        await metrics.record(DaemonFixtures.outcome(DaemonFixtures.report("a", [("versioning", .drift), ("cors", .drift), ("policy", .compliant)])))
        await metrics.record(DaemonFixtures.outcome(DaemonFixtures.report("b", [("versioning", .unknown), ("cors", .notApplicable)])))
        #expect(await metrics.statusLine() == "3 stores (2 swept), 2 drift, 1 unknown")
    }

    @Test func requestCounters() async {
        let metrics = MetricsState(version: "test")
        await metrics.requestFinished(service: "s3", operation: "GetBucketCors", outcome: "success")
        await metrics.requestFinished(service: "s3", operation: "GetBucketCors", outcome: "success")
        await metrics.requestFinished(service: "s3", operation: "GetBucketCors", outcome: "throttled")
        #expect(await metrics.render().contains(
            #"bucketwatch_provider_requests_total{service="s3",operation="GetBucketCors",outcome="success"} 2"#))
        #expect(await metrics.current().requests[.init(service: "s3", operation: "GetBucketCors", outcome: "throttled")] == 1)
    }
}

// MARK: - StateFile

@Suite("Daemon StateFile")
struct DaemonStateFileTests {
    static let states: KnownStates = [
        "prod": [
            "versioning": CheckRecord(state: .drift, expected: "Enabled", actual: "Suspended", message: "versioning is Suspended"),
            "cors": CheckRecord(state: .unknown, message: "could not read: line one\nline two \"quoted\""),
        ],
        "dev": ["kms-key": CheckRecord(state: .notApplicable, message: "S3-compatible store")],
    ]

    @Test func saveThenLoadRoundTrips() throws {
        let dir = try DaemonTempDir()
        defer { dir.remove() }
        let file = StateFile(directory: dir.path)
        #expect(file.path == dir.file("state.json"))
        try file.save(Self.states)
        #expect(file.load() == .loaded(Self.states))
        try file.save([:])
        #expect(file.load() == .loaded([:]))
    }

    @Test func saveCreatesTheDirectory() throws {
        let dir = try DaemonTempDir()
        defer { dir.remove() }
        let file = StateFile(directory: dir.file("nested/deeper"))
        try file.save(Self.states)
        #expect(file.load() == .loaded(Self.states))
    }

    @Test func missingFile() throws {
        let dir = try DaemonTempDir()
        defer { dir.remove() }
        #expect(StateFile(directory: dir.path).load() == .missing)
        #expect(StateFile(directory: dir.file("absent")).load() == .missing)
    }

    @Test func garbageIsCorrupt() throws {
        let dir = try DaemonTempDir()
        defer { dir.remove() }
        let file = StateFile(directory: dir.path)
        for garbage in [Data([0xFF, 0x00, 0x13, 0x37]), Data("{\"version\":1,\"stores\":".utf8), Data(), Data("[]".utf8),
                        Data("{\"version\":1,\"stores\":{\"p\":{\"c\":{\"state\":\"weird\",\"message\":\"m\"}}}}".utf8)] {
            #expect(FileManager.default.createFile(atPath: file.path, contents: garbage))
            guard case .corrupt = file.load() else {
                Issue.record("\(String(decoding: garbage, as: UTF8.self)): not corrupt: \(file.load())")
                continue
            }
        }
    }

    @Test func otherVersionIsCorrupt() throws {
        let dir = try DaemonTempDir()
        defer { dir.remove() }
        let file = StateFile(directory: dir.path)
        #expect(FileManager.default.createFile(atPath: file.path, contents: Data(#"{"version":2,"stores":{}}"#.utf8)))
        #expect(file.load() == .corrupt("unsupported state file version 2"))
        #expect(FileManager.default.createFile(atPath: file.path, contents: Data(#"{"version":1,"stores":{}}"#.utf8)))
        #expect(file.load() == .loaded([:]))
    }

    @Test func saveReplacesTheFileAtomically() throws {
        let dir = try DaemonTempDir()
        defer { dir.remove() }
        let file = StateFile(directory: dir.path)
        try file.save(["old": [:]])
        // A second name for the first file's inode: an in-place rewrite would change what it shows.
        let link = dir.file("before.json")
        #expect(Glibc.link(file.path, link) == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: link))

        try file.save(Self.states)
        #expect(try Data(contentsOf: URL(fileURLWithPath: link)) == before, "the old file was rewritten in place, not replaced")
        #expect(file.load() == .loaded(Self.states))
        var a = stat(), b = stat()
        #expect(stat(file.path, &a) == 0 && stat(link, &b) == 0)
        #expect(a.st_ino != b.st_ino)

        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names == ["before.json", "state.json"], "leftovers: \(names)")
    }

    @Test func saveIntoUnwritablePathThrows() throws {
        let dir = try DaemonTempDir()
        defer { dir.remove() }
        // A regular file where the directory should be: fails even as root.
        let blocker = dir.file("not-a-directory")
        #expect(FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8)))
        #expect(throws: (any Error).self) { try StateFile(directory: blocker).save(Self.states) }
        #expect(throws: (any Error).self) { try StateFile(directory: blocker + "/sub").save(Self.states) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: blocker)) == Data("x".utf8))
        // state.json itself a directory: rename over it fails, and the temporary file is cleaned up.
        let dir2 = dir.file("d2")
        try FileManager.default.createDirectory(atPath: dir2 + "/state.json/inner", withIntermediateDirectories: true)
        #expect(throws: (any Error).self) { try StateFile(directory: dir2).save(Self.states) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir2) == ["state.json"])
    }
}

// MARK: - StoreMonitor

@Suite("Daemon StoreMonitor")
struct DaemonStoreMonitorTests {
    @Test func firstSweepAnnouncesDriftSecondAnnouncesNothing() async throws {
        let dir = try DaemonTempDir()
        defer { dir.remove() }
        let client = DaemonScriptedS3()
        let sink = DaemonRecordingSink()
        let store = DaemonFixtures.store("alpha")
        let monitor = DaemonFixtures.monitor(client, sinks: [sink], stateDirectory: dir.path)
        await monitor.configure(stores: [store])

        #expect(await monitor.sweep(store))
        #expect(Set(client.requests(bucket: "alpha-bucket")) == ["versioning", "cors", "encryption", "policy", "publicAccessBlock"])
        let first = await sink.outcomes[0]
        let states = Dictionary(uniqueKeysWithValues: first.report.checks.map { ($0.id, $0.status) })
        #expect(states["versioning"] == .drift)
        #expect(states["cors"] == .compliant)
        #expect(states["encryption"] == .drift)
        #expect(states["kms-key"] == .notApplicable)
        // Exactly the checks in drift are announced, all as drift_found with no previous state.
        let drifted = first.report.checks.filter { $0.status == .drift }.map(\.id)
        #expect(first.changes.map(\.check) == drifted)
        #expect(first.changes.allSatisfy { $0.kind == .driftFound && $0.previousState == nil && $0.store == "alpha" })
        #expect(first.changes.contains { $0.check == "versioning" && $0.actual == "Suspended" })
        #expect(!first.changes.contains { $0.check == "cors" })

        #expect(await monitor.sweep(store))
        #expect(await sink.count == 2)
        #expect(await sink.changes(1).isEmpty)
        #expect(client.requests(bucket: "alpha-bucket").count == 10)

        // Versioning fixed: exactly one drift_resolved.
        client.set("versioning", DaemonScriptedS3.ok(DaemonScriptedS3.versioningEnabled))
        #expect(await monitor.sweep(store))
        let third = await sink.changes(2)
        #expect(third.map(\.kind) == [.driftResolved])
        #expect(third.map(\.check) == ["versioning"])
        #expect(third.first?.previousState == .drift)
        #expect(await monitor.knownStates()["alpha"]?["versioning"]?.state == .compliant)
    }

    @Test func restartDoesNotReannounceAndCorruptStateCostsOneRound() async throws {
        let dir = try DaemonTempDir()
        defer { dir.remove() }
        let client = DaemonScriptedS3()
        let store = DaemonFixtures.store("alpha")

        let sink1 = DaemonRecordingSink()
        let first = DaemonFixtures.monitor(client, sinks: [sink1], stateDirectory: dir.path)
        await first.configure(stores: [store])
        await first.sweep(store)
        let announced = await sink1.changes(0).map { "\($0.check):\($0.kind.rawValue)" }
        #expect(!announced.isEmpty)
        guard case .loaded(let saved) = StateFile(directory: dir.path).load() else {
            Issue.record("no state file after a sweep")
            return
        }
        #expect(saved["alpha"]?["versioning"]?.state == .drift)

        // Restart: a new monitor over the same state file.
        let sink2 = DaemonRecordingSink()
        let log2 = DaemonLines()
        let second = DaemonFixtures.monitor(client, sinks: [sink2], stateDirectory: dir.path, log: log2)
        #expect(await second.knownStates() == saved)
        await second.configure(stores: [store])
        #expect(await second.sweep(store))
        #expect(await sink2.count == 1)
        #expect(await sink2.changes(0).isEmpty, "drift re-announced after a restart")
        #expect(log2.all.isEmpty)

        // A corrupt state file: logged, then one round of announcements, then quiet again.
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: StateFile(directory: dir.path).path))
        let sink3 = DaemonRecordingSink()
        let log3 = DaemonLines()
        let third = DaemonFixtures.monitor(client, sinks: [sink3], stateDirectory: dir.path, log: log3)
        #expect(log3.all.count == 1)
        #expect(log3.all.first?.contains("ignored") == true)
        await third.configure(stores: [store])
        await third.sweep(store)
        await third.sweep(store)
        #expect(await sink3.changes(0).map { "\($0.check):\($0.kind.rawValue)" } == announced)
        #expect(await sink3.changes(1).isEmpty)
        guard case .loaded = StateFile(directory: dir.path).load() else {
            Issue.record("state file not rewritten after a corrupt one")
            return
        }
    }

    @Test func missingStateFileAnnouncesOnceWithoutLogging() async throws {
        let dir = try DaemonTempDir()
        defer { dir.remove() }
        let log = DaemonLines()
        let sink = DaemonRecordingSink()
        let store = DaemonFixtures.store("alpha")
        let monitor = DaemonFixtures.monitor(DaemonScriptedS3(), sinks: [sink], stateDirectory: dir.path, log: log)
        await monitor.configure(stores: [store])
        await monitor.sweep(store)
        #expect(!(await sink.changes(0).isEmpty))
        #expect(log.all.isEmpty)
    }

    @Test func concurrentSweepsOfOneStoreReadOnce() async throws {
        let client = DaemonScriptedS3(delay: .milliseconds(300))
        let metrics = MetricsState(version: "test")
        let sink = DaemonRecordingSink()
        let log = DaemonLines()
        let store = DaemonFixtures.store("alpha")
        let monitor = DaemonFixtures.monitor(client, sinks: [metrics, sink], metrics: metrics, stateDirectory: nil, log: log)
        await monitor.configure(stores: [store])

        let running = Task { await monitor.sweep(store) }
        await DaemonFixtures.waitUntil { !client.requests.isEmpty }  // the first read is under way
        let second = await monitor.sweep(store)
        let first = await running.value

        #expect(first)
        #expect(!second)
        #expect(client.requests(bucket: "alpha-bucket").filter { $0 == "versioning" }.count == 1)
        #expect(client.requests.count == 5)
        #expect(await sink.count == 1)
        let snapshot = await metrics.current().stores[0]
        #expect(snapshot.skippedSweeps == 1)
        #expect(snapshot.sweeps == 1)
        #expect(log.all.contains { $0.contains("sweep skipped") })

        // Once the first read ended, the store can be swept again.
        #expect(await monitor.sweep(store))
        #expect(await metrics.current().stores[0].sweeps == 2)
    }

    @Test func concurrentSweepsWithAsyncLet() async throws {
        let client = DaemonScriptedS3(delay: .milliseconds(300))
        let metrics = MetricsState(version: "test")
        let store = DaemonFixtures.store("alpha")
        let monitor = DaemonFixtures.monitor(client, sinks: [metrics], metrics: metrics, stateDirectory: nil)
        await monitor.configure(stores: [store])
        async let a = monitor.sweep(store)
        async let b = monitor.sweep(store)
        let results = await [a, b]
        #expect(results.filter { $0 }.count == 1)
        #expect(client.requests.count == 5)
        #expect(await metrics.current().stores[0].skippedSweeps == 1)
    }

    /// Sweeps three stores at once; returns the largest number of stores read concurrently.
    static func maxStoresInFlight(slots: Int) async -> (max: Int, results: [Bool], recorded: Int) {
        let client = DaemonScriptedS3(delay: .milliseconds(100))
        let sink = DaemonRecordingSink()
        let stores = ["a", "b", "c"].map(DaemonFixtures.store)
        let monitor = DaemonFixtures.monitor(client, sinks: [sink], stateDirectory: nil, maxConcurrentStores: slots)
        await monitor.configure(stores: stores)
        let results = await withTaskGroup(of: Bool.self) { group in
            for store in stores { group.addTask { await monitor.sweep(store) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        return (client.maxConcurrentStores, results, await sink.count)
    }

    @Test func maxConcurrentStoresIsRespected() async {
        let one = await Self.maxStoresInFlight(slots: 1)
        #expect(one.max == 1)
        #expect(one.results == [true, true, true])
        #expect(one.recorded == 3)
        // The measurement can see overlap: with three slots the reads do overlap.
        let three = await Self.maxStoresInFlight(slots: 3)
        #expect(three.max >= 2)
        #expect(three.recorded == 3)
    }

    @Test func removedStoreIsNotRecorded() async throws {
        let dir = try DaemonTempDir()
        defer { dir.remove() }
        let client = DaemonScriptedS3(delay: .milliseconds(300))
        let metrics = MetricsState(version: "test")
        let sink = DaemonRecordingSink()
        let (a, b) = (DaemonFixtures.store("a"), DaemonFixtures.store("b"))
        let monitor = DaemonFixtures.monitor(client, sinks: [metrics, sink], metrics: metrics, stateDirectory: dir.path)
        await monitor.configure(stores: [a, b])
        #expect(await monitor.sweep(b))
        #expect(await monitor.knownStates()["b"] != nil)

        // A sweep of b under way when a reload drops b.
        let running = Task { await monitor.sweep(b) }
        await DaemonFixtures.waitUntil { client.requests(bucket: "b-bucket").count > 5 }
        await monitor.configure(stores: [a])
        #expect(await running.value == false)
        #expect(await sink.count == 1)
        #expect(await sink.forgotten == ["b"])
        #expect(await monitor.knownStates()["b"] == nil)
        #expect(await metrics.current().stores.map(\.name) == ["a"])
        #expect(!(await metrics.render().contains(#"store="b""#)))
        if case .loaded(let saved) = StateFile(directory: dir.path).load() {
            #expect(saved["b"] == nil)
        } else {
            Issue.record("state file not loadable")
        }

        // A later sweep of b (e.g. a timer that fired late) is not recorded either.
        #expect(await monitor.sweep(b) == false)
        #expect(await sink.count == 1)
        #expect(await monitor.knownStates()["b"] == nil)
        #expect(await metrics.current().stores.map(\.name) == ["a"])

        // Re-added: b is news again.
        await monitor.configure(stores: [a, b])
        #expect(await monitor.sweep(b))
        #expect(!(await sink.changes(1).isEmpty))
    }

    /// Stores dropped from the config while the daemon was stopped are forgotten too, not
    /// kept in the state file forever (and not silently "known" if they come back).
    /// A reload that points a store name at another bucket must not compare the new bucket's
    /// states with the old one's: its drift would never be announced.
    /// A read that was running when a reload changed the store used the old settings: its
    /// results must not be recorded under the new configuration.
    @Test func readStartedBeforeAReloadIsDropped() async throws {
        let sink = DaemonRecordingSink()
        let monitor = DaemonFixtures.monitor(DaemonScriptedS3(delay: .milliseconds(300)), sinks: [sink], stateDirectory: nil)
        let store = DaemonFixtures.store("alpha")
        await monitor.configure(stores: [store])
        async let recorded = monitor.sweep(store)
        try await Task.sleep(for: .milliseconds(100))
        var moved = store
        moved.bucket = "another-bucket"
        await monitor.configure(stores: [moved])
        #expect(await recorded == false)
        #expect(await monitor.knownStates()["alpha"] == nil)
        #expect(await sink.outcomes.isEmpty)
    }

    @Test func storeWhoseBucketChangesStartsAfresh() async throws {
        let monitor = DaemonFixtures.monitor(DaemonScriptedS3(), sinks: [], stateDirectory: nil)
        let first = DaemonFixtures.store("alpha")
        await monitor.configure(stores: [first])
        #expect(await monitor.sweep(first))
        #expect(await monitor.knownStates()["alpha"]?.isEmpty == false)
        var moved = first
        moved.bucket = "another-bucket"
        await monitor.configure(stores: [moved])
        #expect(await monitor.knownStates()["alpha"] == nil)
        // The same name and bucket again keeps what is known.
        #expect(await monitor.sweep(moved))
        await monitor.configure(stores: [moved])
        #expect(await monitor.knownStates()["alpha"]?.isEmpty == false)
    }

    @Test func storeDroppedAcrossRestartIsForgotten() async throws {
        let dir = try DaemonTempDir()
        defer { dir.remove() }
        try StateFile(directory: dir.path).save([
            "old": ["versioning": CheckRecord(state: .drift, message: "versioning is Suspended")],
            "alpha": [:],
        ])
        let monitor = DaemonFixtures.monitor(DaemonScriptedS3(), sinks: [], stateDirectory: dir.path)
        await monitor.configure(stores: [DaemonFixtures.store("alpha")])
        #expect(await monitor.knownStates()["old"] == nil)
        #expect(await monitor.knownStates()["alpha"] == [:])
        guard case .loaded(let saved) = StateFile(directory: dir.path).load() else {
            Issue.record("state file not loadable")
            return
        }
        #expect(saved["old"] == nil)
        #expect(saved["alpha"] == [:])
    }
}

// MARK: - MeteredHTTPClient

/// Answers every request with a fixed status, or throws a fixed error.
struct DaemonFixedClient: HTTPClient {
    var status: Int = 200
    var error: TransportError?

    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        if let error { throw error }
        return HTTPResponse(status: status)
    }
}

/// `service operation`, as one comparable string.
func daemonLabels(_ request: HTTPRequest) -> String {
    let (service, operation) = MeteredHTTPClient.classify(request)
    return "\(service) \(operation)"
}

@Suite("Daemon MeteredHTTPClient")
struct DaemonMeteredHTTPClientTests {
    static let services: Set<String> = ["s3", "kms", "sts", "imds", "other"]
    static let operations: Set<String> = [
        "GetBucketVersioning", "GetBucketCors", "GetBucketEncryption", "GetBucketPolicy", "GetPublicAccessBlock", "GetBucketLocation",
        "HeadBucket", "DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus", "GetCredentials", "AssumeRoleWithWebIdentity", "other",
    ]

    static let s3Cases: [(url: String, operation: String)] = [
        ("https://prod-bucket.s3.eu-west-1.amazonaws.com/?cors=", "GetBucketCors"),
        ("https://prod-bucket.s3.eu-west-1.amazonaws.com/?versioning=", "GetBucketVersioning"),
        ("http://minio.internal:9000/prod-bucket?encryption=", "GetBucketEncryption"),
        ("http://minio.internal:9000/prod-bucket/?policy=", "GetBucketPolicy"),
        ("https://s3.us-east-1.amazonaws.com/prod-bucket?publicAccessBlock=", "GetPublicAccessBlock"),
        ("https://prod-bucket.s3.amazonaws.com/?location", "GetBucketLocation"),
        ("https://prod-bucket.s3.amazonaws.com/?versioning", "GetBucketVersioning"),
    ]

    @Test func s3SubresourcesMapToOperations() {
        for (url, operation) in Self.s3Cases {
            let (service, op) = MeteredHTTPClient.classify(HTTPRequest(url: url, headers: [(name: "authorization", value: "AWS4-HMAC-SHA256 x")]))
            #expect(service == "s3", "\(url)")
            #expect(op == operation, "\(url)")
        }
        #expect(daemonLabels(HTTPRequest(method: "HEAD", url: "https://prod-bucket.s3.amazonaws.com/")) == "s3 HeadBucket")
    }

    @Test func s3ClientRequestsAreClassifiedAsSent() async {
        // The real S3 client's URLs (signed canonical query), not hand-written ones.
        let client = DaemonScriptedS3()
        let captured = DaemonLines()
        struct Capture: HTTPClient {
            let inner: DaemonScriptedS3
            let lines: DaemonLines
            func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
                let (service, operation) = MeteredHTTPClient.classify(request)
                lines.append("\(service) \(operation)")
                return try await inner.send(request)
            }
        }
        let store = DaemonFixtures.store("alpha")
        let runner = CheckRunner(environment: DaemonFixtures.environment, http: Capture(inner: client, lines: captured))
        _ = await runner.check(store, kmsCache: KMSKeyCache())
        #expect(Set(captured.all) == [
            "s3 GetBucketVersioning", "s3 GetBucketCors", "s3 GetBucketEncryption", "s3 GetBucketPolicy", "s3 GetPublicAccessBlock",
        ])
    }

    @Test func kmsByTargetHeader() {
        let describe = HTTPRequest(method: "POST", url: "https://kms.eu-west-1.amazonaws.com/",
                                   headers: [(name: "X-Amz-Target", value: "TrentService.DescribeKey")], body: Array(#"{"KeyId":"k"}"#.utf8))
        #expect(daemonLabels(describe) == "kms DescribeKey")
        let policy = HTTPRequest(method: "POST", url: "https://kms.eu-west-1.amazonaws.com/",
                                 headers: [(name: "x-amz-target", value: "TrentService.GetKeyPolicy")])
        #expect(daemonLabels(policy) == "kms GetKeyPolicy")
    }

    @Test func credentialEndpoints() {
        #expect(daemonLabels(HTTPRequest(method: "PUT", url: "http://169.254.169.254/latest/api/token")) == "imds GetCredentials")
        #expect(daemonLabels(HTTPRequest(url: "http://169.254.169.254/latest/meta-data/iam/security-credentials/")) == "imds GetCredentials")
        #expect(daemonLabels(HTTPRequest(url: "http://[fd00:ec2::254]/latest/meta-data/iam/security-credentials/role-x")) == "imds GetCredentials")
        let sts = HTTPRequest(method: "POST", url: "https://sts.us-east-1.amazonaws.com",
                              headers: [(name: "Content-Type", value: "application/x-www-form-urlencoded")],
                              body: Array("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&WebIdentityToken=eyJ".utf8))
        #expect(daemonLabels(sts) == "sts AssumeRoleWithWebIdentity")
        #expect(daemonLabels(HTTPRequest(url: "https://example.com/anything?X-Amz-Signature=abc")) == "other other")
    }

    @Test func labelsNeverContainTheURL() {
        let secretish = "prod-bucket-7f3a"
        let requests = Self.s3Cases.map { HTTPRequest(url: $0.url.replacingOccurrences(of: "prod-bucket", with: secretish)) } + [
            HTTPRequest(url: "https://\(secretish).s3.amazonaws.com/?X-Amz-Credential=AKIA%2F&X-Amz-Signature=deadbeef"),
            HTTPRequest(url: "https://\(secretish).s3.amazonaws.com/?unknownSubresource="),
            HTTPRequest(url: "http://169.254.170.2/v2/credentials/\(secretish)"),
            HTTPRequest(method: "HEAD", url: "https://\(secretish).s3.amazonaws.com/"),
            HTTPRequest(method: "POST", url: "https://\(secretish).example/", body: Array("Action=GetCallerIdentity".utf8)),
        ]
        for request in requests {
            let (service, operation) = MeteredHTTPClient.classify(request)
            #expect(Self.services.contains(service), "\(service)")
            #expect(Self.operations.contains(operation), "\(operation) for \(request.url)")
            for label in [service, operation] {
                #expect(!label.contains(secretish) && !label.contains("/") && !label.contains("?") && !label.contains(":"), "\(label)")
            }
        }
    }

    /// Only fixed operation names reach the label, whatever the X-Amz-Target header says.
    @Test func kmsOperationComesFromAFixedSet() {
        func kms(_ target: String) -> HTTPRequest {
            HTTPRequest(method: "POST", url: "https://kms.eu-west-1.amazonaws.com/", headers: [(name: "X-Amz-Target", value: target)])
        }
        #expect(daemonLabels(kms("TrentService.GetKeyRotationStatus")) == "kms GetKeyRotationStatus")
        #expect(daemonLabels(kms("TrentService.Get{Anything}")) == "kms other")
        #expect(daemonLabels(kms("TrentService.Decrypt")) == "kms other")
        #expect(daemonLabels(kms("")) == "kms other")
    }

    @Test func statusOutcomes() {
        #expect(MeteredHTTPClient.outcome(status: 200) == "success")
        #expect(MeteredHTTPClient.outcome(status: 204) == "success")
        #expect(MeteredHTTPClient.outcome(status: 301) == "redirect")
        #expect(MeteredHTTPClient.outcome(status: 403) == "client_error")
        #expect(MeteredHTTPClient.outcome(status: 404) == "client_error")
        #expect(MeteredHTTPClient.outcome(status: 429) == "throttled")
        #expect(MeteredHTTPClient.outcome(status: 503) == "throttled")
        #expect(MeteredHTTPClient.outcome(status: 500) == "server_error")
        #expect(MeteredHTTPClient.outcome(status: 501) == "server_error")
    }

    @Test func errorOutcomes() {
        #expect(MeteredHTTPClient.outcome(error: .timedOut("connect")) == "timeout")
        #expect(MeteredHTTPClient.outcome(error: .cancelled) == "cancelled")
        #expect(MeteredHTTPClient.outcome(error: .responseTooLarge(limit: 10)) == "too_large")
        #expect(MeteredHTTPClient.outcome(error: .connectionFailed("refused")) == "transport_error")
        #expect(MeteredHTTPClient.outcome(error: .tls("bad cert")) == "transport_error")
        #expect(MeteredHTTPClient.outcome(error: .invalidRequest("x")) == "transport_error")
        #expect(MeteredHTTPClient.outcome(error: .failed(code: 7, message: "x")) == "transport_error")
    }

    @Test func sendCountsEveryRequestAndPassesResultsThrough() async {
        let metrics = MetricsState(version: "test")
        let cors = HTTPRequest(url: "https://b.s3.amazonaws.com/?cors=")
        let ok = MeteredHTTPClient(DaemonFixedClient(status: 404), metrics: metrics)
        let response = try? await ok.send(cors)
        #expect(response?.status == 404)
        _ = try? await MeteredHTTPClient(DaemonFixedClient(status: 503), metrics: metrics).send(cors)
        _ = try? await MeteredHTTPClient(DaemonFixedClient(status: 200), metrics: metrics).send(cors)

        let failing = MeteredHTTPClient(DaemonFixedClient(error: .timedOut("total")), metrics: metrics)
        do {
            _ = try await failing.send(cors)
            Issue.record("error swallowed")
        } catch {
            #expect(error == .timedOut("total"))
        }
        let requests = await metrics.current().requests
        #expect(requests == [
            .init(service: "s3", operation: "GetBucketCors", outcome: "client_error"): 1,
            .init(service: "s3", operation: "GetBucketCors", outcome: "throttled"): 1,
            .init(service: "s3", operation: "GetBucketCors", outcome: "success"): 1,
            .init(service: "s3", operation: "GetBucketCors", outcome: "timeout"): 1,
        ])
    }
}

// MARK: - MetricsServer

@Suite("Daemon MetricsServer")
struct DaemonMetricsServerTests {
    @Test func servesMetricsHealthAndIndex() async throws {
        let metrics = MetricsState(version: "9.9.9")
        await metrics.configure(stores: [DaemonFixtures.store("alpha")])
        await metrics.record(DaemonFixtures.outcome(DaemonFixtures.report("alpha", [("versioning", .drift)])))
        let server = try await MetricsServer.start(host: "127.0.0.1", port: 0, metrics: metrics)
        #expect(server.port > 0)
        let http = CurlHTTPClient(maxConcurrentTransfers: 2)
        defer { http.shutdown() }
        let base = "http://127.0.0.1:\(server.port)"

        let scrape = try await http.send(HTTPRequest(url: "\(base)/metrics"))
        #expect(scrape.status == 200)
        #expect(scrape.header("content-type") == MetricsExposition.contentType)
        #expect(scrape.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let rendered = await metrics.render()
        #expect(scrape.bodyText == rendered)
        #expect(scrape.bodyText.contains(#"bucketwatch_build_info{version="9.9.9"} 1"#))

        let withQuery = try await http.send(HTTPRequest(url: "\(base)/metrics?x=1"))
        #expect(withQuery.status == 200)

        let health = try await http.send(HTTPRequest(url: "\(base)/healthz"))
        #expect(health.status == 200)
        #expect(health.bodyText == "ok\n")

        let index = try await http.send(HTTPRequest(url: "\(base)/"))
        #expect(index.status == 200)
        #expect(index.header("content-type")?.hasPrefix("text/html") == true)
        #expect(index.bodyText.contains(#"href="/metrics""#))

        let missing = try await http.send(HTTPRequest(url: "\(base)/nope"))
        #expect(missing.status == 404)

        let post = try await http.send(HTTPRequest(method: "POST", url: "\(base)/metrics", body: Array("x=1".utf8)))
        #expect(post.status == 405)
        #expect(post.header("allow") == "GET, HEAD")

        let head = try await http.send(HTTPRequest(method: "HEAD", url: "\(base)/healthz"))
        #expect(head.status == 200)
        #expect(head.body.isEmpty)

        // Scrapes show the cache as it is now.
        await metrics.sweepSkipped(store: "alpha")
        let again = try await http.send(HTTPRequest(url: "\(base)/metrics"))
        #expect(again.bodyText.contains(#"bucketwatch_store_sweeps_skipped_total{store="alpha",provider="s3"} 1"#))

        await server.stop()
        let fresh = CurlHTTPClient(maxConcurrentTransfers: 1)
        defer { fresh.shutdown() }
        do {
            let response = try await fresh.send(HTTPRequest(url: "\(base)/healthz", limits: RequestLimits(connectTimeout: .seconds(2), totalTimeout: .seconds(3))))
            Issue.record("server still answers after stop(): HTTP \(response.status)")
        } catch {
            guard case .connectionFailed = error else {
                Issue.record("expected a refused connection, got \(error)")
                return
            }
        }
    }

    @Test func bindFailureThrows() async throws {
        let metrics = MetricsState(version: "test")
        let first = try await MetricsServer.start(host: "127.0.0.1", port: 0, metrics: metrics)
        await #expect(throws: (any Error).self) {
            let second = try await MetricsServer.start(host: "127.0.0.1", port: first.port, metrics: metrics)
            await second.stop()
        }
        await first.stop()
    }

    @Test func splitListenAddress() {
        func split(_ address: String) -> String? { MetricsServer.split(listenAddress: address).map { "\($0.host) \($0.port)" } }
        #expect(split("127.0.0.1:9750") == "127.0.0.1 9750")
        #expect(split("[::1]:9750") == "::1 9750")
        #expect(split("0.0.0.0:0") == "0.0.0.0 0")
        #expect(MetricsServer.split(listenAddress: "nohost") == nil)
        #expect(MetricsServer.split(listenAddress: "host:port") == nil)
    }
}

// MARK: - systemd notify

/// `setenv(NOTIFY_SOCKET)` affects the whole test process: this suite is serialized and
/// restores the variable; nothing else in the test process calls sd_notify.
@Suite("Daemon systemd notify", .serialized)
struct DaemonSystemdNotifyTests {
    /// A bound AF_UNIX datagram socket in a temporary directory.
    final class Receiver {
        let fd: Int32
        let path: String

        init(path: String) throws {
            self.path = path
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            guard fd >= 0 else { throw POSIXError(.EIO) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw POSIXError(.ENAMETOOLONG) }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        /// The next datagram, or nil after the 2 s timeout.
        func receive() -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count >= 0 else { return nil }
            return String(decoding: buffer[..<count], as: UTF8.self)
        }

        deinit { close(fd) }
    }

    static func monotonicMicroseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int(now.tv_sec) * 1_000_000 + Int(now.tv_nsec) / 1000
    }

    /// Runs `body` with NOTIFY_SOCKET pointing at a fresh receiver, then restores the variable.
    static func withNotifySocket(_ body: (Receiver) throws -> Void) throws {
        let dir = try DaemonTempDir()
        defer { dir.remove() }
        let receiver = try Receiver(path: dir.file("notify.sock"))
        let saved = getenv("NOTIFY_SOCKET").map { String(cString: $0) }
        setenv("NOTIFY_SOCKET", receiver.path, 1)
        defer {
            if let saved { setenv("NOTIFY_SOCKET", saved, 1) } else { unsetenv("NOTIFY_SOCKET") }
        }
        try body(receiver)
    }

    @Test func messagesInOrder() throws {
        let saved = getenv("NOTIFY_SOCKET").map { String(cString: $0) }
        try Self.withNotifySocket { receiver in
            let notifier = SystemdNotifier()
            notifier.ready(status: "2 stores (0 swept), 0 drift, 0 unknown")
            notifier.watchdog()
            let before = Self.monotonicMicroseconds()
            notifier.reloading()
            let after = Self.monotonicMicroseconds()
            notifier.status("reload rejected")
            notifier.stopping()

            #expect(receiver.receive() == "READY=1\nSTATUS=2 stores (0 swept), 0 drift, 0 unknown")
            #expect(receiver.receive() == "WATCHDOG=1")
            let reloading = receiver.receive() ?? ""
            let lines = reloading.split(separator: "\n").map(String.init)
            #expect(lines.count == 2)
            #expect(lines.first == "RELOADING=1")
            let usec = lines.count == 2 && lines[1].hasPrefix("MONOTONIC_USEC=") ? Int(lines[1].dropFirst("MONOTONIC_USEC=".count)) : nil
            #expect(usec != nil, "\(reloading)")
            if let usec { #expect(before <= usec && usec <= after, "\(usec) not in [\(before), \(after)]") }
            #expect(receiver.receive() == "STATUS=reload rejected")
            #expect(receiver.receive() == "STOPPING=1")
        }
        #expect(getenv("NOTIFY_SOCKET").map { String(cString: $0) } == saved)  // restored
    }

    @Test func notifyReportsSentAndNoopWithoutSocket() throws {
        try Self.withNotifySocket { receiver in
            #expect(SystemdNotifier().notify("STATUS=x") > 0)
            #expect(receiver.receive() == "STATUS=x")
        }
        let saved = getenv("NOTIFY_SOCKET").map { String(cString: $0) }
        unsetenv("NOTIFY_SOCKET")
        defer { if let saved { setenv("NOTIFY_SOCKET", saved, 1) } }
        #expect(SystemdNotifier().notify("READY=1") == 0)
    }
}
