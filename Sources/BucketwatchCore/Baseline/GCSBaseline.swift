/// The `wandb-byob` profile for a Google Cloud Storage store, with the store's overrides.
public struct GCSBaseline: Sendable, Equatable {
    /// The vendor's service account e-mail, which must hold `roles/storage.admin`.
    public var vendorServiceAccount: String
    public var requiredRole: String
    /// Soft delete must keep objects at least this long (default 7 days, the platform default).
    public var softDeleteMinimumSeconds: Int64
    /// `nil`: Google-managed encryption (no default KMS key); else this key must be the default.
    public var kmsKey: String?
    public var cors: CORSRequirement
    public var skipped: Set<String>

    public static let checkIDs = ["versioning", "soft-delete", "encryption", "cors", "iam", "public-access"]

    public static func resolve(for store: StoreConfig) throws(BaselineError) -> GCSBaseline {
        guard let account = try store.vendorIdentity(
            explicit: store.serviceAccount, saas: VendorPrincipals.gcpSaaS, dedicated: VendorPrincipals.gcpDedicated)
        else { throw .noServiceAccount(store: store.name) }
        var cors = CORSRequirement()
        cors.allowedHeaders = ["Content-Type"]  // GCS's `responseHeader`; see GCSEvaluator.cors
        if let maxAge = store.baseline.corsMaxAgeSeconds { cors.maxAgeSeconds = maxAge }
        return GCSBaseline(
            vendorServiceAccount: account, requiredRole: "roles/storage.admin",
            softDeleteMinimumSeconds: Int64(store.baseline.softDeleteMinimumDays ?? 7).multipliedReportingOverflow(by: 86_400).overflow
                ? Int64.max : Int64(store.baseline.softDeleteMinimumDays ?? 7) * 86_400,
            kmsKey: store.kmsKey, cors: cors, skipped: store.baseline.skip)
    }
}
