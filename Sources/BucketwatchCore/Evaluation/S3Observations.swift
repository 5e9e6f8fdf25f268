/// What the S3 readers saw for one bucket. Pure data: produced by `BucketwatchAWS`,
/// consumed by `S3Evaluator`.
public struct S3Observations: Sendable, Equatable {
    /// `Status` of GetBucketVersioning: `Enabled`, `Suspended`, or `nil` when never enabled.
    public var versioning: Observation<String?>
    public var cors: Observation<[CORSRule]>
    public var encryption: Observation<[EncryptionRule]>
    public var policy: Observation<PolicyDocument>
    public var publicAccessBlock: Observation<PublicAccessBlock>
    /// The KMS key the bucket's default encryption (or the store's `kms_key`) points at;
    /// `nil` when no key was looked up.
    public var kmsKey: Observation<KMSKeyState>?
    /// The key ARNs KMS resolved the configured key and the bucket's key to, when their
    /// spellings differ (alias vs ARN vs key ID): then they are compared by ARN.
    public var resolvedKeyARNs: (configured: String, bucket: String)?

    public static func == (lhs: S3Observations, rhs: S3Observations) -> Bool {
        lhs.versioning == rhs.versioning && lhs.cors == rhs.cors && lhs.encryption == rhs.encryption && lhs.policy == rhs.policy
            && lhs.publicAccessBlock == rhs.publicAccessBlock && lhs.kmsKey == rhs.kmsKey
            && lhs.resolvedKeyARNs?.configured == rhs.resolvedKeyARNs?.configured && lhs.resolvedKeyARNs?.bucket == rhs.resolvedKeyARNs?.bucket
    }

    public init(
        versioning: Observation<String?>, cors: Observation<[CORSRule]>, encryption: Observation<[EncryptionRule]>,
        policy: Observation<PolicyDocument>, publicAccessBlock: Observation<PublicAccessBlock>, kmsKey: Observation<KMSKeyState>? = nil
    ) {
        self.versioning = versioning
        self.cors = cors
        self.encryption = encryption
        self.policy = policy
        self.publicAccessBlock = publicAccessBlock
        self.kmsKey = kmsKey
    }
}

public struct CORSRule: Sendable, Equatable {
    public var allowedOrigins: [String]
    public var allowedMethods: [String]
    public var allowedHeaders: [String]
    public var exposeHeaders: [String]
    public var maxAgeSeconds: Int?

    public init(allowedOrigins: [String] = [], allowedMethods: [String] = [], allowedHeaders: [String] = [], exposeHeaders: [String] = [], maxAgeSeconds: Int? = nil) {
        self.allowedOrigins = allowedOrigins
        self.allowedMethods = allowedMethods
        self.allowedHeaders = allowedHeaders
        self.exposeHeaders = exposeHeaders
        self.maxAgeSeconds = maxAgeSeconds
    }

    public var summary: String {
        "origins \(allowedOrigins.joined(separator: ",")); methods \(allowedMethods.joined(separator: ",")); "
            + "allowed headers \(allowedHeaders.joined(separator: ",")); expose \(exposeHeaders.joined(separator: ",")); "
            + "max age \(maxAgeSeconds.map { "\($0)s" } ?? "unset")"
    }
}

public struct EncryptionRule: Sendable, Equatable {
    /// `AES256`, `aws:kms`, `aws:kms:dsse`, ...
    public var algorithm: String
    public var kmsKeyID: String?

    public init(algorithm: String, kmsKeyID: String? = nil) {
        self.algorithm = algorithm
        self.kmsKeyID = kmsKeyID
    }
}

public struct PublicAccessBlock: Sendable, Equatable {
    public var blockPublicAcls: Bool
    public var ignorePublicAcls: Bool
    public var blockPublicPolicy: Bool
    public var restrictPublicBuckets: Bool

    public init(blockPublicAcls: Bool, ignorePublicAcls: Bool, blockPublicPolicy: Bool, restrictPublicBuckets: Bool) {
        self.blockPublicAcls = blockPublicAcls
        self.ignorePublicAcls = ignorePublicAcls
        self.blockPublicPolicy = blockPublicPolicy
        self.restrictPublicBuckets = restrictPublicBuckets
    }

    public var allOn: Bool { blockPublicAcls && ignorePublicAcls && blockPublicPolicy && restrictPublicBuckets }

    /// Names of the settings that are off, in the API's spelling.
    public var offSettings: [String] {
        [("BlockPublicAcls", blockPublicAcls), ("IgnorePublicAcls", ignorePublicAcls),
         ("BlockPublicPolicy", blockPublicPolicy), ("RestrictPublicBuckets", restrictPublicBuckets)]
            .filter { !$0.1 }.map(\.0)
    }
}

/// KMS DescribeKey plus GetKeyPolicy for one key.
public struct KMSKeyState: Sendable, Equatable {
    public var arn: String
    public var accountID: String
    public var enabled: Bool
    /// `KeyState`: `Enabled`, `Disabled`, `PendingDeletion`, ...
    public var keyState: String
    public var keyUsage: String
    /// `AWS` for AWS-managed keys (`aws/s3`), whose policy cannot grant other accounts.
    public var keyManager: String?
    public var policy: Observation<PolicyDocument>

    public init(arn: String, accountID: String, enabled: Bool, keyState: String, keyUsage: String, keyManager: String? = nil, policy: Observation<PolicyDocument>) {
        self.arn = arn
        self.accountID = accountID
        self.enabled = enabled
        self.keyState = keyState
        self.keyUsage = keyUsage
        self.keyManager = keyManager
        self.policy = policy
    }
}
