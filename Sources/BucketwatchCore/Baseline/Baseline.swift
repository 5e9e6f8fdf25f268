/// The built-in baseline profile `wandb-byob` (`docs/byob-baseline.md`), resolved for one store.
///
/// Everything evaluation needs to know about "what compliant means" lives here, so the
/// evaluators stay free of vendor constants and per-store overrides.
public struct S3Baseline: Sendable, Equatable {
    /// The AWS principal that must be granted access (bucket policy, key policy).
    public var vendorPrincipal: String
    /// The key default encryption must use; `nil` accepts any KMS key.
    public var kmsKey: String?
    /// Accept plain SSE-S3 (`AES256`) as compliant encryption (per-store override; default false).
    public var allowSSES3: Bool
    public var cors: CORSRequirement
    /// Actions the vendor needs on the bucket ARN and on `bucket/*`.
    public var bucketActions: [String]
    public var objectActions: [String]
    /// Actions the vendor needs on the KMS key.
    public var kmsActions: [String]
    /// Whether AWS KMS exists behind this store at all (false for S3-compatible stores).
    public var hasKMS: Bool
    /// Checks the admin opted out of.
    public var skipped: Set<String>

    public static let checkIDs = ["versioning", "encryption", "kms-key", "cors", "bucket-policy", "public-access"]
}

/// What a CORS rule must allow for browser uploads through pre-signed URLs.
public struct CORSRequirement: Sendable, Equatable {
    public var origins: [String] = ["*"]
    public var methods: [String] = ["GET", "HEAD", "PUT"]
    public var allowedHeaders: [String] = ["*"]
    public var exposeHeaders: [String] = ["ETag"]
    public var maxAgeSeconds: Int = 3600

    public init() {}

    public var summary: String {
        "origins \(origins.joined(separator: ",")); methods \(methods.joined(separator: ",")); "
            + "allowed headers \(allowedHeaders.joined(separator: ",")); expose \(exposeHeaders.joined(separator: ",")); max age \(maxAgeSeconds)s"
    }
}

public enum VendorPrincipals {
    public static let awsSaaS = "arn:aws:iam::725579432336:role/WandbIntegration"
    public static let awsDedicated = "arn:aws:iam::830241207209:root"
    public static let gcpSaaS = "wandb-integration@wandb-production.iam.gserviceaccount.com"
    public static let gcpDedicated = "deploy@wandb-production.iam.gserviceaccount.com"
}

public enum BaselineError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownProfile(store: String, profile: String)
    case noPrincipal(store: String)
    case noServiceAccount(store: String)

    public var description: String {
        switch self {
        case .unknownProfile(let store, let profile):
            "store '\(store)': unknown baseline profile '\(profile)'; the built-in profile is 'wandb-byob'"
        case .noPrincipal(let store):
            "store '\(store)': no vendor principal: set 'deployment' (saas or dedicated) or 'principal'"
        case .noServiceAccount(let store):
            "store '\(store)': no vendor service account: set 'deployment' (saas or dedicated) or 'service_account'"
        }
    }
}

extension StoreConfig {
    /// Checks the store names the built-in profile, and picks the vendor identity: the explicit
    /// one, else the one of the store's deployment. `nil` when neither is configured.
    func vendorIdentity(explicit: String?, saas: String, dedicated: String) throws(BaselineError) -> String? {
        guard baseline.profile == "wandb-byob" else {
            throw .unknownProfile(store: name, profile: baseline.profile)
        }
        if let explicit { return explicit }
        switch deployment {
        case .saas: return saas
        case .dedicated: return dedicated
        case nil: return nil
        }
    }
}

extension S3Baseline {
    /// The `wandb-byob` profile for an S3 or S3-compatible store, with the store's overrides applied.
    public static func resolve(for store: StoreConfig) throws(BaselineError) -> S3Baseline {
        guard let principal = try store.vendorIdentity(
            explicit: store.principal, saas: VendorPrincipals.awsSaaS, dedicated: VendorPrincipals.awsDedicated)
        else { throw .noPrincipal(store: store.name) }
        var cors = CORSRequirement()
        if let maxAge = store.baseline.corsMaxAgeSeconds { cors.maxAgeSeconds = maxAge }
        return S3Baseline(
            vendorPrincipal: principal,
            kmsKey: store.kmsKey,
            allowSSES3: store.baseline.allowSSES3 ?? false,
            cors: cors,
            bucketActions: [
                "s3:GetEncryptionConfiguration", "s3:ListBucket", "s3:ListBucketMultipartUploads",
                "s3:ListBucketVersions", "s3:GetBucketCORS", "s3:GetBucketLocation", "s3:GetBucketVersioning",
            ],
            objectActions: ["s3:GetObject*", "s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject"],
            kmsActions: ["kms:Decrypt", "kms:Describe*", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
            hasKMS: store.provider == .aws,
            skipped: store.baseline.skip
        )
    }
}
