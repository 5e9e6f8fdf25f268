/// What /metrics shows, captured at one instant. Filled by the daemon after each sweep;
/// rendering it never calls a provider.
public struct MetricsSnapshot: Sendable, Equatable {
    public struct Store: Sendable, Equatable {
        public var name: String
        public var provider: Provider
        /// `nil` until the first sweep of this store finished.
        public var report: StoreReport?
        public var lastSuccessTimestamp: Double?
        public var lastSweepDurationSeconds: Double?
        public var sweeps: Int
        public var skippedSweeps: Int

        public init(name: String, provider: Provider, report: StoreReport? = nil, lastSuccessTimestamp: Double? = nil,
                    lastSweepDurationSeconds: Double? = nil, sweeps: Int = 0, skippedSweeps: Int = 0) {
            self.name = name
            self.provider = provider
            self.report = report
            self.lastSuccessTimestamp = lastSuccessTimestamp
            self.lastSweepDurationSeconds = lastSweepDurationSeconds
            self.sweeps = sweeps
            self.skippedSweeps = skippedSweeps
        }

        /// Up when the last sweep read every check (none `unknown`).
        public var up: Bool {
            guard let report else { return false }
            return !report.checks.contains { $0.status == .unknown }
        }
    }

    public struct RequestKey: Sendable, Hashable, Comparable {
        /// The API: `s3`, `kms`, `sts`, `imds`, ...
        public var service: String
        public var operation: String
        public var outcome: String

        public init(service: String, operation: String, outcome: String) {
            self.service = service
            self.operation = operation
            self.outcome = outcome
        }

        public static func < (a: RequestKey, b: RequestKey) -> Bool {
            (a.service, a.operation, a.outcome) < (b.service, b.operation, b.outcome)
        }
    }

    public struct TransitionKey: Sendable, Hashable, Comparable {
        public var store: String
        public var provider: String
        public var event: String

        public init(store: String, provider: String, event: String) {
            self.store = store
            self.provider = provider
            self.event = event
        }

        public static func < (a: TransitionKey, b: TransitionKey) -> Bool {
            (a.store, a.provider, a.event) < (b.store, b.provider, b.event)
        }
    }

    public var version: String
    public var stores: [Store]
    public var requests: [RequestKey: Int]
    public var transitions: [TransitionKey: Int]
    public var lastReloadSuccessful: Bool
    public var lastReloadSuccessTimestamp: Double?
    public var reloads: Int
    public var failedReloads: Int

    public init(version: String, stores: [Store] = [], requests: [RequestKey: Int] = [:], transitions: [TransitionKey: Int] = [:],
                lastReloadSuccessful: Bool = true, lastReloadSuccessTimestamp: Double? = nil, reloads: Int = 0, failedReloads: Int = 0) {
        self.version = version
        self.stores = stores
        self.requests = requests
        self.transitions = transitions
        self.lastReloadSuccessful = lastReloadSuccessful
        self.lastReloadSuccessTimestamp = lastReloadSuccessTimestamp
        self.reloads = reloads
        self.failedReloads = failedReloads
    }
}

/// Renders a snapshot in the Prometheus text format 0.0.4.
///
/// Families and series come out in a fixed, sorted order, so the output is stable for
/// golden-file tests; names follow Prometheus conventions (`_total` counters, `_seconds`,
/// `_timestamp_seconds`, `_info`).
public enum MetricsExposition {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ snapshot: MetricsSnapshot) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ series: [(labels: [(String, String)], value: Double)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for s in series {
                let labels = s.labels.isEmpty ? "" : "{" + s.labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
                out += "\(name)\(labels) \(format(s.value))\n"
            }
        }
        let stores = snapshot.stores.sorted { $0.name < $1.name }
        func storeLabels(_ s: MetricsSnapshot.Store) -> [(String, String)] { [("store", s.name), ("provider", s.provider.rawValue)] }

        family("bucketwatch_build_info", "gauge", "Version of the running bucketwatch; always 1.",
               [([("version", snapshot.version)], 1)])

        var checkSeries: [(labels: [(String, String)], value: Double)] = []
        for store in stores {
            guard let report = store.report else { continue }
            for check in report.checks.sorted(by: { $0.id < $1.id }) {
                for state in CheckState.allCases.sorted(by: { $0.rawValue < $1.rawValue }) {
                    checkSeries.append((storeLabels(store) + [("check", check.id), ("state", state.rawValue)], check.status == state ? 1 : 0))
                }
            }
        }
        family("bucketwatch_check_state", "gauge",
               "State of each check of each store, 1 for the current state and 0 for the others. Results are cached between sweeps.",
               checkSeries)

        family("bucketwatch_config_last_reload_success_timestamp_seconds", "gauge",
               "Unix time of the last successful configuration load.",
               snapshot.lastReloadSuccessTimestamp.map { [([], $0)] } ?? [])
        family("bucketwatch_config_last_reload_successful", "gauge",
               "1 if the last configuration load or reload succeeded, 0 if it failed and the previous configuration is kept.",
               [([], snapshot.lastReloadSuccessful ? 1 : 0)])
        family("bucketwatch_config_reloads_total", "counter", "Configuration reloads attempted (SIGHUP).",
               [([], Double(snapshot.reloads))])
        family("bucketwatch_config_reload_failures_total", "counter", "Configuration reloads rejected because the new file was invalid.",
               [([], Double(snapshot.failedReloads))])

        family("bucketwatch_provider_requests_total", "counter",
               "Requests sent to provider APIs (storage, key management, credentials), by service, operation and outcome.",
               snapshot.requests.sorted { $0.key < $1.key }.map {
                   ([("service", $0.key.service), ("operation", $0.key.operation), ("outcome", $0.key.outcome)], Double($0.value))
               })

        family("bucketwatch_state_transitions_total", "counter",
               "Check state changes announced to the journal, by event.",
               snapshot.transitions.sorted { $0.key < $1.key }.map {
                   ([("store", $0.key.store), ("provider", $0.key.provider), ("event", $0.key.event)], Double($0.value))
               })

        family("bucketwatch_store_last_success_timestamp_seconds", "gauge",
               "Unix time of the last sweep that read every check of the store. Results are cached between sweeps.",
               stores.compactMap { s in s.lastSuccessTimestamp.map { (storeLabels(s), $0) } })
        family("bucketwatch_store_last_sweep_duration_seconds", "gauge",
               "How long the last sweep of the store took.",
               stores.compactMap { s in s.lastSweepDurationSeconds.map { (storeLabels(s), $0) } })
        family("bucketwatch_store_sweeps_skipped_total", "counter",
               "Sweeps skipped because the previous read of the store was still running.",
               stores.map { (storeLabels($0), Double($0.skippedSweeps)) })
        family("bucketwatch_store_sweeps_total", "counter", "Sweeps of the store that finished.",
               stores.map { (storeLabels($0), Double($0.sweeps)) })
        family("bucketwatch_store_up", "gauge",
               "1 when the last sweep read every check of the store, 0 otherwise. Results are cached between sweeps.",
               stores.map { (storeLabels($0), $0.up ? 1 : 0) })
        return out
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for c in value {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
