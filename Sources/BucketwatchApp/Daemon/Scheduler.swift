import BucketwatchCore
import Dispatch
import Foundation

/// Fires each store's sweep on a Dispatch timer: once soon after start (with jitter, so
/// stores do not all fire at once), then every `interval` (the store's own or the global).
///
/// The timers and the watchdog share one serial queue. The watchdog pings systemd only
/// after the monitor answered, so a wedged scheduler or monitor stops the pings and
/// systemd restarts the service.
public final class Scheduler: @unchecked Sendable {
    private let queue = DispatchQueue(label: "bucketwatch.scheduler")
    private let monitor: StoreMonitor
    private let initialJitter: Duration
    private var timers: [String: DispatchSourceTimer] = [:]
    private var tasks: [UUID: Task<Void, Never>] = [:]
    private var watchdog: DispatchSourceTimer?
    private var stopped = false

    public init(monitor: StoreMonitor, initialJitter: Duration = .seconds(5)) {
        self.monitor = monitor
        self.initialJitter = initialJitter
    }

    /// Replaces all timers with one per store of `config`.
    public func schedule(_ config: BucketwatchConfig) {
        queue.sync {
            guard !stopped else { return }
            timers.values.forEach { $0.cancel() }
            timers.removeAll()
            for store in config.stores {
                let interval = store.interval ?? config.interval
                let timer = DispatchSource.makeTimerSource(queue: queue)
                let firstIn = Self.seconds(initialJitter) * Double.random(in: 0...1)
                timer.schedule(deadline: .now() + firstIn, repeating: Self.seconds(interval), leeway: .milliseconds(500))
                timer.setEventHandler { [weak self] in self?.fire(store) }
                timer.resume()
                timers[store.name] = timer
            }
        }
    }

    /// Pings the systemd watchdog every `every` (half of `WATCHDOG_USEC`, from the environment).
    public func startWatchdog(every: Duration, ping: @escaping @Sendable () -> Void) {
        queue.sync {
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.schedule(deadline: .now(), repeating: Self.seconds(every), leeway: .milliseconds(100))
            let monitor = self.monitor
            timer.setEventHandler {
                Task {
                    if await monitor.heartbeat() { ping() }
                }
            }
            timer.resume()
            watchdog = timer
        }
    }

    /// Called on the scheduler queue.
    private func fire(_ store: StoreConfig) {
        guard !stopped else { return }
        let id = UUID()
        let monitor = self.monitor
        tasks[id] = Task {
            await monitor.sweep(store)
            self.queue.async { self.tasks[id] = nil }
        }
    }

    /// Stops the timers and cancels sweeps in flight (their requests are aborted by the
    /// HTTP client's cancellation), then waits up to `grace` for them to end.
    public func stop(grace: Duration) async {
        let running: [Task<Void, Never>] = queue.sync {
            stopped = true
            timers.values.forEach { $0.cancel() }
            timers.removeAll()
            watchdog?.cancel()
            watchdog = nil
            return Array(tasks.values)
        }
        running.forEach { $0.cancel() }
        // Whichever comes first: every sweep ended, or the grace period ran out. Unstructured
        // tasks, because a task group would wait for the slower child too. Transfers still
        // running after this are aborted by the HTTP client's shutdown.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resume = ResumeOnce(continuation)
            Task { for task in running { await task.value }; resume.fire() }
            Task { try? await Task.sleep(for: grace); resume.fire() }
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        let (s, atto) = duration.components
        return Double(s) + Double(atto) / 1e18
    }
}

/// Resumes a continuation exactly once, whoever calls first.
final class ResumeOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Void, Never>?

    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = continuation }

    func fire() {
        let pending = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            defer { continuation = nil }
            return continuation
        }
        pending?.resume()
    }
}

extension DispatchTimeInterval {
    /// Clamped to a year: an absurd configured interval must not trap the conversion.
    static func seconds(_ value: Double) -> DispatchTimeInterval { .nanoseconds(Int(min(max(value, 0), 31_536_000) * 1e9)) }
}
