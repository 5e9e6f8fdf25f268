import Foundation

/// An IAM policy document (bucket policy or KMS key policy), parsed for evaluation.
///
/// AWS accepts many spellings of the same thing (a string or a list, `"*"` or
/// `{"AWS": "*"}`); this type normalises them so the evaluator sees one shape.
public struct PolicyDocument: Sendable, Equatable {
    public var statements: [PolicyStatement]

    public init(statements: [PolicyStatement]) {
        self.statements = statements
    }
}

public struct PolicyStatement: Sendable, Equatable {
    public enum Effect: String, Sendable, Equatable { case allow = "Allow", deny = "Deny" }

    public var sid: String?
    public var effect: Effect
    /// `Principal`; `nil` when the statement uses `NotPrincipal` or has none (identity policies).
    public var principal: PrincipalSet?
    public var notPrincipal: PrincipalSet?
    public var actions: [String]?
    public var notActions: [String]?
    public var resources: [String]?
    public var notResources: [String]?
    /// Whether the statement has a `Condition` block: then it is not an unconditional grant.
    public var hasCondition: Bool

    public init(
        sid: String? = nil, effect: Effect, principal: PrincipalSet? = nil, notPrincipal: PrincipalSet? = nil,
        actions: [String]? = nil, notActions: [String]? = nil, resources: [String]? = nil, notResources: [String]? = nil,
        hasCondition: Bool = false
    ) {
        self.sid = sid
        self.effect = effect
        self.principal = principal
        self.notPrincipal = notPrincipal
        self.actions = actions
        self.notActions = notActions
        self.resources = resources
        self.notResources = notResources
        self.hasCondition = hasCondition
    }

    /// A name for findings: the Sid, or the statement's position.
    public func label(index: Int) -> String { sid.map { "Sid \($0)" } ?? "statement #\(index + 1)" }
}

/// Who a statement names. `everyone` is `"*"` or `{"AWS": "*"}`.
public struct PrincipalSet: Sendable, Equatable {
    public var everyone: Bool
    /// `AWS` principals: ARNs or 12-digit account IDs.
    public var aws: [String]
    /// `Service`, `Federated`, `CanonicalUser` principals, kept only to report them.
    public var other: [String]

    public init(everyone: Bool = false, aws: [String] = [], other: [String] = []) {
        self.everyone = everyone
        self.aws = aws
        self.other = other
    }
}

public struct PolicyParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { "unparsable policy document: \(reason)" }
}

extension PolicyDocument {
    /// Parses policy JSON. Hostile or malformed input throws; it never traps.
    public static func parse(_ bytes: [UInt8]) throws(PolicyParseError) -> PolicyDocument {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        } catch {
            throw PolicyParseError(reason: "not JSON")
        }
        guard let root = object as? [String: Any] else { throw PolicyParseError(reason: "top level is not an object") }
        let rawStatements: [Any]
        switch root["Statement"] {
        case let list as [Any]: rawStatements = list
        case let single as [String: Any]: rawStatements = [single]
        case nil: throw PolicyParseError(reason: "no Statement")
        default: throw PolicyParseError(reason: "Statement is neither an object nor a list")
        }
        var statements: [PolicyStatement] = []
        for (index, raw) in rawStatements.enumerated() {
            guard let s = raw as? [String: Any] else { throw PolicyParseError(reason: "statement #\(index + 1) is not an object") }
            guard let effectText = s["Effect"] as? String, let effect = PolicyStatement.Effect(rawValue: effectText) else {
                throw PolicyParseError(reason: "statement #\(index + 1) has no Effect Allow or Deny")
            }
            statements.append(PolicyStatement(
                sid: s["Sid"] as? String,
                effect: effect,
                principal: try parsePrincipal(s["Principal"], index: index),
                notPrincipal: try parsePrincipal(s["NotPrincipal"], index: index),
                actions: try stringList(s["Action"], field: "Action", index: index),
                notActions: try stringList(s["NotAction"], field: "NotAction", index: index),
                resources: try stringList(s["Resource"], field: "Resource", index: index),
                notResources: try stringList(s["NotResource"], field: "NotResource", index: index),
                hasCondition: (s["Condition"] as? [String: Any]).map { !$0.isEmpty } ?? (s["Condition"] != nil)
            ))
        }
        return PolicyDocument(statements: statements)
    }

    private static func stringList(_ value: Any?, field: String, index: Int) throws(PolicyParseError) -> [String]? {
        switch value {
        case nil: return nil
        case let s as String: return [s]
        case let list as [Any]:
            var out: [String] = []
            for item in list {
                guard let s = item as? String else { throw PolicyParseError(reason: "statement #\(index + 1): \(field) holds a non-string") }
                out.append(s)
            }
            return out
        default: throw PolicyParseError(reason: "statement #\(index + 1): \(field) is neither a string nor a list")
        }
    }

    private static func parsePrincipal(_ value: Any?, index: Int) throws(PolicyParseError) -> PrincipalSet? {
        switch value {
        case nil: return nil
        case let s as String:
            return s == "*" ? PrincipalSet(everyone: true) : PrincipalSet(aws: [s])
        case let map as [String: Any]:
            var set = PrincipalSet()
            for (kind, raw) in map {
                let names = try stringList(raw, field: "Principal.\(kind)", index: index) ?? []
                if kind == "AWS" {
                    for name in names {
                        if name == "*" { set.everyone = true } else { set.aws.append(name) }
                    }
                } else {
                    set.other.append(contentsOf: names.map { "\(kind):\($0)" })
                }
            }
            return set
        default:
            throw PolicyParseError(reason: "statement #\(index + 1): Principal is neither a string nor an object")
        }
    }
}
