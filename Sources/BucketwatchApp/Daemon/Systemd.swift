import BucketwatchCore
import CSystemd
import Foundation

/// Sends journal entries through libsystemd's native protocol.
///
/// `sd_journal_sendv` takes iovecs; all field bytes live in one contiguous buffer for the
/// duration of the call. Without a journald socket it returns 0 silently, which is why the
/// field encoding is tested as a pure function and entries are read back with journalctl
/// in the integration test.
public struct JournalWriter: Sendable {
    public init() {}

    /// Returns libsystemd's result: 0 or a negative errno.
    @discardableResult
    public func send(_ fields: [(name: String, value: String)]) -> Int32 {
        let encoded = JournalFields.encode(fields)
        var buffer = [UInt8]()
        buffer.reserveCapacity(encoded.reduce(0) { $0 + $1.count })
        var ranges: [(offset: Int, length: Int)] = []
        for field in encoded {
            ranges.append((buffer.count, field.count))
            buffer.append(contentsOf: field)
        }
        return buffer.withUnsafeMutableBytes { raw -> Int32 in
            let base = raw.baseAddress!
            var vectors = ranges.map { iovec(iov_base: base + $0.offset, iov_len: $0.length) }
            return vectors.withUnsafeMutableBufferPointer { Int32(bw_sd_journal_sendv($0.baseAddress, Int32($0.count))) }
        }
    }

    /// Whether stderr is already connected to the journal (then log natively, not twice).
    public static var stderrIsJournal: Bool {
        guard let stream = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] else { return false }
        var info = stat()
        guard fstat(STDERR_FILENO, &info) == 0 else { return false }
        return stream == "\(info.st_dev):\(info.st_ino)"
    }
}

/// `sd_notify` messages for `Type=notify` units. No-ops (returning 0) outside systemd.
public struct SystemdNotifier: Sendable {
    public init() {}

    @discardableResult
    public func notify(_ state: String) -> Int32 {
        bw_sd_notify(0, state)
    }

    public func ready(status: String) { notify("READY=1\nSTATUS=\(status)") }
    public func status(_ text: String) { notify("STATUS=\(text)") }
    public func watchdog() { notify("WATCHDOG=1") }
    public func reloading() {
        // systemd 253+ also wants MONOTONIC_USEC; 252 (Debian 12) ignores it.
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        notify("RELOADING=1\nMONOTONIC_USEC=\(Int(now.tv_sec) * 1_000_000 + Int(now.tv_nsec) / 1000)")
    }
    public func stopping() { notify("STOPPING=1") }
}
