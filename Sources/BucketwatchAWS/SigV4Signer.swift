import BucketwatchTransport
import Crypto
import Foundation

/// A request to be signed with AWS Signature Version 4 (header-based signing).
///
/// Paths and query items are given DECODED; the signer does all percent-encoding so that
/// the URL that is sent and the canonical request can never disagree.
public struct SigV4Request: Sendable {
    /// HTTP method, e.g. "GET", "POST", "PUT", "HEAD".
    public var method: String
    /// Value of the Host header, including ":port" when the port is not the scheme default.
    public var host: String
    /// Decoded path, e.g. "/", "/my bucket/key" or "/ሴ".
    public var path: String
    /// Decoded query items; `value == nil` is a bare key such as `?cors`.
    public var query: [(name: String, value: String?)]
    /// Extra headers to sign and send. Must not contain Host or X-Amz-Date (the signer adds them).
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(
        method: String,
        host: String,
        path: String,
        query: [(name: String, value: String?)] = [],
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = []
    ) {
        self.method = method
        self.host = host
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }
}

/// The switches where services differ. S3 is the odd one out, so it gets its own preset.
public struct SigV4Options: Sendable, Equatable {
    /// Remove "." / ".." segments and empty segments ("//") before encoding. S3 must not do this:
    /// "a//b" and "a/../b" are distinct, valid S3 keys.
    public var normalizePath: Bool
    /// Send and sign `x-amz-content-sha256` (required by S3 on every SigV4 request).
    public var addContentSHA256Header: Bool
    /// Add `x-amz-security-token` before signing so it is covered by the signature.
    /// When false the token is still sent, just not signed (suite case post-sts-header-after).
    public var signSessionToken: Bool

    public init(normalizePath: Bool, addContentSHA256Header: Bool, signSessionToken: Bool) {
        self.normalizePath = normalizePath
        self.addContentSHA256Header = addContentSHA256Header
        self.signSessionToken = signSessionToken
    }

    /// S3: path kept verbatim (encoded once), payload hash sent in a header, token signed.
    public static let s3 = SigV4Options(normalizePath: false, addContentSHA256Header: true, signSessionToken: true)
    /// Every other service (KMS, STS, ...): path normalised, no payload-hash header, token signed.
    public static let standard = SigV4Options(normalizePath: true, addContentSHA256Header: false, signSessionToken: true)
}

/// The outcome of signing: what to send, plus the intermediate strings for debugging and tests.
public struct SigV4Signed: Sendable {
    /// All headers to send: host, x-amz-date, x-amz-content-sha256 (if any),
    /// x-amz-security-token (if any), the request's own headers, authorization.
    public var headers: [(name: String, value: String)]
    public var canonicalRequest: String
    public var stringToSign: String
    public var signature: String
    /// The canonical URI; build the URL that is sent from it, so the server sees what was signed.
    public var encodedPath: String
    /// The canonical query string; use it verbatim as the URL's query.
    public var canonicalQuery: String
}

/// Signs requests for one service in one region. A value type with no mutable state, so it can be
/// shared freely across tasks.
public struct SigV4Signer: Sendable {
    public let service: String
    public let region: String
    public let options: SigV4Options

    public init(service: String, region: String, options: SigV4Options) {
        self.service = service
        self.region = region
        self.options = options
    }

    public func sign(_ request: SigV4Request, credentials: AWSCredentials, date: Date) -> SigV4Signed {
        let (amzDate, day) = SigV4.timestamps(date)
        let payloadHash = SigV4.hexSHA256(request.body)

        // Headers the signer adds, in the order they are sent.
        var added: [(name: String, value: String)] = [("host", request.host), ("x-amz-date", amzDate)]
        if options.addContentSHA256Header {
            added.append(("x-amz-content-sha256", payloadHash))
        }
        let token = credentials.sessionToken
        if let token, options.signSessionToken {
            added.append(("x-amz-security-token", token))
        }
        let signedInput = added + request.headers
        let (canonicalHeaders, signedHeaders) = SigV4.canonicalHeaders(signedInput)

        let encodedPath = SigV4.canonicalURI(request.path, normalize: options.normalizePath)
        let canonicalQuery = SigV4.canonicalQuery(request.query)
        let canonicalRequest = [
            request.method.uppercased(),
            encodedPath,
            canonicalQuery,
            canonicalHeaders,  // ends with "\n", which gives the mandatory blank line
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")

        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256",
            amzDate,
            scope,
            SigV4.hexSHA256(Array(canonicalRequest.utf8)),
        ].joined(separator: "\n")

        // Key derivation: the secret is only ever an HMAC key, never part of any output string.
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        let signature = SigV4.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))

        var headers = signedInput
        if let token, !options.signSessionToken {
            // Sent but deliberately outside SignedHeaders; insert it where the signed variant would be.
            headers.insert(("x-amz-security-token", token), at: added.count)
        }
        headers.append((
            "authorization",
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
                + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        ))

        return SigV4Signed(
            headers: headers,
            canonicalRequest: canonicalRequest,
            stringToSign: stringToSign,
            signature: signature,
            encodedPath: encodedPath,
            canonicalQuery: canonicalQuery
        )
    }
}

/// The building blocks of SigV4, public where other code (URL building, tests) needs the same rules.
public enum SigV4 {
    /// Percent-encodes per SigV4: RFC 3986 unreserved characters (A-Z a-z 0-9 - _ . ~) stay,
    /// every other UTF-8 byte becomes %XX with uppercase hex (so space is %20, never "+").
    /// `encodeSlash: false` keeps "/" for paths; query names and values use `true`.
    public static func uriEncode(_ s: String, encodeSlash: Bool) -> String {
        PercentEncoding.rfc3986(s, keepSlash: !encodeSlash)
    }

    /// Lowercase hex SHA-256, the form SigV4 uses for payload and canonical-request hashes.
    public static func hexSHA256(_ bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { byte in
            let s = String(byte, radix: 16)
            return byte < 16 ? "0" + s : s
        }.joined()
    }

    /// The canonical URI for a DECODED path.
    ///
    /// AWS describes the non-S3 rule as "encode each segment twice", but that is relative to the
    /// path as it appears on the wire, which is already encoded once. Here the input is the
    /// decoded path, and the suite's vectors (get-space-normalized: "/example space/" ->
    /// "/example%20space/", get-utf8: "/ሴ" -> "/%E1%88%B4") expect exactly one encoding of it.
    /// Encoding once also keeps the canonical URI usable as the path actually sent.
    /// So both modes encode once; `normalize` only decides whether dot/empty segments are removed.
    static func canonicalURI(_ path: String, normalize: Bool) -> String {
        let absolute = path.hasPrefix("/") ? path : "/" + path
        return uriEncode(normalize ? normalizedPath(absolute) : absolute, encodeSlash: false)
    }

    /// RFC 3986 dot-segment removal plus collapsing of empty segments ("//"), as AWS services
    /// do for non-S3 requests. A trailing "/" on the input is kept (botocore's behaviour).
    static func normalizedPath(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(segment)
            }
        }
        var result = "/" + segments.joined(separator: "/")
        if path.hasSuffix("/"), !result.hasSuffix("/") {
            result += "/"
        }
        return result
    }

    /// Encoded `name=value` pairs sorted by encoded name, then encoded value, in byte order.
    /// A bare key (`?lifecycle`) becomes `lifecycle=`.
    static func canonicalQuery(_ items: [(name: String, value: String?)]) -> String {
        items
            .map { (uriEncode($0.name, encodeSlash: true), uriEncode($0.value ?? "", encodeSlash: true)) }
            .sorted { a, b in
                a.0 == b.0 ? a.1.utf8.lexicographicallyPrecedes(b.1.utf8) : a.0.utf8.lexicographicallyPrecedes(b.0.utf8)
            }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Returns the canonical headers block (each "name:value\n", sorted by name) and the
    /// SignedHeaders list. Repeated names are joined with "," in the order given.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (block: String, signed: String) {
        var valuesByName: [String: [String]] = [:]
        for (name, value) in headers {
            valuesByName[name.lowercased(), default: []].append(canonicalHeaderValue(value))
        }
        let names = valuesByName.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let block = names.map { "\($0):\(valuesByName[$0]!.joined(separator: ","))\n" }.joined()
        return (block, names.joined(separator: ";"))
    }

    /// Trims the value and collapses every whitespace run (spaces, tabs, and the line breaks of a
    /// folded multi-line header) to a single space, as the service does before verifying.
    static func canonicalHeaderValue(_ value: String) -> String {
        value.split(whereSeparator: headerWhitespace.contains).joined(separator: " ")
    }

    /// "\r\n" is one Character in Swift, so it is listed alongside "\r" and "\n".
    private static let headerWhitespace: Set<Character> = [" ", "\t", "\n", "\r", "\r\n"]

    /// "yyyyMMdd'T'HHmmss'Z'" and "yyyyMMdd" in UTC. Built from a fresh UTC Gregorian calendar,
    /// a value type, so there is no shared formatter to race on.
    static func timestamps(_ date: Date) -> (amzDate: String, day: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ n: Int?, _ width: Int) -> String {
            let s = String(n ?? 0)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let day = pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2)
        return (day + "T" + pad(c.hour, 2) + pad(c.minute, 2) + pad(c.second, 2) + "Z", day)
    }
}
