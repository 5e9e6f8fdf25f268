import Foundation

/// The whole configuration file, after validation.
///
/// Keys are a contract shared with other tools (see README "Configuration"):
/// rename nothing here without a deprecation path.
public struct BucketwatchConfig: Sendable, Equatable {
    /// Time between sweeps in the daemon (`interval`, default 5 minutes).
    public var interval: Duration
    /// `host:port` of the metrics endpoint (`listen_address`, default `127.0.0.1:9750`).
    public var listenAddress: String
    public var stores: [StoreConfig]

    public init(interval: Duration = .seconds(300), listenAddress: String = "127.0.0.1:9750", stores: [StoreConfig]) {
        self.interval = interval
        self.listenAddress = listenAddress
        self.stores = stores
    }
}

/// Which storage service a store lives in. The raw values are the config's `provider` values.
public enum Provider: String, Sendable, Equatable, Codable, CaseIterable {
    /// AWS S3, with KMS.
    case aws
    /// Any S3-compatible endpoint (MinIO, SeaweedFS, ...): path style by default, no AWS KMS.
    case s3
    case gcp
    case azure
}

/// Which vendor deployment a store serves: picks the vendor principal of the baseline.
public enum Deployment: String, Sendable, Equatable, Codable, CaseIterable {
    case saas
    case dedicated
}

/// One configured bucket (a "store" in the vendor's words).
public struct StoreConfig: Sendable, Equatable {
    public var name: String
    public var provider: Provider
    public var bucket: String
    public var region: String?
    /// S3 endpoint override (`endpoint`), e.g. `https://minio.internal:9000`.
    public var endpoint: String?
    /// `nil` means the provider's default: virtual-host for `aws`, path style for `s3`.
    public var pathStyle: Bool?
    public var deployment: Deployment?
    /// Overrides `deployment` (`principal`): an AWS principal ARN or account ID.
    public var principal: String?
    /// The KMS key default encryption must use (`kms_key`): key ARN, key ID or alias.
    public var kmsKey: String?
    /// Optional sub-path the vendor writes under; reported, does not change checks.
    public var prefix: String?
    /// AWS shared-credentials profile for this store (`profile`).
    public var profile: String?
    /// AWS shared credentials file for this store (`credentials_file`); relative paths
    /// are looked up in systemd's `$CREDENTIALS_DIRECTORY` first.
    public var credentialsFile: String?
    /// Extra CA bundle (PEM) for TLS to this store (`ca_file`).
    public var caFile: String?
    /// Turns TLS verification off for this store only (`insecure_skip_tls_verify`). Never default.
    public var insecureSkipTLSVerify: Bool
    /// GCS: the vendor service account that must hold `roles/storage.admin`
    /// (`service_account`); overrides `deployment`.
    public var serviceAccount: String?
    /// Daemon: this store's own sweep interval (`interval`), overriding the global one.
    public var interval: Duration?
    public var baseline: BaselineSelection
    /// Line of the store's entry in the config file, for errors found after parsing
    /// (e.g. no vendor principal). Not part of equality: it says where, not what.
    public var sourceLine: Int?

    public init(
        name: String, provider: Provider, bucket: String, region: String? = nil, endpoint: String? = nil,
        pathStyle: Bool? = nil, deployment: Deployment? = nil, principal: String? = nil, kmsKey: String? = nil,
        prefix: String? = nil, profile: String? = nil, credentialsFile: String? = nil, caFile: String? = nil,
        insecureSkipTLSVerify: Bool = false, interval: Duration? = nil, baseline: BaselineSelection = BaselineSelection()
    ) {
        self.name = name
        self.provider = provider
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint
        self.pathStyle = pathStyle
        self.deployment = deployment
        self.principal = principal
        self.kmsKey = kmsKey
        self.prefix = prefix
        self.profile = profile
        self.credentialsFile = credentialsFile
        self.caFile = caFile
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.interval = interval
        self.baseline = baseline
    }

    public static func == (lhs: StoreConfig, rhs: StoreConfig) -> Bool {
        var left = lhs
        left.sourceLine = rhs.sourceLine
        return left.isEqual(to: rhs)
    }

    private func isEqual(to other: StoreConfig) -> Bool {
        name == other.name && provider == other.provider && bucket == other.bucket && region == other.region
            && endpoint == other.endpoint && pathStyle == other.pathStyle && deployment == other.deployment
            && principal == other.principal && kmsKey == other.kmsKey && prefix == other.prefix && profile == other.profile
            && credentialsFile == other.credentialsFile && caFile == other.caFile
            && insecureSkipTLSVerify == other.insecureSkipTLSVerify && interval == other.interval && baseline == other.baseline
            && serviceAccount == other.serviceAccount
    }
}

/// `baseline:` of a store: a profile name, optionally with per-store overrides.
///
/// ```yaml
/// baseline: wandb-byob
/// # or
/// baseline:
///   profile: wandb-byob
///   skip: [public-access]          # these checks report not_applicable
///   cors_max_age_seconds: 3600
///   allow_sse_s3: false            # accept AES256 default encryption
///   soft_delete_min_days: 7         # GCS: minimum soft delete retention
/// ```
public struct BaselineSelection: Sendable, Equatable {
    public var profile: String
    /// Check IDs the admin opted out of; reported as `not_applicable` with the reason.
    public var skip: Set<String>
    public var corsMaxAgeSeconds: Int?
    public var allowSSES3: Bool?
    /// GCS: soft delete must keep objects at least this many days (default 7).
    public var softDeleteMinimumDays: Int?

    public init(profile: String = "wandb-byob", skip: Set<String> = [], corsMaxAgeSeconds: Int? = nil, allowSSES3: Bool? = nil,
                softDeleteMinimumDays: Int? = nil) {
        self.profile = profile
        self.skip = skip
        self.corsMaxAgeSeconds = corsMaxAgeSeconds
        self.allowSSES3 = allowSSES3
        self.softDeleteMinimumDays = softDeleteMinimumDays
    }
}
