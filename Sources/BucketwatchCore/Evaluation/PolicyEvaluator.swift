/// Answers "does this policy grant principal P action A on resource R, unconditionally?"
///
/// This is evaluation, not string matching: principals as string or list or `*`,
/// account-level grants, wildcard actions and resources, `NotAction` / `NotResource` /
/// `NotPrincipal`, and an explicit Deny wins over any Allow. A statement with a
/// `Condition` never counts as an unconditional grant; a conditional Deny is reported
/// as a warning (it may or may not apply, e.g. the common `aws:SecureTransport` guard).
public struct PolicyEvaluator: Sendable {
    public var document: PolicyDocument

    public init(_ document: PolicyDocument) {
        self.document = document
    }

    public enum Verdict: Sendable, Equatable {
        case allowed
        /// Allowed only by statements with a Condition (their labels).
        case conditional([String])
        /// Taken away by an unconditional Deny (its label).
        case denied(String)
        case notGranted
    }

    public struct Outcome: Sendable, Equatable {
        public var verdict: Verdict
        /// Labels of conditional Deny statements that could apply.
        public var conditionalDenies: [String]
    }

    /// `action` may itself be a wildcard (`s3:GetObject*`): then a grant must cover all of it,
    /// and a Deny of any part of it takes it away.
    public func evaluate(principal: String, action: String, resource: String) -> Outcome {
        var allowedUnconditionally = false
        var conditionalAllows: [String] = []
        var conditionalDenies: [String] = []
        for (index, statement) in document.statements.enumerated() {
            let label = statement.label(index: index)
            guard Self.appliesTo(principal: principal, statement) else { continue }
            switch statement.effect {
            case .deny:
                guard Self.denyTouches(resource: resource, statement), Self.denyTouches(action: action, statement) else { continue }
                if statement.hasCondition {
                    conditionalDenies.append(label)
                } else {
                    return Outcome(verdict: .denied(label), conditionalDenies: conditionalDenies)
                }
            case .allow:
                guard Self.allowCovers(resource: resource, statement), Self.allowCovers(action: action, statement) else { continue }
                if statement.hasCondition { conditionalAllows.append(label) } else { allowedUnconditionally = true }
            }
        }
        let verdict: Verdict =
            allowedUnconditionally ? .allowed : (conditionalAllows.isEmpty ? .notGranted : .conditional(conditionalAllows))
        return Outcome(verdict: verdict, conditionalDenies: conditionalDenies)
    }

    /// Labels of Allow statements that grant anyone without a Condition: principal `*`, or
    /// `NotPrincipal` (everyone but the few it names).
    public func publicGrants() -> [String] {
        document.statements.enumerated().compactMap { index, statement in
            let anyone = statement.principal?.everyone == true || (statement.principal == nil && statement.notPrincipal != nil)
            return statement.effect == .allow && !statement.hasCondition && anyone ? statement.label(index: index) : nil
        }
    }

    // MARK: - Matching rules

    /// The 12-digit account of an IAM ARN (`arn:aws:iam::123456789012:role/x`), or the ID itself.
    static func account(of principal: String) -> String? {
        if principal.count == 12, principal.allSatisfy(\.isNumber) { return principal }
        let parts = principal.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 6, parts[0] == "arn", parts[2] == "iam" || parts[2] == "sts" else { return nil }
        let account = String(parts[4])
        return account.count == 12 ? account : nil
    }

    /// A named principal matches the required one exactly, or by naming its whole account
    /// (`123456789012` or `arn:aws:iam::123456789012:root`), which delegates to the account.
    static func principalMatches(_ named: String, required: String) -> Bool {
        if named == required { return true }
        guard let account = account(of: required) else { return false }
        return named == account || named == "arn:aws:iam::\(account):root"
            || named == "arn:aws-cn:iam::\(account):root" || named == "arn:aws-us-gov:iam::\(account):root"
    }

    static func setContains(_ set: PrincipalSet, _ principal: String) -> Bool {
        set.everyone || set.aws.contains { principalMatches($0, required: principal) }
    }

    static func appliesTo(principal: String, _ statement: PolicyStatement) -> Bool {
        if let named = statement.principal { return setContains(named, principal) }
        if let excluded = statement.notPrincipal { return !setContains(excluded, principal) }
        return false
    }

    /// An Allow must cover all of the required resource (which may be a wildcard like
    /// `bucket/*`): a pattern matching it literally, or a `NotResource` list none of whose
    /// entries overlaps it.
    static func allowCovers(resource: String, _ statement: PolicyStatement) -> Bool {
        if let patterns = statement.resources {
            return patterns.contains { iamGlobMatch($0, resource, caseInsensitive: false) }
        }
        if let excluded = statement.notResources {
            return !excluded.contains { overlaps($0, resource, caseInsensitive: false) }
        }
        return false
    }

    /// A Deny takes something away as soon as it touches any part of the required resource:
    /// a Deny on `bucket/team/*` removes writes under `team/` from a grant on `bucket/*`.
    static func denyTouches(resource: String, _ statement: PolicyStatement) -> Bool {
        if let patterns = statement.resources {
            return patterns.contains { overlaps($0, resource, caseInsensitive: false) }
        }
        if let excluded = statement.notResources {
            return !excluded.contains { iamGlobMatch($0, resource, caseInsensitive: false) }
        }
        return false
    }

    /// Two patterns overlap when either matches the other taken literally.
    static func overlaps(_ a: String, _ b: String, caseInsensitive: Bool = true) -> Bool {
        iamGlobMatch(a, b, caseInsensitive: caseInsensitive) || iamGlobMatch(b, a, caseInsensitive: caseInsensitive)
    }

    static func allowCovers(action: String, _ statement: PolicyStatement) -> Bool {
        if let patterns = statement.actions {
            return patterns.contains { iamGlobMatch($0, action, caseInsensitive: true) }
        }
        if let excluded = statement.notActions {
            return !excluded.contains { overlaps($0, action) }
        }
        return false
    }

    static func denyTouches(action: String, _ statement: PolicyStatement) -> Bool {
        if let patterns = statement.actions {
            return patterns.contains { overlaps($0, action) }
        }
        if let excluded = statement.notActions {
            return !excluded.contains { iamGlobMatch($0, action, caseInsensitive: true) }
        }
        return false
    }
}
