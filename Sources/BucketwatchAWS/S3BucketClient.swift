import BucketwatchTransport
import Foundation

/// What came back from one S3 call: a response of any status, or why there was none.
public enum S3Answer: Sendable, Equatable {
    case response(HTTPResponse)
    case failed(String)
}

/// Sends signed GET/HEAD requests to one bucket's S3 API.
///
/// Handles what every S3 call shares: SigV4 with S3's rules, bounded retries on
/// throttling, and the bucket's region. The region starts as configured (or
/// `us-east-1`) and is corrected once from the provider's own redirect signals
/// (301 `PermanentRedirect`, 400 `AuthorizationHeaderMalformed`, `x-amz-bucket-region`),
/// as the AWS SDKs do. The corrected request goes to the regional endpoint we compute,
/// never to a host named in a `Location` header.
public final class S3BucketClient: Sendable {
    public let bucket: String
    let endpoint: S3Endpoint
    let credentials: any AWSCredentialProvider
    let http: any HTTPClient
    let retry: RetryPolicy
    let limits: RequestLimits
    let tls: TLSOptions
    private let region: LockedValue<String>

    public init(bucket: String, region: String, endpoint: S3Endpoint, credentials: any AWSCredentialProvider, http: any HTTPClient,
                retry: RetryPolicy = RetryPolicy(), limits: RequestLimits = RequestLimits(), tls: TLSOptions = TLSOptions()) {
        self.bucket = bucket
        self.endpoint = endpoint
        self.credentials = credentials
        self.http = http
        self.retry = retry
        self.limits = limits
        self.tls = tls
        self.region = LockedValue(region)
    }

    /// The region requests are signed for now (after any correction).
    public var currentRegion: String { region.value }

    /// `GET /?SUBRESOURCE` on the bucket.
    public func get(subresource: String) async -> S3Answer {
        await send(method: "GET", subresource: subresource)
    }

    func send(method: String, subresource: String?) async -> S3Answer {
        for hop in 0..<2 {
            let signingRegion = region.value
            let creds: AWSCredentials
            do { creds = try await credentials.credentials() } catch { return .failed(error.description) }
            let (result, attempts) = await retry.run(
                { await self.sendOnce(method: method, subresource: subresource, region: signingRegion, credentials: creds) },
                isRetryable: { AWSErrorBody.isRetryable($0, json: false) })
            let response: HTTPResponse
            switch result {
            case .failure(let error):
                return .failed(attempts > 1 ? "\(error) after \(attempts) attempts" : error.description)
            case .success(let r):
                response = r
            }
            if hop == 0, let corrected = await regionFromRedirect(response, method: method, signingRegion: signingRegion, credentials: creds),
               corrected != signingRegion {
                region.value = corrected
                continue
            }
            if [301, 302, 303, 307, 308].contains(response.status) {
                return .failed("HTTP \(response.status) redirect not followed: bucketwatch only talks to the bucket's own regional endpoint")
            }
            if AWSErrorBody.isRetryable(.success(response), json: false), attempts > 1 {
                return .failed("\(AWSErrorBody.fromXML(response).summary(status: response.status)), still after \(attempts) attempts")
            }
            return .response(response)
        }
        return .failed("the bucket's region kept changing between requests")
    }

    private func sendOnce(method: String, subresource: String?, region: String, credentials: AWSCredentials) async -> Result<HTTPResponse, TransportError> {
        let address = endpoint.address(bucket: bucket, region: region)
        let signer = SigV4Signer(service: "s3", region: region, options: .s3)
        let signed = signer.sign(
            SigV4Request(method: method, host: address.host, path: address.bucketPath, query: subresource.map { [($0, nil)] } ?? []),
            credentials: credentials, date: Date())
        let query = signed.canonicalQuery.isEmpty ? "" : "?\(signed.canonicalQuery)"
        let request = HTTPRequest(method: method, url: "\(address.scheme)://\(address.host)\(signed.encodedPath)\(query)",
                                  headers: signed.headers, limits: limits, tls: tls)
        do { return .success(try await http.send(request)) } catch { return .failure(error) }
    }

    /// The region S3 says the bucket lives in, when the answer is one of its redirect signals.
    private func regionFromRedirect(_ response: HTTPResponse, method: String, signingRegion: String, credentials: AWSCredentials) async -> String? {
        guard [301, 302, 307, 400].contains(response.status) else { return nil }
        if let header = response.header("x-amz-bucket-region"), !header.isEmpty { return header }
        let error = AWSErrorBody.fromXML(response)
        if response.status == 400, error.code != "AuthorizationHeaderMalformed", error.code != "IllegalLocationConstraintException" {
            return nil
        }
        if let region = error.region, !region.isEmpty { return region }
        if let endpointHost = error.endpoint, let region = Self.region(fromEndpointHost: endpointHost) { return region }
        guard response.status != 400, method != "HEAD" else { return nil }
        // A bare redirect: HeadBucket answers with x-amz-bucket-region whatever our permissions.
        let head = await sendOnce(method: "HEAD", subresource: nil, region: signingRegion, credentials: credentials)
        if case .success(let headResponse) = head, let region = headResponse.header("x-amz-bucket-region"), !region.isEmpty {
            return region
        }
        return nil
    }

    /// `bucket.s3.eu-west-1.amazonaws.com` or `s3-eu-west-1.amazonaws.com` -> `eu-west-1`.
    static func region(fromEndpointHost host: String) -> String? {
        let labels = host.split(separator: ".").map(String.init)
        guard let s3Index = labels.firstIndex(where: { $0 == "s3" || $0.hasPrefix("s3-") }) else { return nil }
        if labels[s3Index].hasPrefix("s3-") { return String(labels[s3Index].dropFirst(3)) }
        let next = s3Index + 1
        guard next < labels.count, labels[next] != "amazonaws" else { return "us-east-1" }
        return labels[next]
    }
}

/// A value behind a lock: small shared state without an actor hop.
final class LockedValue<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
