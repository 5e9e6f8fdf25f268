import BucketwatchCore
import BucketwatchTransport
import Dispatch
import Foundation
import Logging

/// The daemon's wiring, in one place: config -> HTTP client -> runner -> monitor ->
/// sinks, the metrics server, the scheduler, systemd notifications and signals.
///
/// Start order: config, metrics server (bind), first schedule, READY=1. Stop order is the
/// reverse: STOPPING=1, scheduler (cancels sweeps in flight), curl handles, server.
public struct Daemon: Sendable {
    public struct Options: Sendable {
        public var configPath: String
        public var environment: [String: String]
        /// `$STATE_DIRECTORY` (systemd `StateDirectory=`), default `/var/lib/bucketwatch`.
        public var stateDirectory: String
        public var initialJitter: Duration = .seconds(5)
        public var shutdownGrace: Duration = .seconds(5)

        public init(configPath: String, environment: [String: String], stateDirectory: String? = nil) {
            self.configPath = configPath
            self.environment = environment
            self.stateDirectory = stateDirectory ?? environment["STATE_DIRECTORY"].flatMap { $0.split(separator: ":").first.map(String.init) }
                ?? "/var/lib/bucketwatch"
        }
    }

    public static let configErrorExitCode: Int32 = 78
    public static let unavailableExitCode: Int32 = 69

    let options: Options
    let logger: Logger

    public init(options: Options, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    /// Runs until SIGTERM or SIGINT; returns the process exit code.
    public func run() async -> Int32 {
        let notifier = SystemdNotifier()
        var config: BucketwatchConfig
        do {
            config = try ConfigValidation.load(path: options.configPath)
        } catch {
            logger.error("\(error.description)")
            return Self.configErrorExitCode
        }

        let metrics = MetricsState(version: BuildInfo.version)
        let curl = CurlHTTPClient(maxConcurrentTransfers: 8)
        let runner = CheckRunner(environment: options.environment, http: MeteredHTTPClient(curl, metrics: metrics), maxConcurrentStores: 4)
        var sinks: [any ReportSink] = [metrics, JournalSink(), StatusSink(metrics: metrics, notifier: notifier)]
        if !JournalWriter.stderrIsJournal { sinks.append(StderrSink()) }
        let logger = self.logger
        let monitor = StoreMonitor(
            runner: runner, sinks: sinks, metrics: metrics, stateFile: StateFile(directory: options.stateDirectory),
            maxConcurrentStores: 4, kmsMaxAge: .seconds(60), log: { logger.warning("\($0)") })
        await monitor.configure(stores: config.stores)
        await metrics.configLoaded(success: true, at: Date(), isReload: false)

        guard let (host, port) = MetricsServer.split(listenAddress: config.listenAddress) else {
            logger.error("\(options.configPath): listen_address is not host:port")
            return Self.configErrorExitCode
        }
        let server: MetricsServer
        do {
            server = try await MetricsServer.start(host: host, port: port, metrics: metrics)
        } catch {
            logger.error("cannot listen on \(config.listenAddress): \(error)")
            curl.shutdown()
            return Self.unavailableExitCode
        }
        logger.info("listening on \(config.listenAddress); \(config.stores.count) store(s); state in \(options.stateDirectory)")

        let signals = SignalStream(signals: [SIGTERM, SIGINT, SIGHUP])
        let scheduler = Scheduler(monitor: monitor, initialJitter: options.initialJitter)
        scheduler.schedule(config)
        // As sd_watchdog_enabled(): WATCHDOG_PID, when set, must name this process.
        let watchdogForUs = options.environment["WATCHDOG_PID"].map { $0 == String(getpid()) } ?? true
        if watchdogForUs, let usec = options.environment["WATCHDOG_USEC"].flatMap(Int.init), usec > 0 {
            scheduler.startWatchdog(every: .microseconds(usec / 2)) { notifier.watchdog() }
        }
        notifier.ready(status: await metrics.statusLine())

        for await signal in signals.stream {
            if signal == SIGHUP {
                config = await reload(current: config, monitor: monitor, scheduler: scheduler, metrics: metrics, notifier: notifier)
                continue
            }
            logger.info("received \(signal == SIGTERM ? "SIGTERM" : "SIGINT"): stopping")
            break
        }

        notifier.stopping()
        await scheduler.stop(grace: options.shutdownGrace)
        curl.shutdown()
        await server.stop()
        signals.cancel()
        logger.info("stopped")
        return 0
    }

    /// SIGHUP: applies a valid new config; keeps the old one when the new one is invalid.
    func reload(current: BucketwatchConfig, monitor: StoreMonitor, scheduler: Scheduler, metrics: MetricsState,
                notifier: SystemdNotifier) async -> BucketwatchConfig {
        notifier.reloading()
        defer { notifier.notify("READY=1") }
        let next: BucketwatchConfig
        do {
            next = try ConfigValidation.load(path: options.configPath)
        } catch {
            logger.error("reload rejected, keeping the previous configuration: \(error.description)")
            await metrics.configLoaded(success: false, at: Date(), isReload: true)
            notifier.status("reload rejected: \(error.description)")
            return current
        }
        if next.listenAddress != current.listenAddress {
            logger.warning("listen_address changed to \(next.listenAddress): takes effect after a restart")
        }
        await monitor.configure(stores: next.stores)
        scheduler.schedule(next)
        await metrics.configLoaded(success: true, at: Date(), isReload: true)
        logger.info("configuration reloaded: \(next.stores.count) store(s)")
        notifier.status(await metrics.statusLine())
        return next
    }
}

/// Keeps systemd's STATUS= line current after every sweep.
struct StatusSink: ReportSink {
    let metrics: MetricsState
    let notifier: SystemdNotifier

    func record(_ outcome: SweepOutcome) async { notifier.status(await metrics.statusLine()) }
    func forget(store: String) async {}
}

/// POSIX signals as an async sequence, through Dispatch signal sources.
final class SignalStream: @unchecked Sendable {
    let stream: AsyncStream<Int32>
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "bucketwatch.signals")

    init(signals: [Int32]) {
        var continuation: AsyncStream<Int32>.Continuation!
        stream = AsyncStream { continuation = $0 }
        for number in signals {
            signal(number, SIG_IGN)  // the default action would kill us before Dispatch sees it
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [continuation] in continuation!.yield(number) }
            source.resume()
            sources.append(source)
        }
    }

    func cancel() { sources.forEach { $0.cancel() } }
}
