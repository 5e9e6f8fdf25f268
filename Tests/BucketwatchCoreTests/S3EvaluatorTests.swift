import Foundation
import Testing

@testable import BucketwatchCore

/// A bucket that meets the baseline, and the ways to make it drift.
private enum S3Fixtures {
    static let bucket = "bw-bucket"
    static let bucketARN = "arn:aws:s3:::bw-bucket"
    static let keyID = "1234abcd-12ab-34cd-56ef-1234567890ab"
    static let keyARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    static let keyAccount = "111122223333"

    static func store(
        provider: Provider = .aws, deployment: Deployment? = .saas, principal: String? = nil, kmsKey: String? = nil,
        baseline: BaselineSelection = BaselineSelection()
    ) -> StoreConfig {
        StoreConfig(name: "team-a", provider: provider, bucket: bucket, deployment: deployment, principal: principal,
                    kmsKey: kmsKey, baseline: baseline)
    }

    static func baseline(
        provider: Provider = .aws, kmsKey: String? = nil, allowSSES3: Bool? = nil, skip: Set<String> = [], corsMaxAge: Int? = nil
    ) -> S3Baseline {
        do {
            return try S3Baseline.resolve(for: store(
                provider: provider, kmsKey: kmsKey,
                baseline: BaselineSelection(skip: skip, corsMaxAgeSeconds: corsMaxAge, allowSSES3: allowSSES3)))
        } catch {
            preconditionFailure("fixture baseline does not resolve: \(error)")
        }
    }

    static let bucketActions = #"["s3:GetEncryptionConfiguration","s3:ListBucket","s3:ListBucketMultipartUploads","s3:ListBucketVersions","s3:GetBucketCORS","s3:GetBucketLocation","s3:GetBucketVersioning"]"#
    static let objectActions = #"["s3:GetObject*","s3:AbortMultipartUpload","s3:DeleteObject","s3:PutObject"]"#
    static let allActions = #"["s3:GetObject*","s3:GetEncryptionConfiguration","s3:ListBucket","s3:ListBucketMultipartUploads","s3:ListBucketVersions","s3:AbortMultipartUpload","s3:DeleteObject","s3:PutObject","s3:GetBucketCORS","s3:GetBucketLocation","s3:GetBucketVersioning"]"#
    static let vendorPrincipal = #"{"AWS":"arn:aws:iam::725579432336:role/WandbIntegration"}"#

    /// The vendor document's statement: all 11 actions on the bucket and its objects.
    static let vendorStatement =
        #"{"Sid":"WandbAccess","Effect":"Allow","Principal":\#(vendorPrincipal),"Action":\#(allActions),"#
        + #""Resource":["arn:aws:s3:::bw-bucket","arn:aws:s3:::bw-bucket/*"]}"#

    static func policy(_ statements: String...) -> Observation<PolicyDocument> {
        .value(PolicyFixtures.document(PolicyFixtures.json(statements.joined(separator: ","))))
    }

    static let compliantCORS = CORSRule(
        allowedOrigins: ["*"], allowedMethods: ["GET", "HEAD", "PUT"], allowedHeaders: ["*"], exposeHeaders: ["ETag"], maxAgeSeconds: 3600)

    static let blockOn = PublicAccessBlock(blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true)

    static let rootStatement =
        #"{"Sid":"EnableRootPermissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}"#
    static let vendorKeyStatement =
        #"{"Sid":"AllowWandb","Effect":"Allow","Principal":\#(vendorPrincipal),"#
        + #""Action":["kms:Decrypt","kms:Describe*","kms:Encrypt","kms:ReEncrypt*","kms:GenerateDataKey*"],"Resource":"*"}"#

    static func key(
        enabled: Bool = true, keyState: String = "Enabled", keyUsage: String = "ENCRYPT_DECRYPT", keyManager: String? = "CUSTOMER",
        policy: Observation<PolicyDocument>? = nil
    ) -> KMSKeyState {
        KMSKeyState(arn: keyARN, accountID: keyAccount, enabled: enabled, keyState: keyState, keyUsage: keyUsage, keyManager: keyManager,
                    policy: policy ?? Self.policy(rootStatement, vendorKeyStatement))
    }

    /// Every check compliant under the default saas baseline.
    static func compliant() -> S3Observations {
        S3Observations(
            versioning: .value("Enabled"),
            cors: .value([compliantCORS]),
            encryption: .value([EncryptionRule(algorithm: "aws:kms", kmsKeyID: keyARN)]),
            policy: policy(vendorStatement),
            publicAccessBlock: .value(blockOn),
            kmsKey: .value(key()))
    }

    static func evaluate(_ observed: S3Observations, baseline: S3Baseline = S3Fixtures.baseline()) -> [CheckResult] {
        S3Evaluator.evaluate(bucket: bucket, baseline: baseline, observed: observed)
    }

    /// The one result with this ID; fails the test if there is not exactly one.
    static func result(_ id: String, _ observed: S3Observations, baseline: S3Baseline = S3Fixtures.baseline()) -> CheckResult? {
        let matching = evaluate(observed, baseline: baseline).filter { $0.id == id }
        #expect(matching.count == 1, "expected exactly one result \(id)")
        return matching.first
    }
}

// MARK: - S3Baseline.resolve

@Suite struct S3BaselineResolveTests {
    @Test func saasDeployment() throws {
        let baseline = try S3Baseline.resolve(for: S3Fixtures.store(deployment: .saas))
        #expect(baseline.vendorPrincipal == "arn:aws:iam::725579432336:role/WandbIntegration")
        #expect(baseline.kmsKey == nil)
        #expect(baseline.allowSSES3 == false)
        #expect(baseline.cors == CORSRequirement())
        #expect(baseline.cors.maxAgeSeconds == 3600)
        #expect(baseline.hasKMS)
        #expect(baseline.skipped.isEmpty)
    }

    @Test func dedicatedDeployment() throws {
        #expect(try S3Baseline.resolve(for: S3Fixtures.store(deployment: .dedicated)).vendorPrincipal == "arn:aws:iam::830241207209:root")
    }

    @Test func principalOverridesDeployment() throws {
        let own = "arn:aws:iam::444455556666:role/wandb-instance"
        #expect(try S3Baseline.resolve(for: S3Fixtures.store(deployment: .saas, principal: own)).vendorPrincipal == own)
        #expect(try S3Baseline.resolve(for: S3Fixtures.store(deployment: nil, principal: own)).vendorPrincipal == own)
    }

    @Test func noDeploymentAndNoPrincipalThrows() {
        #expect(throws: BaselineError.noPrincipal(store: "team-a")) {
            try S3Baseline.resolve(for: S3Fixtures.store(deployment: nil))
        }
        #expect(BaselineError.noPrincipal(store: "team-a").description
            == "store 'team-a': no vendor principal: set 'deployment' (saas or dedicated) or 'principal'")
    }

    @Test func unknownProfileThrows() {
        #expect(throws: BaselineError.unknownProfile(store: "team-a", profile: "wandb-byob-v2")) {
            try S3Baseline.resolve(for: S3Fixtures.store(baseline: BaselineSelection(profile: "wandb-byob-v2")))
        }
        #expect(BaselineError.unknownProfile(store: "team-a", profile: "x").description.contains("the built-in profile is 'wandb-byob'"))
    }

    /// The 11 actions of docs/byob-baseline.md, split by the ARN they apply to.
    @Test func vendorActionsMatchTheBaselineDocument() throws {
        let baseline = try S3Baseline.resolve(for: S3Fixtures.store())
        #expect(Set(baseline.bucketActions) == [
            "s3:GetEncryptionConfiguration", "s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:ListBucketVersions",
            "s3:GetBucketCORS", "s3:GetBucketLocation", "s3:GetBucketVersioning",
        ])
        #expect(Set(baseline.objectActions) == ["s3:GetObject*", "s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject"])
        #expect(baseline.bucketActions.count + baseline.objectActions.count == 11)
        #expect(baseline.kmsActions == ["kms:Decrypt", "kms:Describe*", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"])
    }

    @Test func overridesAreCarried() throws {
        let baseline = try S3Baseline.resolve(for: S3Fixtures.store(
            kmsKey: S3Fixtures.keyARN,
            baseline: BaselineSelection(skip: ["cors", "kms-key"], corsMaxAgeSeconds: 600, allowSSES3: true)))
        #expect(baseline.kmsKey == S3Fixtures.keyARN)
        #expect(baseline.allowSSES3)
        #expect(baseline.cors.maxAgeSeconds == 600)
        #expect(baseline.skipped == ["cors", "kms-key"])
    }

    @Test(arguments: [(Provider.aws, true), (Provider.s3, false)])
    func kmsOnlyForAWS(_ provider: Provider, _ hasKMS: Bool) throws {
        #expect(try S3Baseline.resolve(for: S3Fixtures.store(provider: provider)).hasKMS == hasKMS)
    }
}

// MARK: - S3Evaluator: the whole bucket

@Suite struct S3EvaluatorTests {
    @Test func compliantBucket() {
        let results = S3Fixtures.evaluate(S3Fixtures.compliant())
        #expect(results.map(\.id) == S3Baseline.checkIDs)
        for result in results {
            #expect(result.status == .compliant, "\(result.id): \(result.message)")
            #expect(result.expected != nil, "\(result.id) names what it expects")
            #expect(result.actual != nil, "\(result.id) names what it read")
            #expect(result.warnings.isEmpty, "\(result.id): \(result.warnings)")
        }
    }

    @Test func bucketMissingMakesEveryCheckDrift() {
        let observed = S3Observations(
            versioning: .bucketMissing, cors: .bucketMissing, encryption: .bucketMissing, policy: .bucketMissing,
            publicAccessBlock: .bucketMissing, kmsKey: nil)
        let results = S3Fixtures.evaluate(observed)
        #expect(results.map(\.id) == S3Baseline.checkIDs)
        for result in results {
            #expect(result.status == .drift, "\(result.id)")
            #expect(result.actual == "bucket does not exist", "\(result.id)")
            #expect(result.message.contains("does not exist"), "\(result.id)")
        }
    }

    @Test func skippedChecksAreNotApplicable() {
        var observed = S3Fixtures.compliant()
        observed.versioning = .value("Suspended")
        observed.cors = .unreadable("AccessDenied")
        let results = S3Fixtures.evaluate(observed, baseline: S3Fixtures.baseline(skip: ["versioning", "cors"]))
        for id in ["versioning", "cors"] {
            let result = results.first { $0.id == id }
            #expect(result?.status == .notApplicable)
            #expect(result?.message == "skipped: this store's baseline lists '\(id)' under skip")
            #expect(result?.actual == nil)
        }
        #expect(results.filter { !["versioning", "cors"].contains($0.id) }.allSatisfy { $0.status == .compliant })
    }

    // MARK: Observations without a value, per check

    enum NonValue {
        case notConfigured(String), bucketMissing, notImplemented(String), unreadable(String)

        func observation<T>() -> Observation<T> {
            switch self {
            case .notConfigured(let s): .notConfigured(s)
            case .bucketMissing: .bucketMissing
            case .notImplemented(let s): .notImplemented(s)
            case .unreadable(let s): .unreadable(s)
            }
        }
    }

    /// A compliant bucket, except that the observation check `id` reads carries no value.
    static func observations(_ id: String, _ what: NonValue) -> S3Observations {
        var observed = S3Fixtures.compliant()
        switch id {
        case "versioning": observed.versioning = what.observation()
        case "encryption": observed.encryption = what.observation()
        case "kms-key": observed.kmsKey = what.observation()
        case "cors": observed.cors = what.observation()
        case "bucket-policy": observed.policy = what.observation()
        case "public-access": observed.publicAccessBlock = what.observation()
        default: preconditionFailure("no observation for check \(id)")
        }
        return observed
    }

    @Test(arguments: S3Baseline.checkIDs)
    func unreadableIsUnknownWithTheReason(_ id: String) {
        let reason = "AccessDenied: the reader lacks permission (403)"
        let result = S3Fixtures.result(id, Self.observations(id, .unreadable(reason)))
        #expect(result?.status == .unknown)
        #expect(result?.message.contains(reason) == true, "\(result?.message ?? "")")
        #expect(result?.actual == nil)
        #expect(result?.expected != nil)
    }

    @Test(arguments: S3Baseline.checkIDs)
    func bucketMissingIsDrift(_ id: String) {
        let result = S3Fixtures.result(id, Self.observations(id, .bucketMissing))
        #expect(result?.status == .drift)
        #expect(result?.actual == "bucket does not exist")
    }

    @Test(arguments: S3Baseline.checkIDs)
    func notImplementedIsNotApplicableInTheStoresWords(_ id: String) {
        let words = "NotImplemented: A header you provided implies functionality that is not implemented"
        let result = S3Fixtures.result(id, Self.observations(id, .notImplemented(words)))
        #expect(result?.status == .notApplicable)
        #expect(result?.message.contains(words) == true, "\(result?.message ?? "")")
    }

    @Test(arguments: [
        ("versioning", "never enabled"),
        ("encryption", "none"),
        ("kms-key", "key does not exist"),
        ("cors", "no CORS configuration"),
        ("bucket-policy", "no bucket policy"),
        ("public-access", "no public access block"),
    ])
    func notConfiguredIsDrift(_ id: String, _ actual: String) {
        let result = S3Fixtures.result(id, Self.observations(id, .notConfigured("NoSuchThing")))
        #expect(result?.status == .drift)
        #expect(result?.actual == actual)
    }

    /// A missing policy is read (not configured): no public grant, so public-access follows the block.
    @Test func policyNotConfiguredAffectsOnlyBucketPolicy() {
        var observed = S3Fixtures.compliant()
        observed.policy = .notConfigured("NoSuchBucketPolicy")
        let results = S3Fixtures.evaluate(observed)
        #expect(results.first { $0.id == "bucket-policy" }?.status == .drift)
        #expect(results.first { $0.id == "public-access" }?.status == .compliant)
        #expect(results.filter { $0.status == .drift }.map(\.id) == ["bucket-policy"])
    }
}

// MARK: - versioning

@Suite struct VersioningCheckTests {
    @Test(arguments: [
        ("Enabled" as String?, CheckState.compliant, "Enabled"),
        ("Suspended", .drift, "Suspended"),
        (nil, .drift, "never enabled"),
    ])
    func status(_ status: String?, _ state: CheckState, _ actual: String) {
        var observed = S3Fixtures.compliant()
        observed.versioning = .value(status)
        let result = S3Fixtures.result("versioning", observed)
        #expect(result?.status == state)
        #expect(result?.actual == actual)
        #expect(result?.expected == "Enabled")
    }
}

// MARK: - encryption

@Suite struct EncryptionCheckTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var rules: [EncryptionRule]
        var kmsKey: String? = nil
        var allowSSES3: Bool? = nil
        var state: CheckState
        var actual: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "aws:kms with any key, no kms_key configured", rules: [EncryptionRule(algorithm: "aws:kms", kmsKeyID: "arn:aws:kms:eu-west-1:999988887777:key/other")],
             state: .compliant, actual: "aws:kms with arn:aws:kms:eu-west-1:999988887777:key/other"),
        Case(name: "aws:kms without key ID, no kms_key configured", rules: [EncryptionRule(algorithm: "aws:kms")],
             state: .compliant, actual: "aws:kms"),
        Case(name: "aws:kms:dsse accepted", rules: [EncryptionRule(algorithm: "aws:kms:dsse", kmsKeyID: S3Fixtures.keyARN)],
             state: .compliant, actual: "aws:kms:dsse with \(S3Fixtures.keyARN)"),
        Case(name: "AES256 is drift", rules: [EncryptionRule(algorithm: "AES256")], state: .drift, actual: "AES256"),
        Case(name: "AES256 with allow_sse_s3", rules: [EncryptionRule(algorithm: "AES256")], allowSSES3: true, state: .compliant, actual: "AES256"),
        Case(name: "AES256 with allow_sse_s3 false", rules: [EncryptionRule(algorithm: "AES256")], allowSSES3: false, state: .drift, actual: "AES256"),
        Case(name: "AES256 with allow_sse_s3 but a kms_key configured", rules: [EncryptionRule(algorithm: "AES256")], kmsKey: S3Fixtures.keyARN,
             allowSSES3: true, state: .drift, actual: "AES256"),
        Case(name: "configured key ARN, bucket names the key ID", rules: [EncryptionRule(algorithm: "aws:kms", kmsKeyID: S3Fixtures.keyID)],
             kmsKey: S3Fixtures.keyARN, state: .compliant, actual: "aws:kms with \(S3Fixtures.keyID)"),
        Case(name: "configured key ID, bucket names the key ARN", rules: [EncryptionRule(algorithm: "aws:kms", kmsKeyID: S3Fixtures.keyARN)],
             kmsKey: S3Fixtures.keyID, state: .compliant, actual: "aws:kms with \(S3Fixtures.keyARN)"),
        Case(name: "configured key, another key used",
             rules: [EncryptionRule(algorithm: "aws:kms", kmsKeyID: "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000")],
             kmsKey: S3Fixtures.keyARN, state: .drift,
             actual: "aws:kms with arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000"),
        Case(name: "configured key, bucket uses aws/s3", rules: [EncryptionRule(algorithm: "aws:kms")], kmsKey: S3Fixtures.keyARN,
             state: .drift, actual: "aws:kms with the AWS-managed key aws/s3"),
        Case(name: "no rules", rules: [], state: .drift, actual: "none"),
        Case(name: "unknown algorithm", rules: [EncryptionRule(algorithm: "aws:fancy")], state: .drift, actual: "aws:fancy"),
    ]

    @Test(arguments: cases)
    func rule(_ c: Case) {
        var observed = S3Fixtures.compliant()
        observed.encryption = .value(c.rules)
        let result = S3Fixtures.result("encryption", observed, baseline: S3Fixtures.baseline(kmsKey: c.kmsKey, allowSSES3: c.allowSSES3))
        #expect(result?.status == c.state)
        #expect(result?.actual == c.actual)
    }

    @Test func expectationNamesTheBaseline() {
        var observed = S3Fixtures.compliant()
        observed.encryption = .value([EncryptionRule(algorithm: "AES256")])
        #expect(S3Fixtures.result("encryption", observed)?.expected == "aws:kms")
        #expect(S3Fixtures.result("encryption", observed, baseline: S3Fixtures.baseline(allowSSES3: true))?.expected == "aws:kms or AES256")
        #expect(S3Fixtures.result("encryption", observed, baseline: S3Fixtures.baseline(kmsKey: S3Fixtures.keyID))?.expected
            == "aws:kms with \(S3Fixtures.keyID)")
    }

    @Test(arguments: [
        (S3Fixtures.keyARN, S3Fixtures.keyID, true),
        (S3Fixtures.keyID, S3Fixtures.keyID, true),
        // An alias ARN names an account and region; a bare alias does not: KMS must resolve them.
        ("arn:aws:kms:us-east-1:111122223333:alias/wandb", "alias/wandb", false),
        ("alias/wandb", "alias/other", false),
        (S3Fixtures.keyARN, "00000000-0000-0000-0000-000000000000", false),
        // An alias and the key it points at cannot be told apart without asking KMS.
        ("alias/wandb", S3Fixtures.keyID, false),
    ])
    func sameKey(_ a: String, _ b: String, _ same: Bool) {
        #expect(KMSKeyReference.sameKey(a, b) == same)
        #expect(KMSKeyReference.sameKey(b, a) == same)
    }

    @Test func keyReferenceParts() {
        #expect(KMSKeyReference.identifier(S3Fixtures.keyARN) == S3Fixtures.keyID)
        #expect(KMSKeyReference.identifier("arn:aws:kms:us-east-1:111122223333:alias/wandb") == "arn:aws:kms:us-east-1:111122223333:alias/wandb")
        #expect(KMSKeyReference.isAlias("alias/wandb") && KMSKeyReference.isAlias("arn:aws:kms:us-east-1:111122223333:alias/wandb"))
        #expect(!KMSKeyReference.isAlias(S3Fixtures.keyARN) && !KMSKeyReference.isAlias(S3Fixtures.keyID))
        #expect(KMSKeyReference.region(S3Fixtures.keyARN) == "us-east-1")
        #expect(KMSKeyReference.region(S3Fixtures.keyID) == nil)
    }
}

// MARK: - kms-key

@Suite struct KMSKeyCheckTests {
    static func result(_ key: Observation<KMSKeyState>?, encryption: [EncryptionRule]? = nil, baseline: S3Baseline = S3Fixtures.baseline())
        -> CheckResult?
    {
        var observed = S3Fixtures.compliant()
        observed.kmsKey = key
        if let encryption { observed.encryption = .value(encryption) }
        return S3Fixtures.result("kms-key", observed, baseline: baseline)
    }

    @Test func compliantKey() {
        let result = Self.result(.value(S3Fixtures.key()))
        #expect(result?.status == .compliant)
        #expect(result?.actual == "\(S3Fixtures.keyARN): enabled, policy grants the vendor")
        #expect(result?.expected?.contains("arn:aws:iam::725579432336:role/WandbIntegration") == true)
    }

    @Test func s3CompatibleStoreHasNoKMS() {
        let result = Self.result(nil, baseline: S3Fixtures.baseline(provider: .s3))
        #expect(result?.status == .notApplicable)
        // Even a (stray) drifting key observation does not matter there.
        #expect(Self.result(.value(S3Fixtures.key(enabled: false, keyState: "Disabled")), baseline: S3Fixtures.baseline(provider: .s3))?.status
            == .notApplicable)
    }

    @Test func noKeyObservationAndAES256IsDrift() {
        let result = Self.result(nil, encryption: [EncryptionRule(algorithm: "AES256")])
        #expect(result?.status == .drift)
        #expect(result?.actual == "no KMS key in use")
    }

    @Test func noKeyObservationAndAWSManagedKeyIsDrift() {
        let result = Self.result(nil, encryption: [EncryptionRule(algorithm: "aws:kms")])
        #expect(result?.status == .drift)
        #expect(result?.actual == "AWS-managed key aws/s3")
        #expect(result?.message.contains("aws/s3") == true)
    }

    @Test func noKeyObservationAndEncryptionUnreadableIsUnknown() {
        var observed = S3Fixtures.compliant()
        observed.kmsKey = nil
        observed.encryption = .unreadable("AccessDenied")
        let result = S3Fixtures.result("kms-key", observed)
        #expect(result?.status == .unknown)
        #expect(result?.message.contains("AccessDenied") == true)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var key: KMSKeyState
        var state: CheckState
        /// Words the finding must contain (actual for drift, message for unknown).
        var finding: String
        var warning: String? = nil
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "disabled", key: S3Fixtures.key(enabled: false, keyState: "Disabled"), state: .drift, finding: "key state is Disabled"),
        Case(name: "pending deletion", key: S3Fixtures.key(enabled: false, keyState: "PendingDeletion"), state: .drift,
             finding: "key state is PendingDeletion"),
        Case(name: "signing key", key: S3Fixtures.key(keyUsage: "SIGN_VERIFY"), state: .drift, finding: "key usage is SIGN_VERIFY"),
        Case(name: "AWS-managed key", key: S3Fixtures.key(keyManager: "AWS"), state: .drift, finding: "AWS-managed key"),
        Case(name: "policy lacks the vendor", key: S3Fixtures.key(policy: S3Fixtures.policy(S3Fixtures.rootStatement)), state: .drift,
             finding: "key policy: not granted on \(S3Fixtures.keyARN): kms:Decrypt, kms:Describe*, kms:Encrypt, kms:ReEncrypt*, kms:GenerateDataKey*"),
        Case(name: "policy grants the vendor only part", key: S3Fixtures.key(policy: S3Fixtures.policy(
            S3Fixtures.rootStatement,
            #"{"Effect":"Allow","Principal":{"AWS":"725579432336"},"Action":["kms:Decrypt","kms:DescribeKey","kms:Encrypt","kms:GenerateDataKey"],"Resource":"*"}"#)),
             state: .drift, finding: "key policy: not granted on \(S3Fixtures.keyARN): kms:Describe*, kms:ReEncrypt*, kms:GenerateDataKey*"),
        Case(name: "policy lacks the account's kms:*", key: S3Fixtures.key(policy: S3Fixtures.policy(S3Fixtures.vendorKeyStatement)), state: .drift,
             finding: "key policy: the key's own account 111122223333 no longer holds kms:*"),
        Case(name: "account holds kms:* by account ID", key: S3Fixtures.key(policy: S3Fixtures.policy(
            #"{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}"#, S3Fixtures.vendorKeyStatement)),
             state: .compliant, finding: "enabled, policy grants the vendor"),
        Case(name: "policy denies the vendor Decrypt", key: S3Fixtures.key(policy: S3Fixtures.policy(
            S3Fixtures.rootStatement, S3Fixtures.vendorKeyStatement,
            #"{"Sid":"NoDecrypt","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::725579432336:role/WandbIntegration"},"Action":"kms:Decrypt","Resource":"*"}"#)),
             state: .drift, finding: "explicitly denied by Sid NoDecrypt on \(S3Fixtures.keyARN): kms:Decrypt"),
        Case(name: "policy unreadable, metadata fine", key: S3Fixtures.key(policy: .unreadable("AccessDeniedException: no kms:GetKeyPolicy")),
             state: .unknown, finding: "AccessDeniedException: no kms:GetKeyPolicy"),
        Case(name: "policy unreadable, key disabled", key: S3Fixtures.key(enabled: false, keyState: "Disabled",
                                                                           policy: .unreadable("AccessDeniedException: no kms:GetKeyPolicy")),
             state: .drift, finding: "key state is Disabled", warning: "key policy not read: AccessDeniedException: no kms:GetKeyPolicy"),
    ]

    @Test(arguments: cases)
    func keyState(_ c: Case) {
        let result = Self.result(.value(c.key))
        #expect(result?.status == c.state)
        switch c.state {
        case .unknown:
            #expect(result?.message.contains(c.finding) == true, "\(result?.message ?? "")")
            #expect(result?.actual == nil)
        default:
            #expect(result?.actual?.contains(c.finding) == true, "\(result?.actual ?? "")")
        }
        #expect(result?.warnings == (c.warning.map { [$0] } ?? []))
    }

    @Test func keyDoesNotExist() {
        let result = Self.result(.notConfigured("NotFoundException: Key 'arn:...' does not exist"))
        #expect(result?.status == .drift)
        #expect(result?.actual == "key does not exist")
        #expect(result?.message.contains("NotFoundException") == true)
    }

    @Test func describeKeyUnreadable() {
        let result = Self.result(.unreadable("ThrottlingException: Rate exceeded"))
        #expect(result?.status == .unknown)
        #expect(result?.message.contains("ThrottlingException: Rate exceeded") == true)
        #expect(result?.actual == nil)
    }

    @Test func conditionalDenyInKeyPolicyIsAWarning() {
        let key = S3Fixtures.key(policy: S3Fixtures.policy(
            S3Fixtures.rootStatement, S3Fixtures.vendorKeyStatement,
            #"{"Sid":"OnlyViaS3","Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{"StringNotEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}}"#))
        let result = Self.result(.value(key))
        #expect(result?.status == .compliant)
        #expect(result?.warnings == ["Sid OnlyViaS3 denies kms:Decrypt on \(S3Fixtures.keyARN) under a condition"])
    }

    /// BUG? With `allow_sse_s3: true` and AES256 default encryption, the encryption check is
    /// compliant, yet kms-key is drift ("default encryption names no KMS key"): the store can only
    /// pass by also skipping kms-key. With SSE-S3 accepted there is no key to check.
    @Test("regression: kms-key drifts when allow_sse_s3 accepts AES256")
    func acceptedSSES3LeavesNoKeyToCheck() {
        let baseline = S3Fixtures.baseline(allowSSES3: true)
        var observed = S3Fixtures.compliant()
        observed.kmsKey = nil
        observed.encryption = .value([EncryptionRule(algorithm: "AES256")])
        #expect(S3Fixtures.result("encryption", observed, baseline: baseline)?.status == .compliant)
        #expect(S3Fixtures.result("kms-key", observed, baseline: baseline)?.status == .notApplicable)
    }
}

// MARK: - cors

@Suite struct CORSCheckTests {
    static let good = S3Fixtures.compliantCORS

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var rules: [CORSRule]
        var corsMaxAge: Int? = nil
        var state: CheckState
        /// For drift: the shortfall named in the message.
        var shortfall: String? = nil
        var testDescription: String { name }
    }

    static func with(_ change: (inout CORSRule) -> Void) -> CORSRule {
        var rule = good
        change(&rule)
        return rule
    }

    static let cases: [Case] = [
        Case(name: "exact rule", rules: [good], state: .compliant),
        Case(name: "lower-case methods", rules: [with { $0.allowedMethods = ["get", "head", "put"] }], state: .compliant),
        Case(name: "more methods than needed", rules: [with { $0.allowedMethods = ["GET", "HEAD", "PUT", "POST", "DELETE"] }], state: .compliant),
        Case(name: "etag spelled in lower case", rules: [with { $0.exposeHeaders = ["etag"] }], state: .compliant),
        Case(name: "missing PUT", rules: [with { $0.allowedMethods = ["GET", "HEAD"] }], state: .drift, shortfall: "method PUT not allowed"),
        Case(name: "origin not *", rules: [with { $0.allowedOrigins = ["https://wandb.example.com"] }], state: .drift, shortfall: "origin * not allowed"),
        Case(name: "allowed headers not *", rules: [with { $0.allowedHeaders = ["Content-Type"] }], state: .drift, shortfall: "allowed header * missing"),
        Case(name: "ETag not exposed", rules: [with { $0.exposeHeaders = [] }], state: .drift, shortfall: "ETag not exposed"),
        Case(name: "max age 3000", rules: [with { $0.maxAgeSeconds = 3000 }], state: .drift, shortfall: "max age 3000s, expected 3600s"),
        Case(name: "max age unset", rules: [with { $0.maxAgeSeconds = nil }], state: .drift, shortfall: "max age unset, expected 3600s"),
        Case(name: "second rule compliant", rules: [with { $0.allowedMethods = ["GET"] }, good], state: .compliant),
        Case(name: "closest rule is reported",
             rules: [with { $0.allowedMethods = []; $0.exposeHeaders = [] }, with { $0.maxAgeSeconds = 60 }],
             state: .drift, shortfall: "closest rule: max age 60s, expected 3600s"),
        Case(name: "empty rule list", rules: [], state: .drift, shortfall: nil),
        Case(name: "cors_max_age override met", rules: [with { $0.maxAgeSeconds = 600 }], corsMaxAge: 600, state: .compliant),
        Case(name: "cors_max_age override missed", rules: [good], corsMaxAge: 600, state: .drift, shortfall: "max age 3600s, expected 600s"),
    ]

    @Test(arguments: cases)
    func rules(_ c: Case) {
        var observed = S3Fixtures.compliant()
        observed.cors = .value(c.rules)
        let result = S3Fixtures.result("cors", observed, baseline: S3Fixtures.baseline(corsMaxAge: c.corsMaxAge))
        #expect(result?.status == c.state)
        #expect(result?.expected?.hasSuffix("max age \(c.corsMaxAge ?? 3600)s") == true, "\(result?.expected ?? "")")
        if let shortfall = c.shortfall {
            #expect(result?.message.contains(shortfall) == true, "\(result?.message ?? "")")
        }
    }

    @Test func driftNamesTheRuleRead() {
        var observed = S3Fixtures.compliant()
        observed.cors = .value([Self.with { $0.allowedMethods = ["GET", "HEAD"] }])
        let result = S3Fixtures.result("cors", observed)
        #expect(result?.actual == "origins *; methods GET,HEAD; allowed headers *; expose ETag; max age 3600s")
        #expect(result?.expected == "origins *; methods GET,HEAD,PUT; allowed headers *; expose ETag; max age 3600s")
    }
}

// MARK: - bucket-policy

@Suite struct BucketPolicyCheckTests {
    static func result(_ policy: Observation<PolicyDocument>, baseline: S3Baseline = S3Fixtures.baseline()) -> CheckResult? {
        var observed = S3Fixtures.compliant()
        observed.policy = policy
        return S3Fixtures.result("bucket-policy", observed, baseline: baseline)
    }

    static let vendor = S3Fixtures.vendorPrincipal

    @Test func vendorStatement() {
        let result = Self.result(S3Fixtures.policy(S3Fixtures.vendorStatement))
        #expect(result?.status == .compliant)
        #expect(result?.actual == "all actions granted")
        #expect(result?.warnings == [])
    }

    @Test func splitStatements() {
        let result = Self.result(S3Fixtures.policy(
            #"{"Sid":"Bucket","Effect":"Allow","Principal":\#(Self.vendor),"Action":\#(S3Fixtures.bucketActions),"Resource":"arn:aws:s3:::bw-bucket"}"#,
            #"{"Sid":"Objects","Effect":"Allow","Principal":\#(Self.vendor),"Action":\#(S3Fixtures.objectActions),"Resource":"arn:aws:s3:::bw-bucket/*"}"#))
        #expect(result?.status == .compliant)
    }

    @Test func grantToTheVendorAccount() {
        let result = Self.result(S3Fixtures.policy(
            #"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::725579432336:root"},"Action":"s3:*","Resource":["arn:aws:s3:::bw-bucket","arn:aws:s3:::bw-bucket/*"]}"#))
        #expect(result?.status == .compliant)
    }

    @Test func dedicatedBaselineDoesNotAcceptTheSaaSGrant() throws {
        let dedicated = try S3Baseline.resolve(for: S3Fixtures.store(deployment: .dedicated))
        let result = Self.result(S3Fixtures.policy(S3Fixtures.vendorStatement), baseline: dedicated)
        #expect(result?.status == .drift)
        #expect(result?.message.contains("arn:aws:iam::830241207209:root") == true)
    }

    @Test func missingActionsAreListed() {
        let result = Self.result(S3Fixtures.policy(
            #"{"Effect":"Allow","Principal":\#(Self.vendor),"Action":["s3:GetObject*","s3:GetEncryptionConfiguration","s3:ListBucket","s3:ListBucketMultipartUploads","s3:AbortMultipartUpload","s3:PutObject","s3:GetBucketCORS","s3:GetBucketLocation","s3:GetBucketVersioning"],"Resource":["arn:aws:s3:::bw-bucket","arn:aws:s3:::bw-bucket/*"]}"#))
        #expect(result?.status == .drift)
        #expect(result?.actual
            == "not granted on arn:aws:s3:::bw-bucket: s3:ListBucketVersions; not granted on arn:aws:s3:::bw-bucket/*: s3:DeleteObject")
    }

    @Test func objectActionsOnlyOnTheBucketARN() {
        let result = Self.result(S3Fixtures.policy(
            #"{"Effect":"Allow","Principal":\#(Self.vendor),"Action":\#(S3Fixtures.allActions),"Resource":"arn:aws:s3:::bw-bucket"}"#))
        #expect(result?.status == .drift)
        #expect(result?.actual
            == "not granted on arn:aws:s3:::bw-bucket/*: s3:GetObject*, s3:AbortMultipartUpload, s3:DeleteObject, s3:PutObject")
    }

    @Test func onlyGetObjectIsNotGetObjectStar() {
        let result = Self.result(S3Fixtures.policy(
            #"{"Effect":"Allow","Principal":\#(Self.vendor),"Action":\#(S3Fixtures.bucketActions),"Resource":"arn:aws:s3:::bw-bucket"}"#,
            #"{"Effect":"Allow","Principal":\#(Self.vendor),"Action":["s3:GetObject","s3:AbortMultipartUpload","s3:DeleteObject","s3:PutObject"],"Resource":"arn:aws:s3:::bw-bucket/*"}"#))
        #expect(result?.status == .drift)
        #expect(result?.actual == "not granted on arn:aws:s3:::bw-bucket/*: s3:GetObject*")
    }

    @Test func conditionalGrantIsDrift() {
        let result = Self.result(S3Fixtures.policy(
            #"{"Sid":"WandbFromVPC","Effect":"Allow","Principal":\#(Self.vendor),"Action":\#(S3Fixtures.allActions),"Resource":["arn:aws:s3:::bw-bucket","arn:aws:s3:::bw-bucket/*"],"Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1a2b"}}}"#))
        #expect(result?.status == .drift)
        #expect(result?.message.contains("Condition") == true)
        #expect(result?.actual?.contains("Sid WandbFromVPC") == true)
    }

    @Test func denyIsDriftNamingTheSid() {
        let result = Self.result(S3Fixtures.policy(
            S3Fixtures.vendorStatement,
            #"{"Sid":"NoDeletes","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::bw-bucket/*"}"#))
        #expect(result?.status == .drift)
        #expect(result?.actual == "explicitly denied by Sid NoDeletes on arn:aws:s3:::bw-bucket/*: s3:DeleteObject")
        #expect(result?.message.contains("Sid NoDeletes") == true)
    }

    @Test func denyOfAVersionReadTakesGetObjectStar() {
        let result = Self.result(S3Fixtures.policy(
            S3Fixtures.vendorStatement,
            #"{"Sid":"NoOldVersions","Effect":"Deny","Principal":\#(Self.vendor),"Action":"s3:GetObjectVersion","Resource":"arn:aws:s3:::bw-bucket/*"}"#))
        #expect(result?.status == .drift)
        #expect(result?.actual == "explicitly denied by Sid NoOldVersions on arn:aws:s3:::bw-bucket/*: s3:GetObject*")
    }

    @Test func conditionalDenyIsCompliantWithAWarning() {
        let result = Self.result(S3Fixtures.policy(
            S3Fixtures.vendorStatement,
            #"{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::bw-bucket","arn:aws:s3:::bw-bucket/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#))
        #expect(result?.status == .compliant)
        // One warning per required action.
        #expect(result?.warnings.count == 11)
        #expect(result?.warnings.allSatisfy { $0.hasPrefix("Sid DenyInsecureTransport denies ") && $0.hasSuffix(" under a condition") } == true)
        #expect(result?.warnings.contains("Sid DenyInsecureTransport denies s3:PutObject on arn:aws:s3:::bw-bucket/* under a condition") == true)
    }

    @Test func notPrincipalDenyExcludingTheVendorIsCompliant() {
        let result = Self.result(S3Fixtures.policy(
            S3Fixtures.vendorStatement,
            #"{"Sid":"OnlyVendor","Effect":"Deny","NotPrincipal":\#(Self.vendor),"Action":"s3:*","Resource":["arn:aws:s3:::bw-bucket","arn:aws:s3:::bw-bucket/*"]}"#))
        #expect(result?.status == .compliant)
    }
}

// MARK: - public-access

@Suite struct PublicAccessCheckTests {
    static func result(policy: Observation<PolicyDocument>, block: Observation<PublicAccessBlock>) -> CheckResult? {
        var observed = S3Fixtures.compliant()
        observed.policy = policy
        observed.publicAccessBlock = block
        return S3Fixtures.result("public-access", observed)
    }

    static let vendorPolicy = S3Fixtures.policy(S3Fixtures.vendorStatement)
    static let publicPolicy = S3Fixtures.policy(
        S3Fixtures.vendorStatement,
        #"{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bw-bucket/*"}"#)

    @Test func blockOnNoPublicGrant() {
        let result = Self.result(policy: Self.vendorPolicy, block: .value(S3Fixtures.blockOn))
        #expect(result?.status == .compliant)
    }

    @Test(arguments: ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"])
    func oneFlagOff(_ flag: String) {
        var block = S3Fixtures.blockOn
        switch flag {
        case "BlockPublicAcls": block.blockPublicAcls = false
        case "IgnorePublicAcls": block.ignorePublicAcls = false
        case "BlockPublicPolicy": block.blockPublicPolicy = false
        default: block.restrictPublicBuckets = false
        }
        let result = Self.result(policy: Self.vendorPolicy, block: .value(block))
        #expect(result?.status == .drift)
        #expect(result?.actual == "off: \(flag)")
        #expect(result?.message.contains(flag) == true)
    }

    @Test func allFlagsOffAreNamed() {
        let off = PublicAccessBlock(blockPublicAcls: false, ignorePublicAcls: false, blockPublicPolicy: false, restrictPublicBuckets: false)
        let result = Self.result(policy: Self.vendorPolicy, block: .value(off))
        #expect(result?.actual == "off: BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets")
    }

    @Test(arguments: [
        Observation<PublicAccessBlock>.value(S3Fixtures.blockOn), .notImplemented("NotImplemented"), .unreadable("AccessDenied"),
    ])
    func publicStatementIsDriftWhateverTheBlock(_ block: Observation<PublicAccessBlock>) {
        let result = Self.result(policy: Self.publicPolicy, block: block)
        #expect(result?.status == .drift)
        #expect(result?.actual == "public grant in Sid PublicRead")
    }

    @Test func conditionalPublicStatementIsNotAGrant() {
        let policy = S3Fixtures.policy(
            #"{"Sid":"FromVPC","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bw-bucket/*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}"#)
        #expect(Self.result(policy: policy, block: .value(S3Fixtures.blockOn))?.status == .compliant)
    }

    @Test func noPolicyAndBlockOn() {
        let result = Self.result(policy: .notConfigured("NoSuchBucketPolicy"), block: .value(S3Fixtures.blockOn))
        #expect(result?.status == .compliant)
    }

    @Test func blockNotImplementedOnAnS3CompatibleStore() {
        let words = "NotImplemented: A header you provided implies functionality that is not implemented"
        for policy in [Self.vendorPolicy, .notConfigured("NoSuchBucketPolicy")] {
            let result = Self.result(policy: policy, block: .notImplemented(words))
            #expect(result?.status == .notApplicable)
            #expect(result?.message.contains(words) == true)
        }
    }

    @Test func blockUnreadable() {
        let result = Self.result(policy: Self.vendorPolicy, block: .unreadable("AccessDenied: no s3:GetBucketPublicAccessBlock"))
        #expect(result?.status == .unknown)
        #expect(result?.message.contains("AccessDenied: no s3:GetBucketPublicAccessBlock") == true)
    }

    @Test func policyUnreadable() {
        let result = Self.result(policy: .unreadable("AccessDenied: no s3:GetBucketPolicy"), block: .value(S3Fixtures.blockOn))
        #expect(result?.status == .unknown)
        #expect(result?.message.contains("AccessDenied: no s3:GetBucketPolicy") == true)
        #expect(result?.actual == nil)
    }

    /// BUG? The block was read and is partly off, a definite finding; the policy could not be read.
    /// public-access says `unknown` (exit 2), hiding the drift, where kms-key lets a definite finding
    /// win over an unreadable key policy (drift with a warning).
    @Test("regression: unreadable policy hides a block read as off")
    func blockOffWinsOverAnUnreadablePolicy() {
        var block = S3Fixtures.blockOn
        block.restrictPublicBuckets = false
        let result = Self.result(policy: .unreadable("AccessDenied: no s3:GetBucketPolicy"), block: .value(block))
        #expect(result?.status == .drift)
    }
}

@Suite("S3 encryption: key references resolved by KMS")
struct S3KeyAliasTests {
    static let keyARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

    func observed(bucketKey: String, resolved: (String, String)?) -> S3Observations {
        var observed = S3Fixtures.compliant()
        observed.encryption = .value([EncryptionRule(algorithm: "aws:kms", kmsKeyID: bucketKey)])
        observed.resolvedKeyARNs = resolved.map { (configured: $0.0, bucket: $0.1) }
        return observed
    }

    @Test("a bucket naming the configured key by alias is compliant once KMS resolves both to one ARN")
    func aliasResolvedToSameKey() {
        let baseline = S3Fixtures.baseline(kmsKey: Self.keyARN)
        let result = S3Fixtures.result("encryption", observed(bucketKey: "alias/wandb", resolved: (Self.keyARN, Self.keyARN)), baseline: baseline)
        #expect(result?.status == .compliant)
    }

    @Test("an alias that resolves to another key is drift")
    func aliasResolvedToOtherKey() {
        let baseline = S3Fixtures.baseline(kmsKey: Self.keyARN)
        let other = "arn:aws:kms:us-east-1:111122223333:key/ffffffff-0000-0000-0000-000000000000"
        let result = S3Fixtures.result("encryption", observed(bucketKey: "alias/other", resolved: (Self.keyARN, other)), baseline: baseline)
        #expect(result?.status == .drift)
        #expect(result?.message.contains("another KMS key") == true)
    }

    @Test("an alias KMS could not resolve is unknown, not drift: it may name the configured key")
    func aliasUnresolved() {
        let baseline = S3Fixtures.baseline(kmsKey: Self.keyARN)
        let result = S3Fixtures.result("encryption", observed(bucketKey: "alias/wandb", resolved: nil), baseline: baseline)
        #expect(result?.status == .unknown)
        #expect(result?.actual == "aws:kms with alias/wandb")
    }

    @Test("two different key IDs need no KMS answer: drift")
    func differentKeyIDsUnresolved() {
        let baseline = S3Fixtures.baseline(kmsKey: Self.keyARN)
        let result = S3Fixtures.result("encryption", observed(bucketKey: "ffffffff-0000-0000-0000-000000000000", resolved: nil), baseline: baseline)
        #expect(result?.status == .drift)
    }

    @Test("the same alias name in another account is not the same key by spelling")
    func aliasInAnotherAccount() {
        #expect(!KMSKeyReference.sameKey("arn:aws:kms:us-east-1:999999999999:alias/wandb", "arn:aws:kms:us-east-1:111122223333:alias/wandb"))
        #expect(KMSKeyReference.sameKey("1234abcd-12ab-34cd-56ef-1234567890ab", Self.keyARN))
    }
}
