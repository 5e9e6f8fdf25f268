/// Turns what was read from a GCS bucket into the baseline's check results. Pure.
public enum GCSEvaluator {
    public static func evaluate(baseline: GCSBaseline, observed: GCSObservations) -> [CheckResult] {
        var results = [
            versioning(observed.bucket),
            softDelete(observed.bucket, minimum: baseline.softDeleteMinimumSeconds),
            encryption(observed.bucket, key: baseline.kmsKey),
            cors(observed.bucket, requirement: baseline.cors),
            iam(observed.iam, baseline: baseline, bucketMissing: observed.bucket == .bucketMissing),
            publicAccess(bucket: observed.bucket, iam: observed.iam),
        ]
        for index in results.indices where baseline.skipped.contains(results[index].id) {
            results[index] = CheckResult(id: results[index].id, status: .notApplicable,
                                         message: "skipped: this store's baseline lists '\(results[index].id)' under skip")
        }
        return results
    }

    static func versioning(_ bucket: Observation<GCSBucket>) -> CheckResult {
        let id = "versioning", expected = "enabled"
        if let settled = S3Evaluator.settled(id, bucket, expected: expected, what: "the bucket") { return settled }
        if bucket.value?.versioningEnabled == true {
            return CheckResult(id: id, status: .compliant, expected: expected, actual: "enabled", message: "object versioning is enabled")
        }
        return CheckResult(id: id, status: .drift, expected: expected, actual: "disabled",
                           message: "object versioning is off: overwritten or deleted objects cannot be recovered")
    }

    static func days(_ seconds: Int64) -> String {
        seconds % 86_400 == 0 ? "\(seconds / 86_400) days" : "\(seconds) s"
    }

    static func softDelete(_ bucket: Observation<GCSBucket>, minimum: Int64) -> CheckResult {
        let id = "soft-delete", expected = "retention of at least \(days(max(minimum, 1)))"
        if let settled = S3Evaluator.settled(id, bucket, expected: expected, what: "the bucket") { return settled }
        guard let seconds = bucket.value?.softDeleteRetentionSeconds else {
            return CheckResult(id: id, status: .drift, expected: expected, actual: "no soft delete policy",
                               message: "soft delete is off: the bucket has no soft delete policy")
        }
        if seconds <= 0 {
            return CheckResult(id: id, status: .drift, expected: expected, actual: "disabled (0)", message: "soft delete is disabled")
        }
        if seconds < minimum {
            return CheckResult(id: id, status: .drift, expected: expected, actual: days(seconds),
                               message: "soft delete keeps objects \(days(seconds)), less than the baseline's \(days(minimum))")
        }
        return CheckResult(id: id, status: .compliant, expected: expected, actual: days(seconds),
                           message: "soft delete keeps deleted objects \(days(seconds))")
    }

    static func encryption(_ bucket: Observation<GCSBucket>, key: String?) -> CheckResult {
        let id = "encryption", expected = key.map { "default KMS key \($0)" } ?? "Google-managed (no default KMS key)"
        if let settled = S3Evaluator.settled(id, bucket, expected: expected, what: "the bucket") { return settled }
        let actualKey = bucket.value?.defaultKMSKeyName
        switch (key, actualKey) {
        case (nil, nil):
            return CheckResult(id: id, status: .compliant, expected: expected, actual: "Google-managed", message: "objects use Google-managed encryption")
        case (nil, let used?):
            return CheckResult(id: id, status: .drift, expected: expected, actual: "default KMS key \(used)",
                               message: "a customer-managed default key is set; the baseline asks for Google-managed encryption")
        case (let wanted?, let used?) where used == wanted:
            return CheckResult(id: id, status: .compliant, expected: expected, actual: "default KMS key \(used)", message: "the configured default KMS key is set")
        case (_?, let used):
            return CheckResult(id: id, status: .drift, expected: expected, actual: used.map { "default KMS key \($0)" } ?? "Google-managed",
                               message: "the bucket's default encryption key is not the configured one")
        }
    }

    static func cors(_ bucket: Observation<GCSBucket>, requirement: CORSRequirement) -> CheckResult {
        let id = "cors"
        let expected = "origin *; method GET,HEAD,PUT; responseHeader Content-Type; maxAgeSeconds \(requirement.maxAgeSeconds)"
        if let settled = S3Evaluator.settled(id, bucket, expected: expected, what: "the bucket") { return settled }
        guard let entries = bucket.value?.cors, !entries.isEmpty else {
            return CheckResult(id: id, status: .drift, expected: expected, actual: "no CORS configuration",
                               message: "no CORS configuration: browser uploads through signed URLs will fail")
        }
        let shortfalls = entries.map { shortfall($0, requirement) }
        if let index = shortfalls.firstIndex(where: \.isEmpty) {
            let entry = entries[index]
            var warnings: [String] = []
            if !entry.responseHeader.contains(where: { $0.caseInsensitiveCompare("ETag") == .orderedSame }) {
                warnings.append("ETag is not in responseHeader. The vendor's policy lists exposeHeaders [ETag], which is not a field "
                    + "of the GCS CORS model: GCS exposes the headers listed in responseHeader, so browsers cannot read ETag "
                    + "(multipart uploads need it). Add ETag to responseHeader.")
            }
            return CheckResult(id: id, status: .compliant, expected: expected, actual: entry.summary,
                               message: "a CORS entry allows browser uploads", warnings: warnings)
        }
        let best = shortfalls.indices.min { shortfalls[$0].count < shortfalls[$1].count }!
        return CheckResult(id: id, status: .drift, expected: expected, actual: entries[best].summary,
                           message: "no CORS entry meets the baseline; closest entry: \(shortfalls[best].joined(separator: "; "))")
    }

    static func shortfall(_ entry: GCSCORSEntry, _ requirement: CORSRequirement) -> [String] {
        var out: [String] = []
        if !entry.origin.contains("*") { out.append("origin * not allowed") }
        let methods = Set(entry.method.map { $0.uppercased() })
        let missing = requirement.methods.filter { !methods.contains($0) }
        if !missing.isEmpty { out.append("method \(missing.joined(separator: ",")) not allowed") }
        let headers = Set(entry.responseHeader.map { $0.lowercased() })
        let missingHeaders = requirement.allowedHeaders.filter { !headers.contains($0.lowercased()) }
        if !missingHeaders.isEmpty { out.append("responseHeader \(missingHeaders.joined(separator: ",")) missing") }
        if entry.maxAgeSeconds != requirement.maxAgeSeconds {
            out.append("maxAgeSeconds \(entry.maxAgeSeconds.map(String.init) ?? "unset"), expected \(requirement.maxAgeSeconds)")
        }
        return out
    }

    static func iam(_ policy: Observation<GCSIAMPolicy>, baseline: GCSBaseline, bucketMissing: Bool) -> CheckResult {
        let id = "iam", member = "serviceAccount:\(baseline.vendorServiceAccount)"
        let expected = "\(member) holds \(baseline.requiredRole)"
        if bucketMissing { return S3Evaluator.settled(id, Observation<Int>.bucketMissing, expected: expected, what: "")! }
        if let settled = S3Evaluator.settled(id, policy, expected: expected, what: "the bucket IAM policy") { return settled }
        let bindings = (policy.value?.bindings ?? []).filter { $0.role == baseline.requiredRole && $0.members.contains(member) }
        if bindings.contains(where: { $0.condition == nil }) {
            return CheckResult(id: id, status: .compliant, expected: expected, actual: "\(baseline.requiredRole) granted",
                               message: "the vendor service account holds \(baseline.requiredRole)")
        }
        if let conditional = bindings.first(where: { $0.condition != nil }) {
            return CheckResult(id: id, status: .drift, expected: expected, actual: "granted only under condition '\(conditional.condition!)'",
                               message: "the vendor service account holds \(baseline.requiredRole) only through a conditional binding, which does not count as an unconditional grant")
        }
        return CheckResult(id: id, status: .drift, expected: expected, actual: "not granted",
                           message: "the vendor service account does not hold \(baseline.requiredRole) on the bucket")
    }

    static func publicAccess(bucket: Observation<GCSBucket>, iam: Observation<GCSIAMPolicy>) -> CheckResult {
        let id = "public-access", expected = "no binding for allUsers or allAuthenticatedUsers"
        if let settled = S3Evaluator.settled(id, bucket, expected: expected, what: "the bucket"), bucket == .bucketMissing { return settled }
        let prevention = bucket.value?.publicAccessPrevention
        let enforced = prevention == "enforced"
        let preventionNote = "public access prevention \(prevention ?? "not reported")"
        if case .value(let policy) = iam {
            let publicBindings = policy.bindings.filter { $0.members.contains("allUsers") || $0.members.contains("allAuthenticatedUsers") }
            if !publicBindings.isEmpty {
                let roles = publicBindings.map(\.role).joined(separator: ", ")
                let note = enforced ? " (public access prevention is enforced, so GCS blocks them for now)" : ""
                return CheckResult(id: id, status: .drift, expected: expected, actual: "public bindings: \(roles)",
                                   message: "the bucket IAM policy grants allUsers/allAuthenticatedUsers \(roles)\(note)")
            }
            return CheckResult(id: id, status: .compliant, expected: expected, actual: "no public binding; \(preventionNote)",
                               message: "no public binding; \(preventionNote)")
        }
        if enforced {
            return CheckResult(id: id, status: .compliant, expected: expected, actual: "public access prevention enforced",
                               message: "public access prevention is enforced (the IAM policy could not be read, but GCS blocks public grants)")
        }
        return S3Evaluator.settled(id, iam, expected: expected, what: "the bucket IAM policy")
            ?? CheckResult(id: id, status: .unknown, expected: expected, message: "the bucket IAM policy was not read")
    }
}
