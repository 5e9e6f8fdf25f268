import BucketwatchTransport
import Foundation

/// Counts provider requests by operation and outcome for /metrics, around any client.
///
/// The operation is read off the request itself (S3 sub-resource, KMS `X-Amz-Target`,
/// credential endpoints), so readers stay unaware of metrics. URLs and headers are never
/// copied into labels: only the fixed operation names below can appear.
public struct MeteredHTTPClient: HTTPClient {
    let inner: any HTTPClient
    let metrics: MetricsState

    public init(_ inner: any HTTPClient, metrics: MetricsState) {
        self.inner = inner
        self.metrics = metrics
    }

    public func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let (service, operation) = Self.classify(request)
        do {
            let response = try await inner.send(request)
            await metrics.requestFinished(service: service, operation: operation, outcome: Self.outcome(status: response.status))
            return response
        } catch {
            await metrics.requestFinished(service: service, operation: operation, outcome: Self.outcome(error: error))
            throw error
        }
    }

    static let s3Operations = [
        "versioning": "GetBucketVersioning", "cors": "GetBucketCors", "encryption": "GetBucketEncryption",
        "policy": "GetBucketPolicy", "publicAccessBlock": "GetPublicAccessBlock", "location": "GetBucketLocation",
    ]

    /// Label values come from these fixed sets only, never from the request itself.
    static let kmsOperations: Set<String> = ["DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus"]

    static func classify(_ request: HTTPRequest) -> (service: String, operation: String) {
        if let target = request.headers.first(where: { $0.name.lowercased() == "x-amz-target" })?.value {
            let operation = target.split(separator: ".").last.map(String.init) ?? ""
            return ("kms", kmsOperations.contains(operation) ? operation : "other")
        }
        if request.url.contains("/latest/api/token") || request.url.contains("/latest/meta-data/") { return ("imds", "GetCredentials") }
        if String(decoding: request.body.prefix(64), as: UTF8.self).hasPrefix("Action=AssumeRoleWithWebIdentity") {
            return ("sts", "AssumeRoleWithWebIdentity")
        }
        if let query = URLComponents(string: request.url)?.queryItems?.first?.name, let operation = s3Operations[query] {
            return ("s3", operation)
        }
        if request.method == "HEAD" { return ("s3", "HeadBucket") }
        return ("other", "other")
    }

    static func outcome(status: Int) -> String {
        switch status {
        case 200..<300: "success"
        case 429, 503: "throttled"
        case 300..<400: "redirect"
        case 400..<500: "client_error"
        default: "server_error"
        }
    }

    static func outcome(error: TransportError) -> String {
        switch error {
        case .timedOut: "timeout"
        case .cancelled: "cancelled"
        case .responseTooLarge: "too_large"
        default: "transport_error"
        }
    }
}
