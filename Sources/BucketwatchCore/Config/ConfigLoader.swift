import Foundation
import Yams

/// Reads the YAML configuration into a `BucketwatchConfig`, with errors that point at
/// the file, line and key of the first mistake (in document order).
///
/// Error descriptions never contain a configured value (values may be secrets): only
/// key names, the kind of value found, the allowed values and, for duplicates, store names.
public enum ConfigLoader {
    /// Keys of the top-level mapping, in documentation order.
    public static let topLevelKeys = ["interval", "listen_address", "stores"]
    /// Keys of one entry of `stores`, in documentation order.
    public static let storeKeys = [
        "name", "provider", "bucket", "region", "endpoint", "path_style", "deployment", "principal",
        "kms_key", "prefix", "profile", "credentials_file", "ca_file", "insecure_skip_tls_verify",
        "interval", "service_account", "baseline",
    ]
    /// Keys of a store's `baseline:` when it is a mapping.
    public static let baselineKeys = ["profile", "skip", "cors_max_age_seconds", "allow_sse_s3", "soft_delete_min_days"]
    /// Check IDs `baseline.skip` may name.
    public static let knownCheckIDs = [
        "versioning", "encryption", "kms-key", "cors", "bucket-policy", "public-access",
        "soft-delete", "iam", "blob-soft-delete", "container-soft-delete",
    ]
    /// Baseline profiles `baseline` / `baseline.profile` may name.
    public static let knownBaselineProfiles = ["wandb-byob"]
    public static let defaultInterval: Duration = .seconds(300)
    public static let minimumInterval: Duration = .seconds(10)
    public static let defaultListenAddress = "127.0.0.1:9750"
    /// Larger files are refused by `load(path:)` without parsing.
    public static let maximumFileSize = 1 << 20

    /// Parses YAML text. `file` is only used in error messages.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> BucketwatchConfig {
        let root: Node?
        do {
            // The basic resolver leaves plain scalars untyped: this loader decides what
            // `true`, `5m` or `010` mean, with YAML 1.2 rules (so `yes` is just text).
            root = try Yams.compose(yaml: text, Resolver.basic)
        } catch let error as YamlError {
            throw yamlError(error, text: text, file: file)
        } catch {
            throw ConfigError(file: file, line: 1, key: "", problem: "invalid YAML: the text could not be parsed")
        }
        return try Reader(file: file).config(root)
    }

    /// Reads the file then parses; an unreadable file is a `ConfigError` with line `nil`.
    public static func load(path: String) throws(ConfigError) -> BucketwatchConfig {
        let data = try readFile(path)
        guard let text = String(validating: data, as: UTF8.self) else {
            throw ConfigError(
                file: path, line: firstInvalidUTF8Line(data), key: "",
                problem: "the file is not valid UTF-8 text; save it as UTF-8")
        }
        return try parse(text, file: path)
    }

    // MARK: - Reading the file (the only I/O of the core)

    private static func readFile(_ path: String) throws(ConfigError) -> Data {
        func unreadable(_ reason: String) -> ConfigError {
            ConfigError(file: path, line: nil, key: "", problem: "cannot read the configuration file: \(reason)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw unreadable("no such file; check the path")
        }
        guard !isDirectory.boolValue else { throw unreadable("it is a directory; give the path of the YAML file") }
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        } catch {
            let permission = (error as? CocoaError)?.code == .fileReadNoPermission
            throw unreadable(permission ? "permission denied; check the file's owner and mode" : "it cannot be opened")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumFileSize + 1) ?? Data()
        } catch {
            throw unreadable("reading failed")
        }
        guard data.count <= maximumFileSize else {
            throw unreadable("it is larger than \(maximumFileSize >> 20) MiB, which is not a bucketwatch configuration")
        }
        return data
    }

    private static func firstInvalidUTF8Line(_ data: Data) -> Int {
        var line = 1
        var iterator = data.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): if scalar == "\n" { line += 1 }
            case .emptyInput: return line
            case .error: return line
            }
        }
    }

    // MARK: - YAML syntax errors

    private static func yamlError(_ error: YamlError, text: String, file: String) -> ConfigError {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            if problem == "but found another document" {
                return ConfigError(
                    file: file, line: mark.line, key: "",
                    problem: "the file holds more than one YAML document; keep a single document (remove this '---' and what follows, or merge it into the first)")
            }
            // libyaml's problem and context texts are fixed phrases: they never contain the input.
            let contextNote = context.map { " (\($0.text) starting at line \($0.mark.line))" } ?? ""
            return ConfigError(
                file: file, line: mark.line, key: "",
                problem: "invalid YAML: \(problem)\(contextNote). Check the indentation, colons and quotes here")
        case .reader(let problem, let offset, _, _):
            return ConfigError(
                file: file, line: offset.map { lineNumber(atCharacterOffset: $0, in: text) } ?? 1, key: "",
                problem: "invalid YAML: \(problem). Remove the character or save the file as plain UTF-8 text")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return DuplicateKeyLocator.error(duplicates: duplicates, mark: context.mark, text: text, file: file)
        default:
            return ConfigError(file: file, line: 1, key: "", problem: "invalid YAML: the text could not be parsed")
        }
    }

    private static func lineNumber(atCharacterOffset offset: Int, in text: String) -> Int {
        var line = 1
        for character in text.prefix(offset) {
            line += character.unicodeScalars.filter { $0 == "\n" }.count
        }
        return line
    }
}

// MARK: - Kinds of YAML values

/// What a YAML node holds, decided with the YAML 1.2 core schema for plain scalars.
enum ValueKind: Equatable {
    case string, integer, number, boolean, null, mapping, list, tagged

    /// How error messages name it: "found a mapping".
    var phrase: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .number: "a number"
        case .boolean: "a boolean"
        case .null: "an empty value"
        case .mapping: "a mapping"
        case .list: "a list"
        case .tagged: "a value with a custom YAML tag"
        }
    }

    init(of node: Node) {
        switch node {
        case .mapping: self = .mapping
        case .sequence: self = .list
        case .alias: self = .tagged
        case .scalar(let scalar):
            // `tag.rawValue` is the tag as written: "" when implicit, "!" when non-specific.
            // Quoted and block scalars get `!!str` from the parser.
            switch scalar.tag.rawValue {
            case "", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                "tag:yaml.org,2002:null":
                self = scalar.style == .plain ? ValueKind.plain(scalar.string) : .string
            case "tag:yaml.org,2002:str", "!":
                self = .string
            default:
                self = .tagged
            }
        }
    }

    /// YAML 1.2 core schema resolution of an untagged plain scalar.
    static func plain(_ text: String) -> ValueKind {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE", "false", "False", "FALSE": return .boolean
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN":
            return .number
        default: break
        }
        if isIntegerSyntax(text) { return .integer }
        if isFloatSyntax(text) { return .number }
        return .string
    }

    private static func isDigits(_ text: Substring, allowed: (Character) -> Bool = { ("0"..."9").contains($0) }) -> Bool {
        !text.isEmpty && text.allSatisfy(allowed)
    }

    static func isIntegerSyntax(_ text: String) -> Bool {
        let unsigned = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        if isDigits(unsigned) { return true }
        if text.hasPrefix("0o") { return isDigits(text.dropFirst(2)) { ("0"..."7").contains($0) } }
        if text.hasPrefix("0x") { return isDigits(text.dropFirst(2)) { $0.isHexDigit && $0.isASCII } }
        return false
    }

    /// The value of a decimal, `0o` octal or `0x` hex integer; nil if not one or too large.
    static func integerValue(_ text: String) -> Int? {
        if text.hasPrefix("0o") { return isIntegerSyntax(text) ? Int(text.dropFirst(2), radix: 8) : nil }
        if text.hasPrefix("0x") { return isIntegerSyntax(text) ? Int(text.dropFirst(2), radix: 16) : nil }
        guard isIntegerSyntax(text) else { return nil }
        return Int(text.hasPrefix("+") ? String(text.dropFirst()) : text)
    }

    static func isFloatSyntax(_ text: String) -> Bool {
        var rest = Substring(text)
        if rest.hasPrefix("-") || rest.hasPrefix("+") { rest = rest.dropFirst() }
        var mantissa = rest
        var exponent: Substring?
        if let e = rest.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = rest[..<e]
            exponent = rest[rest.index(after: e)...]
        }
        let parts = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let digits: (Substring) -> Bool = { $0.allSatisfy { ("0"..."9").contains($0) } }
        guard parts.allSatisfy(digits), parts.contains(where: { !$0.isEmpty }) else { return false }
        if parts.count == 1 && exponent == nil { return false }  // plain integer
        if var exponent {
            if exponent.hasPrefix("-") || exponent.hasPrefix("+") { exponent = exponent.dropFirst() }
            guard !exponent.isEmpty, digits(exponent) else { return false }
        }
        return true
    }
}

// MARK: - The schema walk

/// A value to read: its node, its key path and the line errors point at (the line of
/// its key in a mapping, of the item itself in a list).
private struct Field {
    let node: Node
    let path: String
    let line: Int

    var kind: ValueKind { ValueKind(of: node) }
    var text: String { node.scalar?.string ?? "" }
}

/// Walks the composed document, building the model and throwing the first mistake.
private struct Reader {
    let file: String

    func fail(_ line: Int?, _ key: String, _ problem: String) -> ConfigError {
        ConfigError(file: file, line: line ?? 1, key: key, problem: problem)
    }

    func fail(_ field: Field, _ problem: String) -> ConfigError {
        fail(field.line, field.path, problem)
    }

    // MARK: Top level

    func config(_ root: Node?) throws(ConfigError) -> BucketwatchConfig {
        guard let root, ValueKind(of: root) != .null else {
            throw fail(1, "", "no configuration found: expected a mapping with 'stores'")
        }
        guard case .mapping(let top) = root else {
            throw fail(root.mark?.line, "", "expected a mapping with 'stores' at the top level, found \(ValueKind(of: root).phrase)")
        }
        var config = BucketwatchConfig(
            interval: ConfigLoader.defaultInterval, listenAddress: ConfigLoader.defaultListenAddress, stores: [])
        var keys = KeyTracker(reader: self, parent: "", allowed: ConfigLoader.topLevelKeys) { key in
            if ConfigLoader.storeKeys.contains(key) {
                return "'\(key)' is a store setting: put it in an entry under 'stores'"
            }
            if ConfigLoader.baselineKeys.contains(key) {
                return "'\(key)' is a baseline setting: put it under 'baseline' in an entry of 'stores'"
            }
            return nil
        }
        var sawStores = false
        for (keyNode, value) in top {
            let (key, field) = try keys.admit(keyNode, value)
            switch key {
            case "interval":
                config.interval = try interval(field)
            case "listen_address":
                let address = try string(field)
                guard Self.isValidListenAddress(address) else {
                    throw fail(field, "must be host:port with a port from 1 to 65535, e.g. 127.0.0.1:9750 or [::1]:9750")
                }
                config.listenAddress = address
            default:  // "stores"
                config.stores = try stores(field)
                sawStores = true
            }
        }
        guard sawStores else {
            throw fail(top.mark?.line, "stores", "required key is missing; add a 'stores' list with at least one store")
        }
        return config
    }

    // MARK: Stores

    func stores(_ field: Field) throws(ConfigError) -> [StoreConfig] {
        guard case .sequence(let items) = field.node else {
            throw fail(field, "expected a list of stores, found \(field.kind.phrase)")
        }
        guard !items.isEmpty else {
            throw fail(field, "must list at least one store")
        }
        var nameLines: [String: Int] = [:]
        var result: [StoreConfig] = []
        for (index, item) in items.enumerated() {
            let storeField = Field(node: item, path: "\(field.path)[\(index)]", line: item.mark?.line ?? field.line)
            result.append(try store(storeField, index: index, nameLines: &nameLines))
        }
        return result
    }

    func store(_ item: Field, index: Int, nameLines: inout [String: Int]) throws(ConfigError) -> StoreConfig {
        guard case .mapping(let mapping) = item.node else {
            throw fail(item, "expected a mapping with name, provider and bucket, found \(item.kind.phrase)")
        }
        var keys = KeyTracker(reader: self, parent: item.path, allowed: ConfigLoader.storeKeys) { key in
            if ConfigLoader.baselineKeys.contains(key) { return "'\(key)' goes under 'baseline'" }
            if ConfigLoader.topLevelKeys.contains(key) { return "'\(key)' is a top-level setting" }
            return nil
        }
        var name: String?
        var provider: Provider?
        var bucket: String?
        var store = StoreConfig(name: "", provider: .aws, bucket: "")
        for (keyNode, value) in mapping {
            let (key, field) = try keys.admit(keyNode, value)
            switch key {
            case "name":
                let text = try string(field)
                guard Self.isValidStoreName(text) else {
                    throw fail(field, "must be 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'")
                }
                if let first = nameLines[text] {
                    throw fail(field, "duplicate store name '\(text)'; first defined at line \(first). Give each store a unique name")
                }
                nameLines[text] = field.line
                name = text
            case "provider":
                provider = try choice(field, Provider.self)
            case "bucket":
                let text = try string(field)
                guard !text.isEmpty else { throw fail(field, "must not be empty") }
                bucket = text
            case "region": store.region = try optionalString(field)
            case "endpoint":
                let text = try optionalString(field)
                guard Self.isValidEndpoint(text) else {
                    throw fail(field, "must start with http:// or https://, e.g. https://minio.internal:9000")
                }
                store.endpoint = text
            case "path_style": store.pathStyle = try bool(field)
            case "deployment": store.deployment = try choice(field, Deployment.self)
            case "principal": store.principal = try optionalString(field)
            case "kms_key": store.kmsKey = try optionalString(field)
            case "prefix": store.prefix = try optionalString(field)
            case "profile": store.profile = try optionalString(field)
            case "credentials_file": store.credentialsFile = try optionalString(field)
            case "ca_file": store.caFile = try optionalString(field)
            case "insecure_skip_tls_verify": store.insecureSkipTLSVerify = try bool(field)
            case "interval": store.interval = try interval(field)
            case "service_account": store.serviceAccount = try optionalString(field)
            default:  // "baseline"
                store.baseline = try baseline(field)
            }
        }
        let missing = [("name", name == nil), ("provider", provider == nil), ("bucket", bucket == nil)]
        if let key = missing.first(where: { $0.1 })?.0 {
            let which = name.map { "store \(index) (name '\($0)')" } ?? "store \(index)"
            throw fail(
                mapping.mark?.line ?? item.line, "\(item.path).\(key)",
                "missing required key '\(key)' in \(which); every store needs name, provider and bucket")
        }
        store.name = name!
        store.provider = provider!
        store.bucket = bucket!
        store.sourceLine = mapping.mark?.line ?? item.line
        return store
    }

    // MARK: Baseline

    func baseline(_ baselineField: Field) throws(ConfigError) -> BaselineSelection {
        guard case .mapping(let mapping) = baselineField.node else {
            let profile = try string(
                baselineField, expected: "a profile name or a mapping with \(ConfigLoader.baselineKeys.joined(separator: ", "))")
            return BaselineSelection(profile: try knownProfile(profile, baselineField))
        }
        var selection = BaselineSelection()
        var keys = KeyTracker(reader: self, parent: baselineField.path, allowed: ConfigLoader.baselineKeys) { key in
            ConfigLoader.storeKeys.contains(key) ? "'\(key)' is a store setting: put it next to 'baseline', not under it" : nil
        }
        for (keyNode, value) in mapping {
            let (key, field) = try keys.admit(keyNode, value)
            switch key {
            case "profile":
                selection.profile = try knownProfile(try string(field), field)
            case "skip":
                selection.skip = try skipList(field)
            case "cors_max_age_seconds":
                let seconds = try integer(field)
                guard seconds >= 0 else { throw fail(field, "must be 0 or more (seconds)") }
                selection.corsMaxAgeSeconds = seconds
            case "soft_delete_min_days":
                let days = try integer(field)
                guard days >= 0 else { throw fail(field, "must be 0 or more (days)") }
                selection.softDeleteMinimumDays = days
            default:  // "allow_sse_s3"
                selection.allowSSES3 = try bool(field)
            }
        }
        return selection
    }

    func knownProfile(_ profile: String, _ field: Field) throws(ConfigError) -> String {
        guard ConfigLoader.knownBaselineProfiles.contains(profile) else {
            throw fail(field, "unknown baseline profile; the only built-in profile is wandb-byob")
        }
        return profile
    }

    func skipList(_ field: Field) throws(ConfigError) -> Set<String> {
        guard case .sequence(let items) = field.node else {
            throw fail(field, "expected a list of check IDs, found \(field.kind.phrase); write it as [id, ...] or one '- id' per line")
        }
        var skip: Set<String> = []
        for (index, node) in items.enumerated() {
            let item = Field(node: node, path: "\(field.path)[\(index)]", line: node.mark?.line ?? field.line)
            let id = try string(item, expected: "a check ID")
            guard ConfigLoader.knownCheckIDs.contains(id) else {
                let hint = Suggestion.closest(to: id, in: ConfigLoader.knownCheckIDs).map { " (did you mean '\($0)'?)" } ?? ""
                throw fail(item, "unknown check ID\(hint). Known checks: \(ConfigLoader.knownCheckIDs.joined(separator: ", "))")
            }
            skip.insert(id)
        }
        return skip
    }

    // MARK: Scalars

    /// Strings accept any plain text; numbers keep their literal spelling (`principal: 123456789012`).
    func string(_ field: Field, expected: String = "a string") throws(ConfigError) -> String {
        switch field.kind {
        case .string, .integer, .number:
            return field.text
        case .boolean:
            throw fail(field, "expected \(expected), found a boolean; put the text in quotes")
        case .null:
            throw fail(field, "expected \(expected), found an empty value")
        case let kind:
            throw fail(field, "expected \(expected), found \(kind.phrase)")
        }
    }

    /// Optional strings are either absent or non-empty.
    func optionalString(_ field: Field) throws(ConfigError) -> String {
        if field.kind == .null {
            throw fail(field, "expected a string, found an empty value; set a value or remove the key")
        }
        let text = try string(field)
        guard !text.isEmpty else { throw fail(field, "must not be empty; set a value or remove the key") }
        return text
    }

    /// Only YAML 1.2 booleans: true/false (also True/TRUE/False/FALSE), never yes/no/on/off.
    func bool(_ field: Field) throws(ConfigError) -> Bool {
        guard field.kind == .boolean else {
            throw fail(field, "expected true or false, found \(field.kind.phrase)")
        }
        return field.text.lowercased() == "true"
    }

    func integer(_ field: Field) throws(ConfigError) -> Int {
        guard field.kind == .integer else {
            throw fail(field, "expected an integer, found \(field.kind.phrase)")
        }
        guard let value = ValueKind.integerValue(field.text) else { throw fail(field, "is too large") }
        return value
    }

    func choice<Choice: RawRepresentable & CaseIterable>(
        _ field: Field, _: Choice.Type
    ) throws(ConfigError) -> Choice where Choice.RawValue == String {
        let allowed = Choice.allCases.map(\.rawValue).joined(separator: ", ")
        let text = try string(field, expected: "one of \(allowed)")
        guard let value = Choice(rawValue: text) else { throw fail(field, "must be one of \(allowed)") }
        return value
    }

    func interval(_ field: Field) throws(ConfigError) -> Duration {
        guard field.kind == .string else {
            let hint = field.kind == .integer ? "; add a unit: s, m or h" : ""
            throw fail(field, "expected a duration such as 30s, 5m or 1h, found \(field.kind.phrase)\(hint)")
        }
        let duration: Duration
        do {
            duration = try DurationParser.parse(field.text)
        } catch {
            switch error {
            case .malformed: throw fail(field, "must be a whole number followed by s, m or h, e.g. 30s, 5m or 1h")
            case .tooLarge: throw fail(field, "is too large")
            }
        }
        guard duration >= ConfigLoader.minimumInterval else {
            throw fail(field, "must be at least \(DurationParser.format(ConfigLoader.minimumInterval))")
        }
        return duration
    }

    // MARK: Value rules

    static func isValidStoreName(_ name: String) -> Bool {
        let scalars = name.unicodeScalars
        return (1...64).contains(scalars.count) && scalars.allSatisfy { isASCIIAlphanumeric($0) || "._-".unicodeScalars.contains($0) }
    }

    static func isValidEndpoint(_ endpoint: String) -> Bool {
        for scheme in ["http://", "https://"] where endpoint.hasPrefix(scheme) {
            return endpoint.count > scheme.count
        }
        return false
    }

    /// `host:port` or `[ipv6]:port`, port 1-65535.
    static func isValidListenAddress(_ address: String) -> Bool {
        let host: Substring
        let port: Substring
        if address.hasPrefix("[") {
            guard let close = address.firstIndex(of: "]") else { return false }
            host = address[address.index(after: address.startIndex)..<close]
            let rest = address[address.index(after: close)...]
            guard rest.hasPrefix(":") else { return false }
            port = rest.dropFirst()
            guard host.contains(":"), host.unicodeScalars.allSatisfy({ isASCIIAlphanumeric($0) || ":.%".unicodeScalars.contains($0) })
            else { return false }
        } else {
            guard let colon = address.lastIndex(of: ":") else { return false }
            host = address[..<colon]
            port = address[address.index(after: colon)...]
            guard !host.isEmpty, host.unicodeScalars.allSatisfy({ isASCIIAlphanumeric($0) || ".-_".unicodeScalars.contains($0) })
            else { return false }
        }
        guard (1...5).contains(port.count), port.allSatisfy({ ("0"..."9").contains($0) }), let number = Int(port) else { return false }
        return (1...65535).contains(number)
    }

    static func isASCIIAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}

// MARK: - Keys of one mapping

/// Checks the keys of one mapping as they come: plain names, known, not repeated.
private struct KeyTracker {
    let reader: Reader
    let parent: String
    let allowed: [String]
    /// An extra sentence for an unknown key that belongs somewhere else.
    let misplaced: (String) -> String?
    private var seen: [String: Int] = [:]

    init(reader: Reader, parent: String, allowed: [String], misplaced: @escaping (String) -> String?) {
        self.reader = reader
        self.parent = parent
        self.allowed = allowed
        self.misplaced = misplaced
    }

    func path(_ key: String) -> String {
        parent.isEmpty ? key : "\(parent).\(key)"
    }

    /// Returns the key and its value to read, or throws for a non-scalar, unknown or repeated key.
    mutating func admit(_ keyNode: Node, _ value: Node) throws(ConfigError) -> (key: String, field: Field) {
        let line = keyNode.mark?.line
        guard case .scalar(let scalar) = keyNode else {
            throw reader.fail(line, parent, "keys must be plain names, found \(ValueKind(of: keyNode).phrase) as a key")
        }
        let key = scalar.string
        let shown = KeyName.display(key)
        guard allowed.contains(key) else {
            let allowedList = "Allowed keys: \(allowed.joined(separator: ", "))"
            if key == "<<" {
                throw reader.fail(line, path(shown), "YAML merge keys ('<<') are not supported; write the keys out. \(allowedList)")
            }
            var problem = "unknown key '\(shown)'"
            if let suggestion = Suggestion.closest(to: key, in: allowed) { problem += " (did you mean '\(suggestion)'?)" }
            problem += ". \(allowedList)"
            if let note = misplaced(key) { problem += ". \(note)" }
            throw reader.fail(line, path(shown), problem)
        }
        if let first = seen[key] {
            throw reader.fail(line, path(key), "duplicate key; first defined at line \(first). Remove one of them")
        }
        seen[key] = line ?? 1
        return (key, Field(node: value, path: path(key), line: line ?? value.mark?.line ?? 1))
    }
}

enum KeyName {
    /// A key as shown in messages: control characters replaced, at most 64 characters.
    static func display(_ key: String) -> String {
        var shown = String(String.UnicodeScalarView(key.unicodeScalars.map { (scalar: Unicode.Scalar) -> Unicode.Scalar in
            scalar.properties.generalCategory == .control ? "?" : scalar
        }))
        if shown.count > 64 { shown = String(shown.prefix(64)) + "..." }
        return shown
    }
}

enum Suggestion {
    /// The allowed word closest to `word` by edit distance, if it is close enough to be a typo.
    static func closest(to word: String, in candidates: [String]) -> String? {
        let lowered = Array(word.lowercased())
        let limit = lowered.count <= 3 ? 1 : 2
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(lowered, Array(candidate))
            if distance <= limit, distance < best?.1 ?? .max { best = (candidate, distance) }
        }
        return best?.0
    }

    /// Levenshtein distance with adjacent transpositions counted as one edit.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}

// MARK: - Duplicate keys rejected by Yams

/// Yams refuses a mapping with a repeated key before handing out any node, reporting only
/// the key and its first line. To name the key path and the repeated line, the first
/// occurrence is renamed to a unique placeholder in a copy of the text, which then composes;
/// the placeholder's mapping gives the path and the other occurrence.
private enum DuplicateKeyLocator {
    static let placeholderPrefix = "bucketwatch-duplicate-key-placeholder-"

    static func error(duplicates: [String], mark: Mark, text: String, file: String) -> ConfigError {
        let name = duplicates.first ?? ""
        let fallback = ConfigError(
            file: file, line: mark.line, key: KeyName.display(name),
            problem: "duplicate key: defined here and again later in the same mapping. Remove one of them")
        guard let located = locate(name: name, mark: mark, text: text) else { return fallback }
        return ConfigError(
            file: file, line: located.line, key: located.path,
            problem: "duplicate key; first defined at line \(mark.line). Remove one of them")
    }

    private static func locate(name: String, mark: Mark, text: String) -> (path: String, line: Int)? {
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map(Array.init)
        // placeholder -> original key, for every occurrence renamed on the way.
        var renamed: [String: String] = [:]
        var current = (name: name, mark: mark)
        var root: Node?
        for attempt in 0..<32 {
            let placeholder = "\(placeholderPrefix)\(attempt)"
            guard rename(current.name, at: current.mark, to: placeholder, in: &lines) else { return nil }
            renamed[placeholder] = current.name
            let joined = String(String.UnicodeScalarView(lines.joined(separator: ["\n"])))
            do {
                root = try Yams.compose(yaml: joined, Resolver.basic)
                break
            } catch YamlError.duplicatedKeysInMapping(let more, let context) {
                current = (more.first ?? "", context.mark)
            } catch {
                return nil
            }
        }
        guard let root else { return nil }
        let target = "\(placeholderPrefix)0"
        var budget = 100_000
        guard let (parent, mapping) = findMapping(containing: target, in: root, path: "", budget: &budget) else { return nil }
        for (key, _) in mapping {
            guard let keyText = key.string, keyText != target else { continue }
            if keyText == name || renamed[keyText] == name {
                let shown = KeyName.display(name)
                return (parent.isEmpty ? shown : "\(parent).\(shown)", key.mark?.line ?? mark.line)
            }
        }
        return nil
    }

    /// Replaces the key written at `mark` (plain or simply quoted) by `placeholder`.
    private static func rename(_ name: String, at mark: Mark, to placeholder: String, in lines: inout [[Unicode.Scalar]]) -> Bool {
        guard lines.indices.contains(mark.line - 1) else { return false }
        var line = lines[mark.line - 1]
        var start = mark.column - 1
        guard line.indices.contains(start) else { return false }
        if line[start] == "\"" || line[start] == "'" { start += 1 }
        let key = Array(name.unicodeScalars)
        guard start + key.count <= line.count, Array(line[start..<start + key.count]) == key else { return false }
        line.replaceSubrange(start..<start + key.count, with: placeholder.unicodeScalars)
        lines[mark.line - 1] = line
        return true
    }

    private static func findMapping(containing key: String, in node: Node, path: String, budget: inout Int) -> (String, Node.Mapping)? {
        budget -= 1
        guard budget > 0 else { return nil }
        switch node {
        case .mapping(let mapping):
            for (keyNode, value) in mapping {
                if keyNode.string == key { return (path, mapping) }
                let child = KeyName.display(keyNode.string ?? "?")
                if let found = findMapping(containing: key, in: value, path: path.isEmpty ? child : "\(path).\(child)", budget: &budget) {
                    return found
                }
            }
        case .sequence(let items):
            for (index, item) in items.enumerated() {
                if let found = findMapping(containing: key, in: item, path: "\(path)[\(index)]", budget: &budget) {
                    return found
                }
            }
        default:
            break
        }
        return nil
    }
}
