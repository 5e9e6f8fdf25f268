import BucketwatchCore
import BucketwatchTransport
import Foundation

/// Reads a KMS key's metadata (`DescribeKey`) and key policy (`GetKeyPolicy`) over the
/// JSON 1.1 protocol.
public struct KMSReader: Sendable {
    let endpointURL: String
    let region: String
    let credentials: any AWSCredentialProvider
    let http: any HTTPClient
    let retry: RetryPolicy
    let limits: RequestLimits
    let tls: TLSOptions

    public init(endpointURL: String, region: String, credentials: any AWSCredentialProvider, http: any HTTPClient,
                retry: RetryPolicy = RetryPolicy(), limits: RequestLimits = RequestLimits(), tls: TLSOptions = TLSOptions()) {
        self.endpointURL = endpointURL
        self.region = region
        self.credentials = credentials
        self.http = http
        self.retry = retry
        self.limits = limits
        self.tls = tls
    }

    public func read(key: String) async -> Observation<KMSKeyState> {
        let described = await call("DescribeKey", ["KeyId": key])
        let object: [String: Any]
        switch described {
        case .failure(let failure): return failure.observation()
        case .success(let o): object = o
        }
        guard let metadata = object["KeyMetadata"] as? [String: Any], let arn = metadata["Arn"] as? String,
              let enabled = metadata["Enabled"] as? Bool, let keyState = metadata["KeyState"] as? String,
              let keyUsage = metadata["KeyUsage"] as? String
        else {
            return .unreadable("unparsable DescribeKey response")
        }
        let policy: Observation<PolicyDocument>
        switch await call("GetKeyPolicy", ["KeyId": arn, "PolicyName": "default"]) {
        case .failure(let failure):
            policy = failure.observation()
        case .success(let object):
            if let text = object["Policy"] as? String, let document = try? PolicyDocument.parse(Array(text.utf8)) {
                policy = .value(document)
            } else {
                policy = .unreadable("unparsable GetKeyPolicy response")
            }
        }
        return .value(KMSKeyState(
            arn: arn, accountID: (metadata["AWSAccountId"] as? String) ?? Self.account(ofARN: arn) ?? "",
            enabled: enabled, keyState: keyState, keyUsage: keyUsage, keyManager: metadata["KeyManager"] as? String,
            policy: policy))
    }

    /// Why a KMS call gave no document: `NotFoundException` (the key does not exist) or not readable.
    struct CallFailure: Error {
        var notFound = false
        var reason: String

        func observation<T>() -> Observation<T> {
            notFound ? .notConfigured(reason) : .unreadable(reason)
        }
    }

    private func call(_ operation: String, _ body: [String: String]) async -> Result<[String: Any], CallFailure> {
        let creds: AWSCredentials
        do { creds = try await credentials.credentials() } catch { return .failure(CallFailure(reason: error.description)) }
        guard let host = AWSServiceEndpoint.host(of: endpointURL), let components = URLComponents(string: endpointURL) else {
            return .failure(CallFailure(reason: "invalid KMS endpoint"))
        }
        let payload = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])).map { Array($0) } ?? []
        let path = components.path.isEmpty ? "/" : components.path
        let (result, attempts) = await retry.run({
            let signed = SigV4Signer(service: "kms", region: region, options: .standard).sign(
                SigV4Request(method: "POST", host: host, path: path, headers: [
                    (name: "Content-Type", value: "application/x-amz-json-1.1"),
                    (name: "X-Amz-Target", value: "TrentService.\(operation)"),
                ], body: payload),
                credentials: creds, date: Date())
            let url = "\(components.scheme ?? "https")://\(host)\(signed.encodedPath)"
            let request = HTTPRequest(method: "POST", url: url, headers: signed.headers, body: payload, limits: limits, tls: tls)
            do throws(TransportError) {
                return .success(try await http.send(request))
            } catch {
                return .failure(error)
            }
        }, isRetryable: { AWSErrorBody.isRetryable($0, json: true) })
        switch result {
        case .failure(let error):
            return .failure(CallFailure(reason: "KMS \(operation): \(error)"))
        case .success(let response) where response.status == 200:
            guard let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] else {
                return .failure(CallFailure(reason: "KMS \(operation): unparsable response"))
            }
            return .success(object)
        case .success(let response):
            let error = AWSErrorBody.fromJSON(response)
            let summary = "KMS \(operation): \(error.summary(status: response.status))" + (attempts > 1 ? " after \(attempts) attempts" : "")
            if error.code == "NotFoundException" { return .failure(CallFailure(notFound: true, reason: summary)) }
            return .failure(CallFailure(reason: summary))
        }
    }

    static func account(ofARN arn: String) -> String? {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count >= 5 ? String(parts[4]) : nil
    }
}

/// One sweep's KMS answers: each distinct key is read once, however many buckets use it.
///
/// `check` makes one cache per run. The daemon reads stores on staggered timers, so there a
/// "sweep" is a time window: entries older than `maxAge` are read again.
public actor KMSKeyCache {
    private var entries: [String: (task: Task<Observation<KMSKeyState>, Never>, created: ContinuousClock.Instant)] = [:]
    private let maxAge: Duration?
    public private(set) var reads = 0

    public init(maxAge: Duration? = nil) {
        self.maxAge = maxAge
    }

    /// `identity` separates keys read with different credentials or endpoints.
    public func state(key: String, identity: String, read: @escaping @Sendable () async -> Observation<KMSKeyState>) async -> Observation<KMSKeyState> {
        let cacheKey = "\(identity)|\(key)"
        let now = ContinuousClock.now
        if let existing = entries[cacheKey], maxAge.map({ existing.created + $0 > now }) ?? true {
            return await existing.task.value
        }
        reads += 1
        let task = Task { await read() }
        entries[cacheKey] = (task, now)
        return await task.value
    }
}
