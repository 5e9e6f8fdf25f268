import BucketwatchAWS
import BucketwatchCore
import Foundation

/// Owns what the daemon knows between sweeps: the last state of every check, which
/// stores are being read right now, and where outcomes go.
///
/// An actor, so sweeps of different stores can finish in any order without racing on
/// the known states; the reads themselves run outside it.
public actor StoreMonitor {
    private let runner: CheckRunner
    private let sinks: [any ReportSink]
    private let metrics: MetricsState
    private let stateFile: StateFile?
    private let kmsCache: KMSKeyCache
    private let log: @Sendable (String) -> Void
    private var known: KnownStates
    private var inFlight: Set<String> = []
    private var configured: Set<String> = []
    /// `provider|bucket` per configured store: a store whose bucket changes starts afresh.
    private var identities: [String: String] = [:]
    /// Bumped by every `configure`: reads started before it report nothing.
    private var generation = 0
    private var slotsFree: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init(runner: CheckRunner, sinks: [any ReportSink], metrics: MetricsState, stateFile: StateFile?, maxConcurrentStores: Int,
                kmsMaxAge: Duration, log: @escaping @Sendable (String) -> Void) {
        self.runner = runner
        self.sinks = sinks
        self.metrics = metrics
        self.stateFile = stateFile
        self.kmsCache = KMSKeyCache(maxAge: kmsMaxAge)
        self.log = log
        self.slotsFree = max(1, maxConcurrentStores)
        switch stateFile?.load() {
        case .loaded(let states)?:
            known = states
        case .corrupt(let reason)?:
            log("state file \(stateFile!.path) ignored (\(reason)); known drift will be announced once more")
            known = [:]
        case .missing?, nil:
            known = [:]
        }
    }

    /// The stores now configured; forgets removed ones everywhere.
    public func configure(stores: [StoreConfig]) async {
        generation += 1
        let names = Set(stores.map(\.name))
        for removed in configured.subtracting(names) {
            for sink in sinks { await sink.forget(store: removed) }
        }
        // Also stores remembered in the state file but gone from the config since the last run.
        for stale in Set(known.keys).subtracting(names) { known[stale] = nil }
        for store in stores {
            let identity = "\(store.provider.rawValue)|\(store.bucket)"
            if let previous = identities[store.name], previous != identity {
                known[store.name] = nil  // another bucket under the same name: its states are not this one's
                for sink in sinks { await sink.forget(store: store.name) }
            }
            identities[store.name] = identity
        }
        configured = names
        identities = identities.filter { names.contains($0.key) }
        await metrics.configure(stores: stores)
        persist()
    }

    /// Reads one store unless a read of it is still running (then the sweep is skipped and
    /// counted). At most `maxConcurrentStores` reads run at once; the rest wait their turn.
    /// Returns false when skipped.
    @discardableResult
    public func sweep(_ store: StoreConfig) async -> Bool {
        guard !inFlight.contains(store.name) else {
            await metrics.sweepSkipped(store: store.name)
            log("store \(store.name): sweep skipped, the previous read is still running")
            return false
        }
        inFlight.insert(store.name)
        defer { inFlight.remove(store.name) }
        await acquireSlot()
        defer { releaseSlot() }
        guard !Task.isCancelled else { return false }

        let started = ContinuousClock.now
        let generation = self.generation
        let report = await runner.check(store, kmsCache: kmsCache)
        let duration = ContinuousClock.now - started
        // Dropped when a reload happened meanwhile (the read used the old settings), when the
        // store was removed, or when shutting down.
        guard generation == self.generation, configured.contains(store.name), !Task.isCancelled else { return false }

        let changes = StateChanges.diff(previous: known[store.name], report: report)
        known[store.name] = Dictionary(uniqueKeysWithValues: report.checks.map { ($0.id, CheckRecord($0)) })
        persist()
        let outcome = SweepOutcome(report: report, changes: changes, finishedAt: Date(), duration: duration)
        for sink in sinks { await sink.record(outcome) }
        return true
    }

    /// Proves the actor is responsive (the watchdog pings only after this returns).
    public func heartbeat() -> Bool { true }

    public func knownStates() -> KnownStates { known }

    private func persist() {
        guard let stateFile else { return }
        do { try stateFile.save(known) } catch { log("cannot write state file \(stateFile.path): \(error.localizedDescription)") }
    }

    private func acquireSlot() async {
        if slotsFree > 0 {
            slotsFree -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func releaseSlot() {
        if waiting.isEmpty { slotsFree += 1 } else { waiting.removeFirst().resume() }
    }
}
