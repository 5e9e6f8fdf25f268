import BucketwatchCore
import BucketwatchTransport
import Foundation

/// Reads a bucket through the GCS JSON API: the bucket resource (only the fields the
/// baseline needs) and the bucket IAM policy. Two requests per bucket.
public struct GCSReader: Sendable {
    /// e.g. `https://storage.googleapis.com/storage/v1`.
    public let baseURL: String
    public let bucket: String
    let tokens: any GoogleTokenProvider
    let http: any HTTPClient
    let retry: RetryPolicy
    let limits: RequestLimits
    let tls: TLSOptions

    public static let defaultBaseURL = "https://storage.googleapis.com/storage/v1"
    static let fields = "versioning,softDeletePolicy,encryption,cors,iamConfiguration"

    public init(baseURL: String, bucket: String, tokens: any GoogleTokenProvider, http: any HTTPClient,
                retry: RetryPolicy = RetryPolicy(), limits: RequestLimits = RequestLimits(), tls: TLSOptions = TLSOptions()) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.bucket = bucket
        self.tokens = tokens
        self.http = http
        self.retry = retry
        self.limits = limits
        self.tls = tls
    }

    /// `endpoint` from the store, else `STORAGE_EMULATOR_HOST`, else Google's; a bare
    /// `scheme://host:port` gets the JSON API path appended.
    public static func baseURL(storeEndpoint: String?, environment: [String: String]) -> String {
        guard var url = storeEndpoint ?? environment["STORAGE_EMULATOR_HOST"].flatMap({ $0.isEmpty ? nil : $0 }) else { return defaultBaseURL }
        if !url.hasPrefix("http://") && !url.hasPrefix("https://") { url = "http://\(url)" }
        if url.hasSuffix("/") { url.removeLast() }
        if let components = URLComponents(string: url), components.path.isEmpty { url += "/storage/v1" }
        return url
    }

    public func read() async -> GCSObservations {
        let encoded = PercentEncoding.rfc3986(bucket)
        async let bucketAnswer = get("\(baseURL)/b/\(encoded)?fields=\(PercentEncoding.rfc3986(Self.fields))")
        async let iamAnswer = get("\(baseURL)/b/\(encoded)/iam?optionsRequestedPolicyVersion=3")
        let (bucketResult, iamResult) = await (bucketAnswer, iamAnswer)
        return GCSObservations(
            bucket: Self.observation(bucketResult, what: "bucket", parse: GCSParsers.bucket),
            iam: Self.observation(iamResult, what: "bucket IAM policy", parse: GCSParsers.iamPolicy))
    }

    enum Answer: Sendable {
        case response(HTTPResponse)
        case failed(String)
    }

    func get(_ url: String) async -> Answer {
        let token: GoogleAccessToken?
        do { token = try await tokens.token() } catch { return .failed(error.description) }
        var headers: [(name: String, value: String)] = [(name: "Accept", value: "application/json")]
        if let token { headers.append((name: "Authorization", value: "Bearer \(token.value)")) }
        let request = HTTPRequest(url: url, headers: headers, limits: limits, tls: tls)
        let (result, attempts) = await retry.run({
            do throws(TransportError) { return .success(try await http.send(request)) } catch { return .failure(error) }
        }, isRetryable: Self.isRetryable)
        switch result {
        case .failure(let error): return .failed(attempts > 1 ? "\(error) after \(attempts) attempts" : error.description)
        case .success(let response): return .response(response)
        }
    }

    /// Google's retry guidance: 408, 429, every 5xx, and dropped connections.
    static func isRetryable(_ result: Result<HTTPResponse, TransportError>) -> Bool {
        switch result {
        case .failure(.connectionFailed): true
        case .failure: false
        case .success(let response): response.status == 408 || response.status == 429 || response.status >= 500
        }
    }

    static func observation<T>(_ answer: Answer, what: String, parse: ([UInt8]) -> T?) -> Observation<T> {
        switch answer {
        case .failed(let reason):
            return .unreadable(reason)
        case .response(let response) where response.status == 200:
            guard let value = parse(response.body) else { return .unreadable("unparsable \(what) response (HTTP 200)") }
            return .value(value)
        case .response(let response) where response.status == 404:
            return .bucketMissing
        case .response(let response):
            return .unreadable(GCSParsers.errorSummary(response))
        }
    }
}

/// JSON bodies of the GCS JSON API. Tolerant of what Google is known to send (64-bit
/// integers as strings) and strict about shape: anything else is `nil`, never a trap.
enum GCSParsers {
    static func object(_ body: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    static func int64(_ value: Any?) -> Int64? {
        if let text = value as? String { return Int64(text) }
        if let number = value as? NSNumber { return Int64(exactly: number.doubleValue) }
        return nil
    }

    static func strings(_ value: Any?) -> [String] {
        (value as? [Any])?.compactMap { $0 as? String } ?? []
    }

    static func bucket(_ body: [UInt8]) -> GCSBucket? {
        guard let root = object(body) else { return nil }
        var bucket = GCSBucket()
        if let versioning = root["versioning"] as? [String: Any] { bucket.versioningEnabled = versioning["enabled"] as? Bool }
        if let policy = root["softDeletePolicy"] as? [String: Any] {
            bucket.softDeleteRetentionSeconds = int64(policy["retentionDurationSeconds"]) ?? 0
        }
        if let encryption = root["encryption"] as? [String: Any] { bucket.defaultKMSKeyName = encryption["defaultKmsKeyName"] as? String }
        if let cors = root["cors"] {
            guard let entries = cors as? [Any] else { return nil }
            bucket.cors = entries.compactMap { $0 as? [String: Any] }.map { entry in
                GCSCORSEntry(origin: strings(entry["origin"]), method: strings(entry["method"]),
                             responseHeader: strings(entry["responseHeader"]), maxAgeSeconds: int64(entry["maxAgeSeconds"]).map { Int($0) })
            }
        }
        if let iam = root["iamConfiguration"] as? [String: Any] {
            bucket.publicAccessPrevention = iam["publicAccessPrevention"] as? String
            bucket.uniformBucketLevelAccess = (iam["uniformBucketLevelAccess"] as? [String: Any])?["enabled"] as? Bool
        }
        return bucket
    }

    static func iamPolicy(_ body: [UInt8]) -> GCSIAMPolicy? {
        guard let root = object(body) else { return nil }
        guard let raw = root["bindings"] else { return GCSIAMPolicy(bindings: []) }
        guard let list = raw as? [Any] else { return nil }
        var bindings: [GCSIAMPolicy.Binding] = []
        for item in list {
            guard let binding = item as? [String: Any], let role = binding["role"] as? String else { return nil }
            var condition: String?
            if let c = binding["condition"] as? [String: Any] {
                condition = (c["title"] as? String) ?? (c["expression"] as? String) ?? "condition"
            }
            bindings.append(GCSIAMPolicy.Binding(role: role, members: strings(binding["members"]), condition: condition))
        }
        return GCSIAMPolicy(bindings: bindings)
    }

    /// `{"error": {"code": 403, "message": "...", "errors": [{"reason": "forbidden"}]}}` -> a finding.
    static func errorSummary(_ response: HTTPResponse) -> String {
        let error = object(response.body)?["error"] as? [String: Any]
        let reason = ((error?["errors"] as? [Any])?.first as? [String: Any])?["reason"] as? String
        let message = error?["message"] as? String
        return ["HTTP \(response.status)", reason, message.map { ": \($0)" }].compactMap { $0 }.joined(separator: " ")
            .replacingOccurrences(of: " :", with: ":")
    }
}
