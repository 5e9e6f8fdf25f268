import BucketwatchCore
import Foundation
import Logging

/// The daemon's operational log (start, reload, failures), as a swift-log handler.
///
/// Under systemd, when stderr already is the journal (`JOURNAL_STREAM`), entries go natively
/// through `sd_journal_sendv` with `PRIORITY`, `SYSLOG_IDENTIFIER` and metadata as
/// `BUCKETWATCH_*` fields; otherwise one readable line per entry goes to stderr.
/// Callers must not put secrets into messages or metadata: nothing here can tell.
public struct DaemonLogHandler: LogHandler {
    public enum Destination: Sendable { case journal, stderr }

    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    let destination: Destination
    let writer = JournalWriter()

    public init(destination: Destination) {
        self.destination = destination
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        merged.merge(metadataProvider?.get() ?? [:]) { _, new in new }
        merged.merge(event.metadata ?? [:]) { _, new in new }
        switch destination {
        case .journal:
            var fields: [(name: String, value: String)] = [
                ("MESSAGE", "\(event.message)"),
                ("PRIORITY", String(Self.syslogPriority(event.level))),
                ("SYSLOG_IDENTIFIER", JournalFields.syslogIdentifier),
                ("CODE_FILE", event.file), ("CODE_LINE", String(event.line)), ("CODE_FUNC", event.function),
            ]
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
                let name = "BUCKETWATCH_" + key.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
                if JournalFields.isValidFieldName(name) { fields.append((name, "\(value)")) }
            }
            writer.send(fields)
        case .stderr:
            let extras = merged.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
            FileHandle.standardError.write(Data("bucketwatch[\(event.level)]: \(event.message)\(extras)\n".utf8))
        }
    }

    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}
