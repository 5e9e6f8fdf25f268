/// The journal entry for one state change: the fields are a contract (README "Journal").
///
/// Pure so it can be tested without a journal: `sd_journal_sendv` returns 0 even when no
/// journald listens, so a return value proves nothing about the encoding.
public enum JournalFields {
    public static let syslogIdentifier = "bucketwatch"

    public static func fields(for change: StateChange) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = [
            ("MESSAGE", change.message),
            ("PRIORITY", String(change.kind.priority)),
            ("SYSLOG_IDENTIFIER", syslogIdentifier),
            ("MESSAGE_ID", change.kind.messageID),
            ("BUCKETWATCH_EVENT", change.kind.rawValue),
            ("BUCKETWATCH_STORE", change.store),
            ("BUCKETWATCH_PROVIDER", change.provider.rawValue),
            ("BUCKETWATCH_BUCKET", change.bucket),
            ("BUCKETWATCH_CHECK", change.check),
            ("BUCKETWATCH_STATE", change.state.rawValue),
            ("BUCKETWATCH_PREVIOUS_STATE", change.previousState?.rawValue ?? "none"),
        ]
        if let expected = change.expected { fields.append(("BUCKETWATCH_EXPECTED", expected)) }
        if let actual = change.actual { fields.append(("BUCKETWATCH_ACTUAL", actual)) }
        if let reason = change.reason { fields.append(("BUCKETWATCH_REASON", reason)) }
        return fields
    }

    /// `NAME=value` as the native journal protocol carries it. Values may hold newlines:
    /// `sd_journal_sendv` frames each iovec itself, so no escaping is needed here.
    public static func encode(_ fields: [(name: String, value: String)]) -> [[UInt8]] {
        fields.map { Array("\($0.name)=".utf8) + Array($0.value.utf8) }
    }

    /// journald's rule (`journal_field_valid`): `[A-Z0-9_]`, at most 64 characters, not
    /// starting with `_` (trusted fields) or a digit.
    public static func isValidFieldName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first != "_", !("0"..."9").contains(first), name.count <= 64 else { return false }
        return name.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
