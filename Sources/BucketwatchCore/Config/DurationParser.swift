/// Durations as written in the configuration: a whole number followed by one unit,
/// `s` (seconds), `m` (minutes) or `h` (hours): `30s`, `90s`, `5m`, `1h`.
///
/// Nothing else is accepted: no fractions, no spaces, no combined units (`1h30m`),
/// no upper-case units, no bare numbers.
public enum DurationParser {
    public enum Failure: Error, Sendable, Equatable {
        /// Not `<digits><s|m|h>`.
        case malformed
        /// Does not fit in 64-bit seconds.
        case tooLarge
    }

    /// Parses `30s`, `5m`, `1h`, ... into a `Duration`.
    public static func parse(_ text: String) throws(Failure) -> Duration {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count >= 2, let unit = scalars.last else { throw .malformed }
        let multiplier: Int
        switch unit {
        case "s": multiplier = 1
        case "m": multiplier = 60
        case "h": multiplier = 3600
        default: throw .malformed
        }
        var value = 0
        for scalar in scalars.dropLast() {
            guard ("0"..."9").contains(scalar) else { throw .malformed }
            let digit = Int(scalar.value - 48)
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { throw .tooLarge }
            value = sum
        }
        let (seconds, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw .tooLarge }
        return .seconds(seconds)
    }

    /// The shortest form `parse` accepts for `duration`: `1h`, `5m`, `90s`.
    /// Sub-second parts are dropped.
    public static func format(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        if seconds != 0, seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds != 0, seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
