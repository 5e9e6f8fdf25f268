/// Turns what was read from an S3 (or S3-compatible) bucket into the baseline's check results.
///
/// A pure function of (baseline, observations): every branch is table-tested without I/O.
public enum S3Evaluator {
    public static func evaluate(bucket: String, baseline: S3Baseline, observed: S3Observations) -> [CheckResult] {
        var results = [
            versioning(observed.versioning),
            encryption(observed.encryption, baseline: baseline, resolved: observed.resolvedKeyARNs),
            kmsKey(observed, baseline: baseline),
            cors(observed.cors, requirement: baseline.cors),
            bucketPolicy(observed.policy, bucket: bucket, baseline: baseline),
            publicAccess(policy: observed.policy, block: observed.publicAccessBlock),
        ]
        for index in results.indices where baseline.skipped.contains(results[index].id) {
            results[index] = CheckResult(
                id: results[index].id, status: .notApplicable,
                message: "skipped: this store's baseline lists '\(results[index].id)' under skip")
        }
        return results
    }

    /// The shared meaning of observations that carry no value. `nil` for `.value` and
    /// `.notConfigured`, whose meaning depends on the check.
    static func settled<T>(_ id: String, _ observation: Observation<T>, expected: String, what: String) -> CheckResult? {
        switch observation {
        case .value, .notConfigured:
            return nil
        case .bucketMissing:
            return CheckResult(id: id, status: .drift, expected: expected, actual: "bucket does not exist",
                               message: "the bucket does not exist")
        case .notImplemented(let words):
            return CheckResult(id: id, status: .notApplicable, expected: expected,
                               message: "the store does not implement \(what): \(words)")
        case .unreadable(let reason):
            return CheckResult(id: id, status: .unknown, expected: expected,
                               message: "could not read \(what): \(reason)")
        }
    }

    // MARK: - versioning

    static func versioning(_ observed: Observation<String?>) -> CheckResult {
        let id = "versioning", expected = "Enabled"
        if let settled = settled(id, observed, expected: expected, what: "the versioning configuration") { return settled }
        switch observed {
        case .value("Enabled"?):
            return CheckResult(id: id, status: .compliant, expected: expected, actual: "Enabled", message: "versioning is enabled")
        case .value(let status?):
            return CheckResult(id: id, status: .drift, expected: expected, actual: status,
                               message: "versioning is \(status): deleted or overwritten objects cannot be recovered")
        default:
            return CheckResult(id: id, status: .drift, expected: expected, actual: "never enabled",
                               message: "versioning has never been enabled on this bucket")
        }
    }

    // MARK: - encryption

    static func encryptionExpectation(_ baseline: S3Baseline) -> String {
        if let key = baseline.kmsKey { return "aws:kms with \(key)" }
        return baseline.allowSSES3 ? "aws:kms or AES256" : "aws:kms"
    }

    static func encryption(_ observed: Observation<[EncryptionRule]>, baseline: S3Baseline,
                           resolved: (configured: String, bucket: String)? = nil) -> CheckResult {
        let id = "encryption", expected = encryptionExpectation(baseline)
        if let settled = settled(id, observed, expected: expected, what: "the default encryption") { return settled }
        guard case .value(let rules) = observed, let rule = rules.first else {
            return CheckResult(id: id, status: .drift, expected: expected, actual: "none",
                               message: "no default encryption is configured")
        }
        let actual = rule.kmsKeyID.map { "\(rule.algorithm) with \($0)" } ?? rule.algorithm
        switch rule.algorithm {
        case "aws:kms", "aws:kms:dsse":
            if let wanted = baseline.kmsKey {
                guard let used = rule.kmsKeyID else {
                    return CheckResult(id: id, status: .drift, expected: expected, actual: "\(rule.algorithm) with the AWS-managed key aws/s3",
                                       message: "default encryption uses the AWS-managed key, not the configured key")
                }
                if !KMSKeyReference.sameKey(used, wanted) {
                    if let resolved {
                        if resolved.configured != resolved.bucket {
                            return CheckResult(id: id, status: .drift, expected: expected, actual: actual,
                                               message: "default encryption uses another KMS key than the configured one")
                        }
                    } else if KMSKeyReference.isAlias(used) || KMSKeyReference.isAlias(wanted) {
                        // An alias and a key ID may name the same key: only KMS can tell, and it did not answer.
                        return CheckResult(id: id, status: .unknown, expected: expected, actual: actual,
                                           message: "cannot tell whether \(used) is the configured key \(wanted): KMS could not resolve them")
                    } else {
                        return CheckResult(id: id, status: .drift, expected: expected, actual: actual,
                                           message: "default encryption uses another KMS key than the configured one")
                    }
                }
            }
            return CheckResult(id: id, status: .compliant, expected: expected, actual: actual, message: "default encryption is SSE-KMS")
        case "AES256" where baseline.allowSSES3 && baseline.kmsKey == nil:
            return CheckResult(id: id, status: .compliant, expected: expected, actual: actual,
                               message: "default encryption is SSE-S3, which this store's baseline accepts")
        default:
            return CheckResult(id: id, status: .drift, expected: expected, actual: actual,
                               message: "default encryption is \(rule.algorithm), not SSE-KMS")
        }
    }

    // MARK: - kms-key

    static func kmsKey(_ observed: S3Observations, baseline: S3Baseline) -> CheckResult {
        let id = "kms-key"
        let expected = "enabled ENCRYPT_DECRYPT key; policy grants \(baseline.vendorPrincipal) \(baseline.kmsActions.joined(separator: ", "))"
        guard baseline.hasKMS else {
            return CheckResult(id: id, status: .notApplicable,
                               message: "S3-compatible store: there is no AWS KMS key policy to read")
        }
        guard let keyObservation = observed.kmsKey else {
            // No key was looked up: say why, from what the encryption read showed.
            if let settled = settled(id, observed.encryption, expected: expected, what: "the default encryption, so the KMS key is unknown") {
                return settled
            }
            if case .value(let rules) = observed.encryption, let rule = rules.first, rule.algorithm == "AES256",
               baseline.allowSSES3, baseline.kmsKey == nil {
                return CheckResult(id: id, status: .notApplicable,
                                   message: "default encryption is SSE-S3, which this store's baseline accepts: no KMS key to check")
            }
            if case .value(let rules) = observed.encryption, let rule = rules.first, rule.algorithm.hasPrefix("aws:kms"), rule.kmsKeyID == nil {
                return CheckResult(id: id, status: .drift, expected: expected, actual: "AWS-managed key aws/s3",
                                   message: "the AWS-managed key aws/s3 cannot grant the vendor principal access; use a customer-managed key")
            }
            return CheckResult(id: id, status: .drift, expected: expected, actual: "no KMS key in use",
                               message: "default encryption names no KMS key, and the store configures no kms_key")
        }
        switch keyObservation {
        case .value(let key):
            return kmsKeyState(key, baseline: baseline, expected: expected)
        case .notConfigured(let words):
            return CheckResult(id: id, status: .drift, expected: expected, actual: "key does not exist", message: "the KMS key does not exist: \(words)")
        default:
            return settled(id, keyObservation, expected: expected, what: "the KMS key")!
        }
    }

    static func kmsKeyState(_ key: KMSKeyState, baseline: S3Baseline, expected: String) -> CheckResult {
        let id = "kms-key"
        var problems: [String] = []
        if !key.enabled || key.keyState != "Enabled" { problems.append("key state is \(key.keyState)") }
        if key.keyUsage != "ENCRYPT_DECRYPT" { problems.append("key usage is \(key.keyUsage)") }
        if key.keyManager == "AWS" { problems.append("AWS-managed key: its policy cannot grant the vendor principal") }
        var warnings: [String] = []
        switch key.policy {
        case .value(let document):
            let evaluator = PolicyEvaluator(document)
            let grants = grantProblems(evaluator, principal: baseline.vendorPrincipal, actions: baseline.kmsActions, resource: key.arn)
            problems.append(contentsOf: grants.problems.map { "key policy: \($0)" })
            warnings.append(contentsOf: grants.warnings)
            let ownAccount = evaluator.evaluate(principal: "arn:aws:iam::\(key.accountID):root", action: "kms:*", resource: key.arn)
            if ownAccount.verdict != .allowed {
                problems.append("key policy: the key's own account \(key.accountID) no longer holds kms:*")
            }
        case .notConfigured, .bucketMissing, .notImplemented, .unreadable:
            let reason: String
            switch key.policy {
            case .unreadable(let r), .notImplemented(let r), .notConfigured(let r): reason = r
            default: reason = "no policy"
            }
            if problems.isEmpty {
                return CheckResult(id: id, status: .unknown, expected: expected,
                                   message: "could not read the key policy of \(key.arn): \(reason)")
            }
            warnings.append("key policy not read: \(reason)")
        }
        if problems.isEmpty {
            return CheckResult(id: id, status: .compliant, expected: expected, actual: "\(key.arn): enabled, policy grants the vendor",
                               message: "the KMS key is enabled and its policy grants the vendor principal", warnings: warnings)
        }
        return CheckResult(id: id, status: .drift, expected: expected, actual: problems.joined(separator: "; "),
                           message: "KMS key \(key.arn): \(problems.joined(separator: "; "))", warnings: warnings)
    }

    // MARK: - cors

    static func cors(_ observed: Observation<[CORSRule]>, requirement: CORSRequirement) -> CheckResult {
        let id = "cors", expected = requirement.summary
        if let settled = settled(id, observed, expected: expected, what: "the CORS configuration") { return settled }
        guard case .value(let rules) = observed, !rules.isEmpty else {
            return CheckResult(id: id, status: .drift, expected: expected, actual: "no CORS configuration",
                               message: "no CORS configuration: browser uploads through pre-signed URLs will fail")
        }
        let shortfalls = rules.map { corsShortfalls($0, requirement) }
        if shortfalls.contains(where: \.isEmpty) {
            let rule = rules[shortfalls.firstIndex(where: \.isEmpty)!]
            return CheckResult(id: id, status: .compliant, expected: expected, actual: rule.summary, message: "a CORS rule allows browser uploads")
        }
        // Report the rule closest to the baseline.
        let best = shortfalls.indices.min { shortfalls[$0].count < shortfalls[$1].count }!
        return CheckResult(id: id, status: .drift, expected: expected, actual: rules[best].summary,
                           message: "no CORS rule meets the baseline; closest rule: \(shortfalls[best].joined(separator: "; "))")
    }

    static func corsShortfalls(_ rule: CORSRule, _ requirement: CORSRequirement) -> [String] {
        func missing(_ wanted: [String], in have: [String], caseInsensitive: Bool) -> [String] {
            let haveSet = Set(have.map { caseInsensitive ? $0.lowercased() : $0 })
            return wanted.filter { !haveSet.contains(caseInsensitive ? $0.lowercased() : $0) }
        }
        var out: [String] = []
        let origins = missing(requirement.origins, in: rule.allowedOrigins, caseInsensitive: false)
        if !origins.isEmpty { out.append("origin \(origins.joined(separator: ",")) not allowed") }
        let methods = missing(requirement.methods, in: rule.allowedMethods.map { $0.uppercased() }, caseInsensitive: false)
        if !methods.isEmpty { out.append("method \(methods.joined(separator: ",")) not allowed") }
        let headers = missing(requirement.allowedHeaders, in: rule.allowedHeaders, caseInsensitive: true)
        if !headers.isEmpty { out.append("allowed header \(headers.joined(separator: ",")) missing") }
        let expose = missing(requirement.exposeHeaders, in: rule.exposeHeaders, caseInsensitive: true)
        if !expose.isEmpty { out.append("\(expose.joined(separator: ",")) not exposed") }
        if rule.maxAgeSeconds != requirement.maxAgeSeconds {
            out.append("max age \(rule.maxAgeSeconds.map { "\($0)s" } ?? "unset"), expected \(requirement.maxAgeSeconds)s")
        }
        return out
    }

    // MARK: - bucket-policy

    struct GrantProblems {
        var problems: [String] = []
        var warnings: [String] = []
    }

    /// Collects, for actions on one resource, what is missing, conditional or denied.
    static func grantProblems(_ evaluator: PolicyEvaluator, principal: String, actions: [String], resource: String) -> GrantProblems {
        var missing: [String] = [], conditional: [String: [String]] = [:], denied: [String: [String]] = [:]
        var out = GrantProblems()
        for action in actions {
            let outcome = evaluator.evaluate(principal: principal, action: action, resource: resource)
            for label in outcome.conditionalDenies {
                out.warnings.append("\(label) denies \(action) on \(resource) under a condition")
            }
            switch outcome.verdict {
            case .allowed: break
            case .notGranted: missing.append(action)
            case .conditional(let labels): conditional[labels.joined(separator: ", "), default: []].append(action)
            case .denied(let label): denied[label, default: []].append(action)
            }
        }
        if !missing.isEmpty { out.problems.append("not granted on \(resource): \(missing.joined(separator: ", "))") }
        for (labels, actions) in conditional.sorted(by: { $0.key < $1.key }) {
            out.problems.append("granted only under a Condition (\(labels)), which does not count as an unconditional grant, on \(resource): \(actions.joined(separator: ", "))")
        }
        for (label, actions) in denied.sorted(by: { $0.key < $1.key }) {
            out.problems.append("explicitly denied by \(label) on \(resource): \(actions.joined(separator: ", "))")
        }
        return out
    }

    static func bucketPolicy(_ observed: Observation<PolicyDocument>, bucket: String, baseline: S3Baseline) -> CheckResult {
        let id = "bucket-policy"
        let expected = "Allow \(baseline.vendorPrincipal) the vendor's \(baseline.bucketActions.count + baseline.objectActions.count) S3 actions, no Deny"
        if let settled = settled(id, observed, expected: expected, what: "the bucket policy") { return settled }
        guard case .value(let document) = observed else {
            return CheckResult(id: id, status: .drift, expected: expected, actual: "no bucket policy",
                               message: "no bucket policy: the vendor principal has no access")
        }
        let evaluator = PolicyEvaluator(document)
        let bucketARN = "arn:aws:s3:::\(bucket)"
        let onBucket = grantProblems(evaluator, principal: baseline.vendorPrincipal, actions: baseline.bucketActions, resource: bucketARN)
        let onObjects = grantProblems(evaluator, principal: baseline.vendorPrincipal, actions: baseline.objectActions, resource: "\(bucketARN)/*")
        let problems = onBucket.problems + onObjects.problems
        let warnings = onBucket.warnings + onObjects.warnings
        if problems.isEmpty {
            return CheckResult(id: id, status: .compliant, expected: expected, actual: "all actions granted",
                               message: "the bucket policy grants the vendor principal every required action", warnings: warnings)
        }
        return CheckResult(id: id, status: .drift, expected: expected, actual: problems.joined(separator: "; "),
                           message: "the bucket policy does not fully grant \(baseline.vendorPrincipal): \(problems.joined(separator: "; "))",
                           warnings: warnings)
    }

    // MARK: - public-access

    static func publicAccess(policy: Observation<PolicyDocument>, block: Observation<PublicAccessBlock>) -> CheckResult {
        let id = "public-access"
        let expected = "no unconditional Allow for principal *; public access block fully on"
        if case .bucketMissing = policy { return settled(id, policy, expected: expected, what: "")! }
        // A public grant read from the policy is drift whatever the block says.
        if case .value(let document) = policy {
            let grants = PolicyEvaluator(document).publicGrants()
            if !grants.isEmpty {
                return CheckResult(id: id, status: .drift, expected: expected, actual: "public grant in \(grants.joined(separator: ", "))",
                                   message: "the bucket policy allows anyone (principal *) without a condition in \(grants.joined(separator: ", "))")
            }
        }
        if case .unreadable(let reason) = policy {
            // A block read as off is a definite finding, whatever the policy says.
            if case .value(let settings) = block, !settings.allOn {
                return CheckResult(id: id, status: .drift, expected: expected, actual: "off: \(settings.offSettings.joined(separator: ", "))",
                                   message: "the public access block is partly off: \(settings.offSettings.joined(separator: ", ")) (bucket policy not read: \(reason))")
            }
            return CheckResult(id: id, status: .unknown, expected: expected, message: "could not read the bucket policy: \(reason)")
        }
        switch block {
        case .value(let settings) where settings.allOn:
            return CheckResult(id: id, status: .compliant, expected: expected, actual: "no public grant; block fully on",
                               message: "no public grant and the public access block is fully on")
        case .value(let settings):
            return CheckResult(id: id, status: .drift, expected: expected, actual: "off: \(settings.offSettings.joined(separator: ", "))",
                               message: "the public access block is partly off: \(settings.offSettings.joined(separator: ", "))")
        case .notConfigured:
            return CheckResult(id: id, status: .drift, expected: expected, actual: "no public access block",
                               message: "the bucket has no public access block configuration")
        default:
            return settled(id, block, expected: expected, what: "the public access block")!
        }
    }
}

/// Comparing KMS key references that may be a key ID, a key ARN, an alias or an alias ARN.
public enum KMSKeyReference {
    /// The part that identifies the key: the key ID of a key ARN, `alias/NAME` of an alias ARN.
    public static func identifier(_ reference: String) -> String {
        if reference.hasPrefix("arn:"), let range = reference.range(of: ":key/") {
            return String(reference[range.upperBound...])
        }
        // An alias ARN stays whole: the same alias name in another account or region is another key.
        return reference
    }

    /// `alias/NAME` or an alias ARN: resolves to a key only through KMS.
    public static func isAlias(_ reference: String) -> Bool {
        reference.hasPrefix("alias/") || (reference.hasPrefix("arn:") && reference.contains(":alias/"))
    }

    public static func sameKey(_ a: String, _ b: String) -> Bool {
        a == b || identifier(a) == identifier(b)
    }

    /// The region of a key or alias ARN.
    public static func region(_ reference: String) -> String? {
        let parts = reference.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 6, parts[0] == "arn", parts[2] == "kms", !parts[3].isEmpty else { return nil }
        return String(parts[3])
    }
}
