import Foundation
import Testing

@testable import BucketwatchCore

/// A GCS bucket that meets the `wandb-byob` baseline, and the ways to make it drift.
fileprivate enum GCSFixtures {
    static let saasMember = "serviceAccount:wandb-integration@wandb-production.iam.gserviceaccount.com"
    static let dedicatedMember = "serviceAccount:deploy@wandb-production.iam.gserviceaccount.com"
    static let kmsKey = "projects/p/locations/eu/keyRings/r/cryptoKeys/k"
    static let otherKey = "projects/p/locations/eu/keyRings/r/cryptoKeys/other"

    static func store(
        deployment: Deployment? = .saas, serviceAccount: String? = nil, kmsKey: String? = nil,
        baseline: BaselineSelection = BaselineSelection()
    ) -> StoreConfig {
        var store = StoreConfig(name: "team-g", provider: .gcp, bucket: "bw-gcs", deployment: deployment, kmsKey: kmsKey, baseline: baseline)
        store.serviceAccount = serviceAccount
        return store
    }

    static func baseline(
        deployment: Deployment? = .saas, kmsKey: String? = nil, skip: Set<String> = [], corsMaxAge: Int? = nil, softDeleteDays: Int? = nil
    ) -> GCSBaseline {
        do {
            return try GCSBaseline.resolve(for: store(
                deployment: deployment, kmsKey: kmsKey,
                baseline: BaselineSelection(skip: skip, corsMaxAgeSeconds: corsMaxAge, softDeleteMinimumDays: softDeleteDays)))
        } catch {
            preconditionFailure("fixture baseline does not resolve: \(error)")
        }
    }

    static let corsEntry = GCSCORSEntry(origin: ["*"], method: ["GET", "HEAD", "PUT"], responseHeader: ["Content-Type", "ETag"], maxAgeSeconds: 3600)

    static func bucket(_ change: (inout GCSBucket) -> Void = { _ in }) -> Observation<GCSBucket> {
        var bucket = GCSBucket(versioningEnabled: true, softDeleteRetentionSeconds: 604_800, defaultKMSKeyName: nil, cors: [corsEntry],
                               publicAccessPrevention: "inherited", uniformBucketLevelAccess: true)
        change(&bucket)
        return .value(bucket)
    }

    static let vendorBinding = GCSIAMPolicy.Binding(role: "roles/storage.admin", members: [saasMember])
    static let ownerBinding = GCSIAMPolicy.Binding(role: "roles/storage.legacyBucketOwner", members: ["projectOwner:p"])

    static func iam(_ bindings: GCSIAMPolicy.Binding...) -> Observation<GCSIAMPolicy> {
        .value(GCSIAMPolicy(bindings: bindings))
    }

    static let compliantIAM = iam(ownerBinding, vendorBinding)

    static func evaluate(_ bucket: Observation<GCSBucket> = bucket(), _ iam: Observation<GCSIAMPolicy> = compliantIAM,
                         baseline: GCSBaseline = baseline()) -> [String: CheckResult] {
        let results = GCSEvaluator.evaluate(baseline: baseline, observed: GCSObservations(bucket: bucket, iam: iam))
        return Dictionary(uniqueKeysWithValues: results.map { ($0.id, $0) })
    }

    static func states(_ results: [String: CheckResult]) -> [String: CheckState] {
        results.mapValues(\.status)
    }

    static func all(_ state: CheckState, except overrides: [String: CheckState] = [:]) -> [String: CheckState] {
        var out = Dictionary(uniqueKeysWithValues: GCSBaseline.checkIDs.map { ($0, state) })
        out.merge(overrides) { _, new in new }
        return out
    }

    static func describe(_ results: [String: CheckResult]) -> String {
        results.values.sorted { $0.id < $1.id }.map { "\($0.id): \($0.status.rawValue) — \($0.message)" }.joined(separator: "\n")
    }
}

// MARK: - Baseline resolution

@Suite("GCSBaseline.resolve")
struct GCSBaselineResolveTests {
    @Test("deployment picks the vendor service account", arguments: [
        (Deployment.saas, VendorPrincipals.gcpSaaS),
        (Deployment.dedicated, VendorPrincipals.gcpDedicated),
    ])
    func deployment(deployment: Deployment, account: String) throws {
        let baseline = try GCSBaseline.resolve(for: GCSFixtures.store(deployment: deployment))
        #expect(baseline.vendorServiceAccount == account)
        #expect(baseline.requiredRole == "roles/storage.admin")
    }

    @Test("service_account overrides deployment, and works without one")
    func serviceAccountOverride() throws {
        let custom = "wandb@self-managed.iam.gserviceaccount.com"
        #expect(try GCSBaseline.resolve(for: GCSFixtures.store(deployment: .saas, serviceAccount: custom)).vendorServiceAccount == custom)
        #expect(try GCSBaseline.resolve(for: GCSFixtures.store(deployment: nil, serviceAccount: custom)).vendorServiceAccount == custom)
    }

    @Test("no deployment and no service_account: noServiceAccount, naming the store and the keys")
    func noServiceAccount() {
        #expect(throws: BaselineError.noServiceAccount(store: "team-g")) {
            try GCSBaseline.resolve(for: GCSFixtures.store(deployment: nil))
        }
        let description = BaselineError.noServiceAccount(store: "team-g").description
        #expect(description.contains("team-g") && description.contains("service_account") && description.contains("deployment"))
    }

    @Test("an unknown profile is refused")
    func unknownProfile() {
        #expect(throws: BaselineError.unknownProfile(store: "team-g", profile: "strict")) {
            try GCSBaseline.resolve(for: GCSFixtures.store(baseline: BaselineSelection(profile: "strict")))
        }
    }

    @Test("defaults: 7 days soft delete, Google-managed encryption, CORS on Content-Type with max age 3600")
    func defaults() throws {
        let baseline = try GCSBaseline.resolve(for: GCSFixtures.store())
        #expect(baseline.softDeleteMinimumSeconds == 7 * 86_400)
        #expect(baseline.kmsKey == nil)
        #expect(baseline.cors.allowedHeaders == ["Content-Type"])
        #expect(baseline.cors.methods == ["GET", "HEAD", "PUT"])
        #expect(baseline.cors.maxAgeSeconds == 3600)
        #expect(baseline.skipped.isEmpty)
        #expect(GCSBaseline.checkIDs == ["versioning", "soft-delete", "encryption", "cors", "iam", "public-access"])
    }

    @Test("overrides: soft_delete_min_days, cors_max_age_seconds, kms_key, skip")
    func overrides() throws {
        let baseline = try GCSBaseline.resolve(for: GCSFixtures.store(
            kmsKey: GCSFixtures.kmsKey,
            baseline: BaselineSelection(skip: ["public-access"], corsMaxAgeSeconds: 600, softDeleteMinimumDays: 30)))
        #expect(baseline.softDeleteMinimumSeconds == 30 * 86_400)
        #expect(baseline.cors.maxAgeSeconds == 600)
        #expect(baseline.kmsKey == GCSFixtures.kmsKey)
        #expect(baseline.skipped == ["public-access"])
    }
}

// MARK: - Evaluation

@Suite("GCSEvaluator")
struct GCSEvaluatorTests {
    fileprivate typealias F = GCSFixtures

    @Test("the compliant shape: every check compliant, in the baseline's order")
    func compliant() {
        let list = GCSEvaluator.evaluate(baseline: F.baseline(), observed: GCSObservations(bucket: F.bucket(), iam: F.compliantIAM))
        #expect(list.map(\.id) == GCSBaseline.checkIDs)
        #expect(list.allSatisfy { $0.status == .compliant }, "\(list)")
        #expect(list.allSatisfy { $0.warnings.isEmpty })
        #expect(list.allSatisfy { $0.expected != nil && $0.actual != nil })
    }

    /// One deviation from the compliant shape per row: exactly that check changes.
    static let table: [(name: String, bucket: Observation<GCSBucket>, iam: Observation<GCSIAMPolicy>, check: String, state: CheckState, actual: String?)] = [
        ("versioning off", F.bucket { $0.versioningEnabled = false }, F.compliantIAM, "versioning", .drift, "disabled"),
        ("versioning never set", F.bucket { $0.versioningEnabled = nil }, F.compliantIAM, "versioning", .drift, "disabled"),
        ("soft delete 0", F.bucket { $0.softDeleteRetentionSeconds = 0 }, F.compliantIAM, "soft-delete", .drift, "disabled (0)"),
        ("no soft delete policy", F.bucket { $0.softDeleteRetentionSeconds = nil }, F.compliantIAM, "soft-delete", .drift, "no soft delete policy"),
        ("soft delete 2 days", F.bucket { $0.softDeleteRetentionSeconds = 2 * 86_400 }, F.compliantIAM, "soft-delete", .drift, "2 days"),
        ("soft delete 6 days 23 h", F.bucket { $0.softDeleteRetentionSeconds = 7 * 86_400 - 3600 }, F.compliantIAM, "soft-delete", .drift, "601200 s"),
        ("soft delete 90 days", F.bucket { $0.softDeleteRetentionSeconds = 90 * 86_400 }, F.compliantIAM, "soft-delete", .compliant, "90 days"),
        ("a default KMS key", F.bucket { $0.defaultKMSKeyName = F.kmsKey }, F.compliantIAM, "encryption", .drift, "default KMS key \(F.kmsKey)"),
        ("no CORS", F.bucket { $0.cors = nil }, F.compliantIAM, "cors", .drift, "no CORS configuration"),
        ("empty CORS list", F.bucket { $0.cors = [] }, F.compliantIAM, "cors", .drift, "no CORS configuration"),
        ("CORS without PUT", F.bucket { $0.cors = [GCSCORSEntry(origin: ["*"], method: ["GET", "HEAD"], responseHeader: ["Content-Type", "ETag"], maxAgeSeconds: 3600)] },
         F.compliantIAM, "cors", .drift, nil),
        ("CORS for one origin", F.bucket { $0.cors = [GCSCORSEntry(origin: ["https://wandb.ai"], method: ["GET", "HEAD", "PUT"], responseHeader: ["Content-Type"], maxAgeSeconds: 3600)] },
         F.compliantIAM, "cors", .drift, nil),
        ("CORS without Content-Type", F.bucket { $0.cors = [GCSCORSEntry(origin: ["*"], method: ["GET", "HEAD", "PUT"], responseHeader: ["ETag"], maxAgeSeconds: 3600)] },
         F.compliantIAM, "cors", .drift, nil),
        ("CORS max age 600", F.bucket { $0.cors = [GCSCORSEntry(origin: ["*"], method: ["GET", "HEAD", "PUT"], responseHeader: ["Content-Type", "ETag"], maxAgeSeconds: 600)] },
         F.compliantIAM, "cors", .drift, nil),
        ("CORS max age unset", F.bucket { $0.cors = [GCSCORSEntry(origin: ["*"], method: ["GET", "HEAD", "PUT"], responseHeader: ["Content-Type", "ETag"])] },
         F.compliantIAM, "cors", .drift, nil),
        ("CORS lower-case methods and headers", F.bucket { $0.cors = [GCSCORSEntry(origin: ["*"], method: ["get", "head", "put"], responseHeader: ["content-type", "etag"], maxAgeSeconds: 3600)] },
         F.compliantIAM, "cors", .compliant, nil),
        ("a second, compliant CORS entry", F.bucket { $0.cors = [GCSCORSEntry(origin: ["https://a"], method: ["GET"]), F.corsEntry] },
         F.compliantIAM, "cors", .compliant, nil),
        ("no vendor binding", F.bucket(), F.iam(F.ownerBinding), "iam", .drift, "not granted"),
        ("vendor holds another role", F.bucket(), F.iam(F.ownerBinding, .init(role: "roles/storage.objectAdmin", members: [F.saasMember])), "iam", .drift, "not granted"),
        ("dedicated account bound instead of SaaS", F.bucket(), F.iam(.init(role: "roles/storage.admin", members: [F.dedicatedMember])), "iam", .drift, "not granted"),
        ("empty IAM policy", F.bucket(), F.iam(), "iam", .drift, "not granted"),
    ]

    @Test("one deviation, one changed check", arguments: table.indices)
    func deviation(index: Int) {
        let row = Self.table[index]
        let results = F.evaluate(row.bucket, row.iam)
        #expect(F.states(results) == F.all(.compliant, except: [row.check: row.state]), "\(row.name)\n\(F.describe(results))")
        let result = results[row.check]
        if let actual = row.actual { #expect(result?.actual == actual, "\(row.name)") }
        if row.state == .drift {
            #expect(result?.expected != nil && result?.actual != nil, "\(row.name): drift names expected and actual")
            #expect(result?.message.isEmpty == false)
        }
    }

    @Test("CORS drift says what the closest entry lacks")
    func corsShortfall() {
        let noPut = F.evaluate(F.bucket { $0.cors = [GCSCORSEntry(origin: ["*"], method: ["GET", "HEAD"], responseHeader: ["Content-Type"], maxAgeSeconds: 3600)] })
        #expect(noPut["cors"]?.message.contains("method PUT not allowed") == true, "\(noPut["cors"]!.message)")
        let several = F.evaluate(F.bucket {
            $0.cors = [GCSCORSEntry(origin: ["https://a"], method: ["GET"]),
                       GCSCORSEntry(origin: ["*"], method: ["GET", "HEAD", "PUT"], responseHeader: ["Content-Type"], maxAgeSeconds: 60)]
        })
        let message = several["cors"]?.message ?? ""
        #expect(message.contains("maxAgeSeconds 60, expected 3600"), "\(message)")
        #expect(!message.contains("origin * not allowed"), "the closest entry is the second one: \(message)")
        #expect(several["cors"]?.actual?.contains("maxAgeSeconds 60") == true)
    }

    @Test("CORS without ETag in responseHeader: compliant, with a warning that says why")
    func corsETagWarning() throws {
        let results = F.evaluate(F.bucket {
            $0.cors = [GCSCORSEntry(origin: ["*"], method: ["GET", "HEAD", "PUT"], responseHeader: ["Content-Type"], maxAgeSeconds: 3600)]
        })
        let cors = try #require(results["cors"])
        #expect(cors.status == .compliant)
        #expect(cors.warnings.count == 1)
        let warning = try #require(cors.warnings.first)
        #expect(warning.contains("ETag") && warning.contains("responseHeader") && warning.contains("exposeHeaders"), "\(warning)")
        #expect(F.states(results) == F.all(.compliant))

        // The JSON output carries the warning on the cors check only.
        let report = CheckReport(stores: [StoreReport(name: "g", provider: .gcp, bucket: "bw-gcs",
                                                      checks: GCSBaseline.checkIDs.compactMap { results[$0] })])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        let store = try #require((object["stores"] as? [[String: Any]])?.first)
        #expect(store["provider"] as? String == "gcp")
        #expect(store["status"] as? String == "compliant")
        let checks = try #require(store["checks"] as? [[String: Any]])
        let corsJSON = try #require(checks.first { $0["id"] as? String == "cors" })
        #expect(corsJSON["status"] as? String == "compliant")
        #expect(corsJSON["warnings"] as? [String] == [warning])
        for check in checks where check["id"] as? String != "cors" {
            #expect(check["warnings"] == nil, "\(check)")
        }
        #expect(report.exitCode == 0)
        #expect(report.text().contains("warning:  ETag"))
    }

    @Test("a compliant entry with ETag carries no warning, whatever the case")
    func corsETagCaseInsensitive() {
        let results = F.evaluate(F.bucket {
            $0.cors = [GCSCORSEntry(origin: ["*"], method: ["GET", "HEAD", "PUT"], responseHeader: ["Content-Type", "etag"], maxAgeSeconds: 3600)]
        })
        #expect(results["cors"]?.status == .compliant)
        #expect(results["cors"]?.warnings == [])
    }

    @Test("cors_max_age_seconds changes what max age is compliant")
    func corsMaxAgeOverride() {
        let entry = GCSCORSEntry(origin: ["*"], method: ["GET", "HEAD", "PUT"], responseHeader: ["Content-Type", "ETag"], maxAgeSeconds: 600)
        #expect(F.evaluate(F.bucket { $0.cors = [entry] }, baseline: F.baseline(corsMaxAge: 600))["cors"]?.status == .compliant)
        #expect(F.evaluate(F.bucket(), baseline: F.baseline(corsMaxAge: 600))["cors"]?.status == .drift)
    }

    @Test("soft_delete_min_days: the minimum follows the store's override")
    func softDeleteMinimum() {
        let sevenDays = F.bucket()
        let thirty = F.evaluate(sevenDays, baseline: F.baseline(softDeleteDays: 30))["soft-delete"]
        #expect(thirty?.status == .drift)
        #expect(thirty?.expected == "retention of at least 30 days")
        #expect(thirty?.message.contains("less than the baseline's 30 days") == true)
        let one = F.evaluate(F.bucket { $0.softDeleteRetentionSeconds = 2 * 86_400 }, baseline: F.baseline(softDeleteDays: 1))["soft-delete"]
        #expect(one?.status == .compliant)
        // A minimum of 0 days still wants soft delete on.
        let zero = F.evaluate(F.bucket { $0.softDeleteRetentionSeconds = 0 }, baseline: F.baseline(softDeleteDays: 0))["soft-delete"]
        #expect(zero?.status == .drift)
        #expect(F.evaluate(F.bucket { $0.softDeleteRetentionSeconds = 1 }, baseline: F.baseline(softDeleteDays: 0))["soft-delete"]?.status == .compliant)
    }

    @Test("kms_key: the configured key must be the default", arguments: [
        (String?.none, CheckState.drift, "Google-managed"),
        (String?.some(GCSFixtures.kmsKey), CheckState.compliant, "default KMS key \(GCSFixtures.kmsKey)"),
        (String?.some(GCSFixtures.otherKey), CheckState.drift, "default KMS key \(GCSFixtures.otherKey)"),
    ])
    func configuredKey(bucketKey: String?, state: CheckState, actual: String) {
        let result = F.evaluate(F.bucket { $0.defaultKMSKeyName = bucketKey }, baseline: F.baseline(kmsKey: F.kmsKey))["encryption"]
        #expect(result?.status == state)
        #expect(result?.actual == actual)
        #expect(result?.expected == "default KMS key \(F.kmsKey)")
    }

    @Test("a conditional vendor binding is drift and names the condition")
    func conditionalBinding() throws {
        let conditional = GCSIAMPolicy.Binding(role: "roles/storage.admin", members: [F.saasMember], condition: "expires-2030")
        let results = F.evaluate(F.bucket(), F.iam(F.ownerBinding, conditional))
        let iam = try #require(results["iam"])
        #expect(iam.status == .drift)
        #expect(iam.actual?.contains("condition") == true && iam.actual?.contains("expires-2030") == true, "\(iam.actual ?? "")")
        #expect(iam.message.contains("conditional"), "\(iam.message)")
        // An unconditional grant next to it is enough.
        let both = F.evaluate(F.bucket(), F.iam(conditional, F.vendorBinding))
        #expect(both["iam"]?.status == .compliant)
    }

    @Test("the dedicated deployment wants deploy@wandb-production")
    func dedicatedAccount() {
        let dedicated = F.baseline(deployment: .dedicated)
        let granted = F.iam(.init(role: "roles/storage.admin", members: ["user:a@b.c", F.dedicatedMember]))
        #expect(F.evaluate(F.bucket(), granted, baseline: dedicated)["iam"]?.status == .compliant)
        #expect(F.evaluate(F.bucket(), F.compliantIAM, baseline: dedicated)["iam"]?.status == .drift)
        #expect(F.evaluate(F.bucket(), F.compliantIAM, baseline: dedicated)["iam"]?.expected?.contains("deploy@wandb-production") == true)
    }

    // MARK: public access

    @Test("a public binding is drift", arguments: ["allUsers", "allAuthenticatedUsers"])
    func publicBinding(member: String) throws {
        let results = F.evaluate(F.bucket(), F.iam(F.vendorBinding, .init(role: "roles/storage.objectViewer", members: [member])))
        #expect(F.states(results) == F.all(.compliant, except: ["public-access": .drift]))
        let result = try #require(results["public-access"])
        #expect(result.actual == "public bindings: roles/storage.objectViewer")
        #expect(result.message.contains("allUsers/allAuthenticatedUsers"))
    }

    @Test("public access prevention enforced does not excuse a public binding, but is mentioned")
    func publicBindingWithPAP() {
        let results = F.evaluate(F.bucket { $0.publicAccessPrevention = "enforced" },
                                 F.iam(F.vendorBinding, .init(role: "roles/storage.objectViewer", members: ["allUsers"])))
        #expect(results["public-access"]?.status == .drift)
        #expect(results["public-access"]?.message.contains("public access prevention is enforced") == true)
    }

    @Test("no public binding: compliant, and the prevention setting is reported", arguments: [
        (String?.some("enforced"), "public access prevention enforced"),
        (String?.some("inherited"), "public access prevention inherited"),
        (String?.none, "public access prevention not reported"),
    ])
    func noPublicBinding(prevention: String?, note: String) {
        let result = F.evaluate(F.bucket { $0.publicAccessPrevention = prevention })["public-access"]
        #expect(result?.status == .compliant)
        #expect(result?.actual?.contains(note) == true, "\(result?.actual ?? "")")
    }

    @Test("IAM unreadable: public access is compliant only when prevention is enforced")
    func papVouchesWhenIAMUnreadable() {
        let forbidden = Observation<GCSIAMPolicy>.unreadable("HTTP 403 forbidden: no storage.buckets.getIamPolicy")
        let enforced = F.evaluate(F.bucket { $0.publicAccessPrevention = "enforced" }, forbidden)
        #expect(enforced["public-access"]?.status == .compliant)
        #expect(enforced["public-access"]?.actual == "public access prevention enforced")
        #expect(enforced["iam"]?.status == .unknown)
        for prevention in ["inherited", "unspecified", nil] as [String?] {
            let results = F.evaluate(F.bucket { $0.publicAccessPrevention = prevention }, forbidden)
            #expect(results["public-access"]?.status == .unknown, "\(prevention ?? "nil")")
            #expect(results["public-access"]?.message.contains("getIamPolicy") == true)
            #expect(results["public-access"]?.actual == nil)
        }
    }

    // MARK: non-value observations

    @Test("IAM 403 leaves the other checks intact")
    func iamForbidden() throws {
        let reason = "HTTP 403 forbidden: x does not have storage.buckets.getIamPolicy access"
        let results = F.evaluate(F.bucket(), .unreadable(reason))
        #expect(F.states(results) == F.all(.compliant, except: ["iam": .unknown, "public-access": .unknown]), "\(F.describe(results))")
        let iam = try #require(results["iam"])
        #expect(iam.message == "could not read the bucket IAM policy: \(reason)")
        #expect(iam.actual == nil)
    }

    @Test("bucket unreadable: its four checks are unknown with the reason; IAM still evaluated")
    func bucketUnreadable() throws {
        let reason = "timed out (127.0.0.1)"
        let results = F.evaluate(.unreadable(reason), F.compliantIAM)
        #expect(F.states(results) == F.all(.unknown, except: ["iam": .compliant, "public-access": .compliant]), "\(F.describe(results))")
        for id in ["versioning", "soft-delete", "encryption", "cors"] {
            let result = try #require(results[id])
            #expect(result.message == "could not read the bucket: \(reason)", "\(id)")
            #expect(result.actual == nil, "\(id)")
        }
        // Without the bucket, prevention is unknown: a public binding is still drift.
        let publicIAM = F.evaluate(.unreadable(reason), F.iam(F.vendorBinding, .init(role: "roles/storage.objectViewer", members: ["allUsers"])))
        #expect(publicIAM["public-access"]?.status == .drift)
    }

    @Test("both unreadable: every check unknown, never drift or compliant")
    func bothUnreadable() {
        let results = F.evaluate(.unreadable("no Google access token: token endpoint: HTTP 400 invalid_grant"), .unreadable("no Google access token"))
        #expect(F.states(results) == F.all(.unknown), "\(F.describe(results))")
        #expect(results.values.allSatisfy { $0.actual == nil })
        #expect(results["versioning"]?.message.contains("invalid_grant") == true)
    }

    @Test("a missing bucket drifts every check: 'bucket does not exist'")
    func bucketMissing() {
        for iam in [Observation<GCSIAMPolicy>.bucketMissing, .unreadable("x"), F.compliantIAM] {
            let results = F.evaluate(.bucketMissing, iam)
            #expect(F.states(results) == F.all(.drift), "\(iam)\n\(F.describe(results))")
            #expect(results.values.allSatisfy { $0.actual == "bucket does not exist" }, "\(F.describe(results))")
            #expect(results.values.allSatisfy { $0.message == "the bucket does not exist" })
        }
    }

    @Test("notImplemented and notConfigured observations never become compliant by accident")
    func otherObservations() {
        let notImplemented = F.evaluate(.notImplemented("501 NotImplemented"), .notImplemented("501"))
        #expect(F.states(notImplemented) == F.all(.notApplicable, except: ["public-access": .notApplicable]), "\(F.describe(notImplemented))")
        // notConfigured carries no value: a bucket without a resource has nothing turned on.
        let notConfigured = F.evaluate(.notConfigured("none"), F.compliantIAM)
        #expect(notConfigured["versioning"]?.status == .drift)
        #expect(notConfigured["soft-delete"]?.status == .drift)
        #expect(notConfigured["cors"]?.status == .drift)
    }

    @Test("skip: skipped checks are not_applicable with the reason, the others unchanged")
    func skip() {
        let results = F.evaluate(F.bucket { $0.versioningEnabled = false }, F.iam(), baseline: F.baseline(skip: ["iam", "versioning"]))
        #expect(F.states(results) == F.all(.compliant, except: ["iam": .notApplicable, "versioning": .notApplicable]), "\(F.describe(results))")
        #expect(results["iam"]?.message.contains("skip") == true)
    }

    @Test("the store's state is the worst check: drift > unknown > compliant")
    func storeState() {
        let checks = GCSEvaluator.evaluate(baseline: F.baseline(), observed: GCSObservations(
            bucket: F.bucket { $0.versioningEnabled = false }, iam: .unreadable("HTTP 403")))
        let report = StoreReport(name: "g", provider: .gcp, bucket: "b", checks: checks)
        #expect(report.status == .drift)
        #expect(CheckReport(stores: [report]).exitCode == 1)
        let unknownOnly = StoreReport(name: "g", provider: .gcp, bucket: "b", checks: GCSEvaluator.evaluate(
            baseline: F.baseline(), observed: GCSObservations(bucket: F.bucket(), iam: .unreadable("HTTP 403"))))
        #expect(unknownOnly.status == .unknown)
        #expect(CheckReport(stores: [unknownOnly]).exitCode == 2)
    }
}
