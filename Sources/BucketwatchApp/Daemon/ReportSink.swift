import BucketwatchCore
import Foundation

/// What one read of one store produced.
public struct SweepOutcome: Sendable {
    public var report: StoreReport
    /// Checks whose state changed since the last known state (what gets announced).
    public var changes: [StateChange]
    public var finishedAt: Date
    public var duration: Duration
}

/// Where sweep results go: the journal, the metrics cache, stderr. One small protocol,
/// so the monitor does not know who listens.
public protocol ReportSink: Sendable {
    func record(_ outcome: SweepOutcome) async
    /// A store left the configuration: forget it.
    func forget(store: String) async
}

/// Announces state changes as structured journal entries (one per change).
public struct JournalSink: ReportSink {
    let writer: JournalWriter

    public init(writer: JournalWriter = JournalWriter()) {
        self.writer = writer
    }

    public func record(_ outcome: SweepOutcome) async {
        for change in outcome.changes {
            writer.send(JournalFields.fields(for: change))
        }
    }

    public func forget(store: String) async {}
}

/// When not under systemd: one readable line per state change on stderr.
public struct StderrSink: ReportSink {
    public init() {}

    public func record(_ outcome: SweepOutcome) async {
        for change in outcome.changes {
            let line = "bucketwatch: <\(change.kind.priority)> \(change.message)\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    public func forget(store: String) async {}
}
