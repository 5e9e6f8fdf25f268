import BucketwatchCore
import Foundation

/// The cache /metrics renders from. Sweeps write it; scrapes only read it, so a scrape
/// never triggers a provider call and costs the same whatever the providers do.
public actor MetricsState: ReportSink {
    private var snapshot: MetricsSnapshot {
        didSet { rendered = nil }
    }
    /// The exposition text, rendered once per change rather than once per scrape.
    private var rendered: String?

    public init(version: String) {
        snapshot = MetricsSnapshot(version: version)
    }

    public func current() -> MetricsSnapshot { snapshot }

    public func render() -> String {
        if let rendered { return rendered }
        let text = MetricsExposition.render(snapshot)
        rendered = text
        return text
    }

    /// Declares the configured stores: new ones appear (not yet swept), removed ones vanish.
    public func configure(stores: [StoreConfig]) {
        let names = Set(stores.map(\.name))
        snapshot.stores.removeAll { !names.contains($0.name) }
        snapshot.transitions = snapshot.transitions.filter { names.contains($0.key.store) }
        for store in stores where !snapshot.stores.contains(where: { $0.name == store.name }) {
            snapshot.stores.append(MetricsSnapshot.Store(name: store.name, provider: store.provider))
        }
        for index in snapshot.stores.indices {
            if let store = stores.first(where: { $0.name == snapshot.stores[index].name }), store.provider != snapshot.stores[index].provider {
                snapshot.stores[index] = MetricsSnapshot.Store(name: store.name, provider: store.provider)
                snapshot.transitions = snapshot.transitions.filter { $0.key.store != store.name }
            }
        }
    }

    public func record(_ outcome: SweepOutcome) {
        guard let index = snapshot.stores.firstIndex(where: { $0.name == outcome.report.name }) else { return }
        snapshot.stores[index].report = outcome.report
        snapshot.stores[index].sweeps += 1
        let (seconds, attoseconds) = outcome.duration.components
        snapshot.stores[index].lastSweepDurationSeconds = Double(seconds) + Double(attoseconds) / 1e18
        if snapshot.stores[index].up {
            snapshot.stores[index].lastSuccessTimestamp = outcome.finishedAt.timeIntervalSince1970.rounded(.down)
        }
        for change in outcome.changes {
            let key = MetricsSnapshot.TransitionKey(store: change.store, provider: change.provider.rawValue, event: change.kind.rawValue)
            snapshot.transitions[key, default: 0] += 1
        }
    }

    public func forget(store: String) {
        snapshot.stores.removeAll { $0.name == store }
        snapshot.transitions = snapshot.transitions.filter { $0.key.store != store }
    }

    public func sweepSkipped(store: String) {
        guard let index = snapshot.stores.firstIndex(where: { $0.name == store }) else { return }
        snapshot.stores[index].skippedSweeps += 1
    }

    public func requestFinished(service: String, operation: String, outcome: String) {
        snapshot.requests[MetricsSnapshot.RequestKey(service: service, operation: operation, outcome: outcome), default: 0] += 1
    }

    public func configLoaded(success: Bool, at date: Date, isReload: Bool) {
        snapshot.lastReloadSuccessful = success
        if success { snapshot.lastReloadSuccessTimestamp = date.timeIntervalSince1970.rounded(.down) }
        if isReload {
            snapshot.reloads += 1
            if !success { snapshot.failedReloads += 1 }
        }
    }

    /// One-line summary for systemd's STATUS=.
    public func statusLine() -> String {
        let checks = snapshot.stores.compactMap(\.report).flatMap(\.checks)
        let drifts = checks.filter { $0.status == .drift }.count
        let unknowns = checks.filter { $0.status == .unknown }.count
        let swept = snapshot.stores.filter { $0.report != nil }.count
        return "\(snapshot.stores.count) stores (\(swept) swept), \(drifts) drift, \(unknowns) unknown"
    }
}
