/// One HTTP request as bucketwatch sends it. Every request carries its own limits:
/// there is no way to send one without a timeout or a size cap.
public struct HTTPRequest: Sendable {
    public var method: String
    /// Absolute `http://` or `https://` URL, already percent-encoded.
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var limits: RequestLimits
    public var tls: TLSOptions

    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = [],
                limits: RequestLimits = RequestLimits(), tls: TLSOptions = TLSOptions()) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.limits = limits
        self.tls = tls
    }
}

public struct RequestLimits: Sendable, Equatable {
    public var connectTimeout: Duration
    /// The whole exchange, from DNS to the last body byte.
    public var totalTimeout: Duration
    /// Responses larger than this are cut off and reported as `TransportError.responseTooLarge`.
    public var maxResponseBytes: Int

    public init(connectTimeout: Duration = .seconds(5), totalTimeout: Duration = .seconds(20), maxResponseBytes: Int = 1 << 20) {
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.maxResponseBytes = maxResponseBytes
    }
}

/// TLS settings. Verification is on unless a store's config turns it off explicitly.
public struct TLSOptions: Sendable, Equatable {
    /// Extra CA bundle (PEM file) to trust instead of the system store.
    public var caFile: String?
    public var verify: Bool

    public init(caFile: String? = nil, verify: Bool = true) {
        self.caFile = caFile
        self.verify = verify
    }
}

public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    /// Header names lower-cased, in arrival order.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name == lower }?.value
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    public static func == (lhs: HTTPResponse, rhs: HTTPResponse) -> Bool {
        lhs.status == rhs.status && lhs.body == rhs.body
            && lhs.headers.map { "\($0.name):\($0.value)" } == rhs.headers.map { "\($0.name):\($0.value)" }
    }
}

/// Why no HTTP response arrived. Descriptions are safe to log: they name hosts, never
/// headers, bodies or query strings (which could carry signatures).
public enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    case timedOut(String)
    case connectionFailed(String)
    case tls(String)
    case responseTooLarge(limit: Int)
    case invalidRequest(String)
    case cancelled
    case failed(code: Int, message: String)

    public var description: String {
        switch self {
        case .timedOut(let detail): "timed out (\(detail))"
        case .connectionFailed(let detail): "connection failed (\(detail))"
        case .tls(let detail): "TLS failure (\(detail))"
        case .responseTooLarge(let limit): "response larger than the \(limit)-byte limit"
        case .invalidRequest(let detail): "invalid request (\(detail))"
        case .cancelled: "cancelled"
        case .failed(let code, let message): "transfer failed (curl \(code): \(message))"
        }
    }
}

/// Anything that can send an `HTTPRequest`. Readers depend on this, not on libcurl,
/// so their tests can use a scripted client.
public protocol HTTPClient: Sendable {
    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse
}
