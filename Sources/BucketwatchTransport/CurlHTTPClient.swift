import Dispatch
import Foundation

/// The production `HTTPClient`: libcurl easy handles run on dedicated Dispatch threads.
///
/// Why this shape: `curl_easy_perform` blocks, and Swift's cooperative pool has only as
/// many threads as cores (2 here), so blocking it would stall every task in the process.
/// Transfers therefore run on a private concurrent queue, bounded by a semaphore to
/// `maxConcurrentTransfers`. Finished handles go back to a pool and keep their connection
/// caches, so the next request to the same host reuses the TCP/TLS connection.
public final class CurlHTTPClient: HTTPClient, @unchecked Sendable {
    private let queue = DispatchQueue(label: "bucketwatch.curl", attributes: .concurrent)
    private let slots: DispatchSemaphore
    private let lock = NSLock()
    private var idleHandles: [CurlEasyHandle] = []
    private var closed = false
    private var inFlight: [ObjectIdentifier: CancelFlag] = [:]

    public let maxConcurrentTransfers: Int

    public init(maxConcurrentTransfers: Int = 8) {
        precondition(maxConcurrentTransfers > 0)
        self.maxConcurrentTransfers = maxConcurrentTransfers
        self.slots = DispatchSemaphore(value: maxConcurrentTransfers)
        _ = curlGlobalInitialisation
    }

    public func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let flag = CancelFlag()
        let result: Result<HTTPResponse, TransportError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                queue.async { [self] in
                    slots.wait()
                    defer { slots.signal() }
                    continuation.resume(returning: runOnThisThread(request, flag: flag))
                }
            }
        } onCancel: {
            flag.set()
        }
        return try result.get()
    }

    private func runOnThisThread(_ request: HTTPRequest, flag: CancelFlag) -> Result<HTTPResponse, TransportError> {
        guard let handle = checkOut() else { return .failure(.cancelled) }
        lock.withLock { inFlight[ObjectIdentifier(flag)] = flag }
        defer {
            lock.withLock { _ = inFlight.removeValue(forKey: ObjectIdentifier(flag)) }
            checkIn(handle)
        }
        if flag.isSet { return .failure(.cancelled) }
        return handle.perform(request, cancelFlag: flag)
    }

    /// A pooled handle, a new one, or `nil` once the client is shut down.
    private func checkOut() -> CurlEasyHandle? {
        let (isClosed, pooled) = lock.withLock { (closed, closed ? nil : idleHandles.popLast()) }
        if isClosed { return nil }
        return pooled ?? CurlEasyHandle()
    }

    private func checkIn(_ handle: CurlEasyHandle) {
        let keep = lock.withLock { () -> Bool in
            guard !closed, idleHandles.count < maxConcurrentTransfers else { return false }
            idleHandles.append(handle)
            return true
        }
        // A handle not kept is released when this function returns, which frees it.
        _ = keep
    }

    /// Aborts transfers in flight, refuses new ones and frees every pooled handle.
    /// Call before the process exits (OpenSSL's exit-time cleanup races with late curl cleanup).
    public func shutdown() {
        let (handles, flags) = lock.withLock { () -> ([CurlEasyHandle], [CancelFlag]) in
            closed = true
            defer { idleHandles.removeAll() }
            return (idleHandles, Array(inFlight.values))
        }
        flags.forEach { $0.set() }
        withExtendedLifetime(handles) {}  // the last references: the curl handles are freed here
    }

    /// Number of idle handles (tests: proves handles are pooled, not leaked).
    public var idleHandleCount: Int { lock.withLock { idleHandles.count } }
}
