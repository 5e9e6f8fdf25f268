import BucketwatchAWS
import BucketwatchCore
import BucketwatchGCP
import BucketwatchTransport
import Foundation

/// Runs one sweep: reads every store, evaluates it against its baseline, returns the
/// reports in config order. The same function serves `check` and the daemon.
public struct CheckRunner: Sendable {
    public var environment: [String: String]
    public var http: any HTTPClient
    public var credentials: AWSCredentialResolver
    public var googleTokens: GoogleTokenResolver
    /// How many stores are read at once.
    public var maxConcurrentStores: Int
    public var retry: RetryPolicy
    public var limits: RequestLimits

    public init(environment: [String: String], http: any HTTPClient, maxConcurrentStores: Int = 4,
                retry: RetryPolicy = RetryPolicy(), limits: RequestLimits = RequestLimits()) {
        self.environment = environment
        self.http = http
        self.credentials = AWSCredentialResolver(environment: environment, http: http)
        self.googleTokens = GoogleTokenResolver(environment: environment, http: http)
        self.maxConcurrentStores = max(1, maxConcurrentStores)
        self.retry = retry
        self.limits = limits
    }

    /// `kmsCache` lives for one sweep: each distinct KMS key is read once per sweep.
    public func run(_ stores: [StoreConfig], kmsCache: KMSKeyCache = KMSKeyCache()) async -> [StoreReport] {
        await withTaskGroup(of: (Int, StoreReport).self) { group in
            var reports = [StoreReport?](repeating: nil, count: stores.count)
            var next = 0
            func startNext() {
                guard next < stores.count else { return }
                let index = next, store = stores[index]
                next += 1
                group.addTask { (index, await self.check(store, kmsCache: kmsCache)) }
            }
            for _ in 0..<min(maxConcurrentStores, stores.count) { startNext() }
            for await (index, report) in group {
                reports[index] = report
                startNext()
            }
            return reports.compactMap { $0 }
        }
    }

    public func check(_ store: StoreConfig, kmsCache: KMSKeyCache) async -> StoreReport {
        switch store.provider {
        case .aws, .s3:
            return await checkS3(store, kmsCache: kmsCache)
        case .gcp:
            return await checkGCS(store)
        case .azure:
            return StoreReport(name: store.name, provider: store.provider, bucket: store.bucket, prefix: store.prefix, checks: [
                CheckResult(id: "provider", status: .unknown,
                            message: "provider '\(store.provider.rawValue)' is not supported by this version of bucketwatch yet; nothing was read")
            ])
        }
    }

    func checkS3(_ store: StoreConfig, kmsCache: KMSKeyCache) async -> StoreReport {
        func report(_ checks: [CheckResult]) -> StoreReport {
            StoreReport(name: store.name, provider: store.provider, bucket: store.bucket, prefix: store.prefix, checks: checks)
        }
        func allUnknown(_ reason: String) -> StoreReport {
            report(S3Baseline.checkIDs.map { CheckResult(id: $0, status: .unknown, message: reason) })
        }
        let baseline: S3Baseline
        do { baseline = try S3Baseline.resolve(for: store) } catch { return allUnknown(error.description) }

        let region = store.region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        let endpointURL = store.endpoint ?? environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"]
        let endpoint: S3Endpoint
        do {
            endpoint = try S3Endpoint(override: endpointURL, pathStyle: store.pathStyle, bucket: store.bucket, defaultPathStyle: store.provider == .s3)
        } catch {
            return allUnknown("invalid S3 endpoint: \(error)")
        }
        let tls = TLSOptions(caFile: store.caFile, verify: !store.insecureSkipTLSVerify)
        let creds = credentials.provider(profile: store.profile, credentialsFile: store.credentialsFile, region: region)
        let client = S3BucketClient(bucket: store.bucket, region: region, endpoint: endpoint, credentials: creds, http: http,
                                    retry: retry, limits: limits, tls: tls)
        var observed = await S3Reader(client: client).read()

        if baseline.hasKMS, let key = kmsKeyToInspect(store: store, encryption: observed.encryption) {
            let kmsRegion = KMSKeyReference.region(key) ?? client.currentRegion
            let kmsURL = AWSServiceEndpoint.url(service: "kms", region: kmsRegion, environment: environment)
            let reader = KMSReader(endpointURL: kmsURL, region: kmsRegion, credentials: creds, http: http, retry: retry, limits: limits, tls: tls)
            let identity = "\(store.profile ?? "")|\(store.credentialsFile ?? "")|\(kmsURL)"
            observed.kmsKey = await kmsCache.state(key: key, identity: identity) { await reader.read(key: key) }
            // The bucket may name the configured key differently (an alias, a bare key ID):
            // let KMS say whether both are the same key before calling it drift.
            if let configuredARN = observed.kmsKey?.value?.arn, case .value(let rules) = observed.encryption,
               let bucketKey = rules.first?.kmsKeyID, !KMSKeyReference.sameKey(bucketKey, key) {
                let bucketKeyState = await kmsCache.state(key: bucketKey, identity: identity) { await reader.read(key: bucketKey) }
                if let bucketARN = bucketKeyState.value?.arn { observed.resolvedKeyARNs = (configuredARN, bucketARN) }
            }
        }
        return report(S3Evaluator.evaluate(bucket: store.bucket, baseline: baseline, observed: observed))
    }

    func checkGCS(_ store: StoreConfig) async -> StoreReport {
        func report(_ checks: [CheckResult]) -> StoreReport {
            StoreReport(name: store.name, provider: store.provider, bucket: store.bucket, prefix: store.prefix, checks: checks)
        }
        let baseline: GCSBaseline
        do { baseline = try GCSBaseline.resolve(for: store) } catch {
            return report(GCSBaseline.checkIDs.map { CheckResult(id: $0, status: .unknown, message: error.description) })
        }
        let reader = GCSReader(
            baseURL: GCSReader.baseURL(storeEndpoint: store.endpoint, environment: environment), bucket: store.bucket,
            tokens: googleTokens.provider(credentialsFile: store.credentialsFile), http: http, retry: retry, limits: limits,
            tls: TLSOptions(caFile: store.caFile, verify: !store.insecureSkipTLSVerify))
        return report(GCSEvaluator.evaluate(baseline: baseline, observed: await reader.read()))
    }

    /// The configured key if any (the one that must be used), else the key default encryption names.
    func kmsKeyToInspect(store: StoreConfig, encryption: Observation<[EncryptionRule]>) -> String? {
        if let configured = store.kmsKey { return configured }
        guard case .value(let rules) = encryption, let rule = rules.first, rule.algorithm.hasPrefix("aws:kms") else { return nil }
        return rule.kmsKeyID
    }
}
