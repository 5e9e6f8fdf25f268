import Foundation

/// Where a bucket's S3 API lives, and how to address it.
///
/// Virtual-host style (`BUCKET.s3.REGION.amazonaws.com`) is AWS's default; path style
/// (`host/BUCKET`) is used when configured, for S3-compatible stores, and for dotted
/// bucket names, whose virtual hosts break TLS wildcard certificates.
public struct S3Endpoint: Sendable, Equatable {
    /// Configured endpoint (store `endpoint`, else `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`);
    /// `nil` means AWS's regional endpoints.
    public var override: URLComponents?
    public var pathStyle: Bool

    public init(override: String?, pathStyle: Bool?, bucket: String, defaultPathStyle: Bool) throws(EndpointError) {
        if let override {
            guard let components = URLComponents(string: override), let scheme = components.scheme,
                  scheme == "http" || scheme == "https", components.host?.isEmpty == false
            else { throw EndpointError(reason: "endpoint must be an http:// or https:// URL with a host") }
            self.override = components
        } else {
            self.override = nil
        }
        self.pathStyle = pathStyle ?? (defaultPathStyle || bucket.contains("."))
    }

    /// Scheme, `Host` header value and the path of the bucket's root for one region.
    public func address(bucket: String, region: String) -> (scheme: String, host: String, bucketPath: String) {
        let scheme: String, baseHost: String
        if let override {
            scheme = override.scheme ?? "https"
            baseHost = override.host! + (override.port.map { ":\($0)" } ?? "")
        } else {
            scheme = "https"
            let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
            baseHost = "s3.\(region).\(suffix)"
        }
        let basePath = override.map { $0.path.hasSuffix("/") ? String($0.path.dropLast()) : $0.path } ?? ""
        if pathStyle {
            return (scheme, baseHost, "\(basePath)/\(bucket)")
        }
        return (scheme, "\(bucket).\(baseHost)", basePath.isEmpty ? "/" : basePath)
    }

    public struct EndpointError: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }
}

/// Service endpoints other than S3, following the SDKs' environment variables.
public enum AWSServiceEndpoint {
    /// `AWS_ENDPOINT_URL_<SERVICE>` beats `AWS_ENDPOINT_URL`, which beats the regional default.
    public static func url(service: String, region: String, environment: [String: String]) -> String {
        if let specific = environment["AWS_ENDPOINT_URL_\(service.uppercased())"], !specific.isEmpty { return specific }
        if let general = environment["AWS_ENDPOINT_URL"], !general.isEmpty { return general }
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return "https://\(service).\(region).\(suffix)"
    }

    /// The `Host` header value of an endpoint URL.
    public static func host(of url: String) -> String? {
        guard let components = URLComponents(string: url), let host = components.host else { return nil }
        return host + (components.port.map { ":\($0)" } ?? "")
    }
}
