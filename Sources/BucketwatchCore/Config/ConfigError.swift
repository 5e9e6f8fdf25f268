/// A configuration mistake, located in the file.
///
/// The description is what the admin sees: `FILE:LINE: key 'KEY': problem. What to do.`
/// It never contains a configured value that could be a secret; only key names,
/// types and the allowed values are echoed.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based line; `nil` when the file could not be read at all.
    public var line: Int?
    /// Dotted key path, e.g. `stores[1].provider`; empty for whole-file problems.
    public var key: String
    public var problem: String

    public init(file: String, line: Int?, key: String, problem: String) {
        self.file = file
        self.line = line
        self.key = key
        self.problem = problem
    }

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return key.isEmpty ? "\(location): \(problem)" : "\(location): key '\(key)': \(problem)"
    }
}
