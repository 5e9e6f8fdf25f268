/// What the GCS readers saw for one bucket (JSON API bucket resource + bucket IAM policy).
public struct GCSObservations: Sendable, Equatable {
    /// The bucket resource, or why it could not be read.
    public var bucket: Observation<GCSBucket>
    public var iam: Observation<GCSIAMPolicy>

    public init(bucket: Observation<GCSBucket>, iam: Observation<GCSIAMPolicy>) {
        self.bucket = bucket
        self.iam = iam
    }
}

/// The fields of a GCS bucket resource the baseline looks at. Absent JSON fields are `nil`.
public struct GCSBucket: Sendable, Equatable {
    public var versioningEnabled: Bool?
    /// `softDeletePolicy.retentionDurationSeconds`; `nil` when the policy is absent.
    public var softDeleteRetentionSeconds: Int64?
    public var defaultKMSKeyName: String?
    public var cors: [GCSCORSEntry]?
    /// `iamConfiguration.publicAccessPrevention`: `enforced`, `inherited`, `unspecified`.
    public var publicAccessPrevention: String?
    public var uniformBucketLevelAccess: Bool?

    public init(versioningEnabled: Bool? = nil, softDeleteRetentionSeconds: Int64? = nil, defaultKMSKeyName: String? = nil,
                cors: [GCSCORSEntry]? = nil, publicAccessPrevention: String? = nil, uniformBucketLevelAccess: Bool? = nil) {
        self.versioningEnabled = versioningEnabled
        self.softDeleteRetentionSeconds = softDeleteRetentionSeconds
        self.defaultKMSKeyName = defaultKMSKeyName
        self.cors = cors
        self.publicAccessPrevention = publicAccessPrevention
        self.uniformBucketLevelAccess = uniformBucketLevelAccess
    }
}

public struct GCSCORSEntry: Sendable, Equatable {
    public var origin: [String]
    public var method: [String]
    public var responseHeader: [String]
    public var maxAgeSeconds: Int?

    public init(origin: [String] = [], method: [String] = [], responseHeader: [String] = [], maxAgeSeconds: Int? = nil) {
        self.origin = origin
        self.method = method
        self.responseHeader = responseHeader
        self.maxAgeSeconds = maxAgeSeconds
    }

    public var summary: String {
        "origin \(origin.joined(separator: ",")); method \(method.joined(separator: ",")); "
            + "responseHeader \(responseHeader.joined(separator: ",")); maxAgeSeconds \(maxAgeSeconds.map(String.init) ?? "unset")"
    }
}

public struct GCSIAMPolicy: Sendable, Equatable {
    public struct Binding: Sendable, Equatable {
        public var role: String
        public var members: [String]
        /// The condition's title (or expression) when the binding is conditional.
        public var condition: String?

        public init(role: String, members: [String], condition: String? = nil) {
            self.role = role
            self.members = members
            self.condition = condition
        }
    }

    public var bindings: [Binding]

    public init(bindings: [Binding]) {
        self.bindings = bindings
    }
}
