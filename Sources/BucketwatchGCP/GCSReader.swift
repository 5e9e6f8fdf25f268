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
        case .response(let response) where response.status == 404 && GCSParsers.isNoSuchBucket(response):
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

    /// JSON `true`/`false`. Foundation hands every JSON number back as an NSNumber that also
    /// casts to Bool (0 and 1 included), so booleans are told apart by their storage type.
    static func isJSONBool(_ value: Any?) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    /// A 64-bit integer sent as a string (Google's int64 encoding) or a number; never a boolean.
    static func int64(_ value: Any?) -> Int64? {
        if let text = value as? String { return Int64(text) }
        if isJSONBool(value) { return nil }
        if let number = value as? NSNumber { return Int64(exactly: number.doubleValue) }
        return nil
    }

    static func strings(_ value: Any?) -> [String] {
        (value as? [Any])?.compactMap { $0 as? String } ?? []
    }

    /// A list of strings, or `nil` when the field holds anything else.
    static func stringList(_ value: Any?) -> [String]? {
        guard let list = value as? [Any] else { return nil }
        let strings = list.compactMap { $0 as? String }
        return strings.count == list.count ? strings : nil
    }

    /// Parses the bucket resource. A field that is present with the wrong type makes the whole
    /// answer unparsable (`nil` -> `unknown`), never "absent" (which would read as drift).
    static func bucket(_ body: [UInt8]) -> GCSBucket? {
        guard let root = object(body) else { return nil }
        var bucket = GCSBucket()
        if let raw = root["versioning"] {
            guard let versioning = raw as? [String: Any] else { return nil }
            if let enabled = versioning["enabled"] {
                guard isJSONBool(enabled), let flag = enabled as? Bool else { return nil }
                bucket.versioningEnabled = flag
            }
        }
        if let raw = root["softDeletePolicy"] {
            guard let policy = raw as? [String: Any] else { return nil }
            if let duration = policy["retentionDurationSeconds"] {
                guard let seconds = int64(duration) else { return nil }
                bucket.softDeleteRetentionSeconds = seconds
            } else {
                bucket.softDeleteRetentionSeconds = 0
            }
        }
        if let raw = root["encryption"] {
            guard let encryption = raw as? [String: Any] else { return nil }
            if let key = encryption["defaultKmsKeyName"] {
                guard let name = key as? String else { return nil }
                bucket.defaultKMSKeyName = name
            }
        }
        if let raw = root["cors"] {
            guard let entries = raw as? [Any] else { return nil }
            var parsed: [GCSCORSEntry] = []
            for item in entries {
                guard let entry = item as? [String: Any] else { return nil }
                func list(_ key: String) -> [String]?? {
                    guard let value = entry[key] else { return .some(nil) }
                    return stringList(value).map { .some($0) } ?? nil
                }
                guard let origin = list("origin"), let method = list("method"), let header = list("responseHeader") else { return nil }
                var maxAge: Int?
                if let rawAge = entry["maxAgeSeconds"] {
                    guard let age = int64(rawAge) else { return nil }
                    maxAge = Int(clamping: age)
                }
                parsed.append(GCSCORSEntry(origin: origin ?? [], method: method ?? [], responseHeader: header ?? [], maxAgeSeconds: maxAge))
            }
            bucket.cors = parsed
        }
        if let raw = root["iamConfiguration"] {
            guard let iam = raw as? [String: Any] else { return nil }
            if let prevention = iam["publicAccessPrevention"] {
                guard let text = prevention as? String else { return nil }
                bucket.publicAccessPrevention = text
            }
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
            // Wrong types make the policy unreadable: read as "no members" or "no condition"
            // they would turn into a false compliant.
            var members: [String] = []
            if let raw = binding["members"] {
                guard let list = stringList(raw) else { return nil }
                members = list
            }
            var condition: String?
            if let raw = binding["condition"] {
                guard let c = raw as? [String: Any] else { return nil }
                condition = (c["title"] as? String) ?? (c["expression"] as? String) ?? "condition"
            }
            bindings.append(GCSIAMPolicy.Binding(role: role, members: members, condition: condition))
        }
        return GCSIAMPolicy(bindings: bindings)
    }

    /// A 404 means "no such bucket" only when GCS says so (JSON error, reason `notFound`) or the
    /// body is empty (the emulator). A proxy's or a wrong path's 404 page proves nothing.
    static func isNoSuchBucket(_ response: HTTPResponse) -> Bool {
        if response.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return true }
        let error = object(response.body)?["error"] as? [String: Any]
        let reason = ((error?["errors"] as? [Any])?.first as? [String: Any])?["reason"] as? String
        return reason == "notFound"
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
