import Foundation
import Testing

@testable import BucketwatchAWS

// MARK: - The AWS SigV4 test suite (aws-c-auth format)

/// Reads the shared copy of the suite at run time. Repo root is three levels up from this file
/// (Tests/BucketwatchAWSTests/SigV4SignerTests.swift); the suite sits beside the repo.
enum SigV4Suite {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/testdata/aws-sigv4-test-suite")
        .standardizedFileURL

    /// Every folder with a context.json. No case is skipped: all of them are expressible through
    /// SigV4Request/SigV4Options.
    static let caseNames: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter {
            FileManager.default.fileExists(atPath: directory.appendingPathComponent("\($0)/context.json").path)
        }.sorted()
    }()

    static func text(_ caseName: String, _ file: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent("\(caseName)/\(file)"), encoding: .utf8)
    }

    /// context.json, e.g. {"credentials": {...}, "normalize": true, "sign_body": false, ...}
    struct Context: Decodable {
        struct Credentials: Decodable {
            var accessKeyId: String
            var secretAccessKey: String
            var token: String?
        }
        var credentials: Credentials
        var normalize: Bool
        var region: String
        var service: String
        var signBody: Bool
        var timestamp: String
        var omitSessionToken: Bool?
    }

    static func context(_ caseName: String) throws -> Context {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Context.self, from: Data(try text(caseName, "context.json").utf8))
    }

    /// Parses request.txt: request line, headers (a line starting with whitespace continues the
    /// previous header's value), blank line, body.
    ///
    /// The request-line path is used as the decoded path as-is (no suite path contains "%");
    /// query items are percent-decoded because get-vanilla-query-order-encoded writes one in
    /// wire form (%E1%88%B4) and the API takes decoded items.
    static func request(_ caseName: String) throws -> SigV4Request {
        let raw = try Data(contentsOf: directory.appendingPathComponent("\(caseName)/request.txt"))
        let bytes = [UInt8](raw)
        var head = bytes[...]
        var body: [UInt8] = []
        if let blank = bytes.indices.first(where: { bytes[$0...].starts(with: Array("\n\n".utf8)) }) {
            head = bytes[..<(blank + 1)]
            body = Array(bytes[(blank + 2)...])
        }
        var lines = String(decoding: head, as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        while lines.last == "" { lines.removeLast() }

        // "GET /example space/ HTTP/1.1": the target may itself contain spaces.
        let requestLine = lines.removeFirst()
        let firstSpace = requestLine.firstIndex(of: " ")!
        let lastSpace = requestLine.lastIndex(of: " ")!
        let method = String(requestLine[..<firstSpace])
        let target = String(requestLine[requestLine.index(after: firstSpace)..<lastSpace])
        let (path, queryString) = target.firstIndex(of: "?").map {
            (String(target[..<$0]), String(target[target.index(after: $0)...]))
        } ?? (target, "")
        let query: [(name: String, value: String?)] = queryString.split(separator: "&").map { item in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (s: Substring) in s.removingPercentEncoding ?? String(s) }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : nil)
        }

        var host = ""
        var headers: [(name: String, value: String)] = []
        for line in lines {
            if line.first == " " || line.first == "\t" {
                headers[headers.count - 1].value += "\n" + line  // folded; the signer collapses it
                continue
            }
            let colon = line.firstIndex(of: ":")!
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        if let i = headers.firstIndex(where: { $0.name.lowercased() == "host" }) {
            host = headers.remove(at: i).value.trimmingCharacters(in: .whitespaces)
        }
        return SigV4Request(method: method, host: host, path: path, query: query, headers: headers, body: body)
    }
}

@Suite("AWS SigV4 test suite")
struct SigV4SuiteTests {
    @Test("the suite is present and complete")
    func suiteIsPresent() {
        #expect(SigV4Suite.caseNames.count > 30, "suite not found or incomplete at \(SigV4Suite.directory.path)")
    }

    @Test("header signing matches the vectors", arguments: SigV4Suite.caseNames)
    func vector(_ caseName: String) throws {
        let context = try SigV4Suite.context(caseName)
        let request = try SigV4Suite.request(caseName)
        let options = SigV4Options(
            normalizePath: context.normalize,
            addContentSHA256Header: context.signBody,  // sign_body: x-amz-content-sha256 added and signed
            signSessionToken: !(context.omitSessionToken ?? false)
        )
        let credentials = AWSCredentials(
            accessKeyID: context.credentials.accessKeyId,
            secretAccessKey: context.credentials.secretAccessKey,
            sessionToken: context.credentials.token
        )
        let date = try #require(ISO8601DateFormatter().date(from: context.timestamp))

        let signed = SigV4Signer(service: context.service, region: context.region, options: options)
            .sign(request, credentials: credentials, date: date)

        #expect(signed.canonicalRequest == (try SigV4Suite.text(caseName, "header-canonical-request.txt")))
        #expect(signed.stringToSign == (try SigV4Suite.text(caseName, "header-string-to-sign.txt")))
        #expect(signed.signature == (try SigV4Suite.text(caseName, "header-signature.txt")))
        expectNoSecret(signed, credentials.secretAccessKey)
    }
}

// MARK: - S3

/// AWS S3 API reference, "Examples: Signature Calculations" (provider-apis.md §3.2).
enum S3Example {
    static let credentials = AWSCredentials(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    )
    static let date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    static let signer = SigV4Signer(service: "s3", region: "us-east-1", options: .s3)

    static func get(path: String = "/", query: [(name: String, value: String?)]) -> SigV4Signed {
        signer.sign(
            SigV4Request(method: "GET", host: "examplebucket.s3.amazonaws.com", path: path, query: query),
            credentials: credentials, date: date)
    }
}

@Suite("S3 signing")
struct S3SigningTests {
    @Test func getBucketLifecycle() {
        let signed = S3Example.get(query: [("lifecycle", nil)])
        #expect(signed.canonicalQuery == "lifecycle=")
        #expect(SigV4.hexSHA256(Array(signed.canonicalRequest.utf8))
            == "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca")
        #expect(signed.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
        #expect(authorization(signed) == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
            + "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test func listObjects() {
        let signed = S3Example.get(query: [("max-keys", "2"), ("prefix", "J")])
        #expect(signed.canonicalQuery == "max-keys=2&prefix=J")
        #expect(signed.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func s3PathIsNotNormalisedAndEncodedOnce() {
        #expect(S3Example.get(path: "/a/../b", query: []).encodedPath == "/a/../b")
        #expect(S3Example.get(path: "/a//b/./c", query: []).encodedPath == "/a//b/./c")
        #expect(S3Example.get(path: "/my key", query: []).encodedPath == "/my%20key")
        #expect(S3Example.get(path: "/dir/ሴ+x", query: []).encodedPath == "/dir/%E1%88%B4%2Bx")

        let standard = SigV4Signer(service: "service", region: "us-east-1", options: .standard)
        let request = SigV4Request(method: "GET", host: "example.amazonaws.com", path: "/a/../b")
        #expect(standard.sign(request, credentials: S3Example.credentials, date: S3Example.date).encodedPath == "/b")
    }

    @Test func s3SignsContentSHA256AndSessionToken() {
        var credentials = S3Example.credentials
        credentials.sessionToken = "FQoGZXIvYXdzE//token=="
        let body = Array("hello".utf8)
        let signed = S3Example.signer.sign(
            SigV4Request(method: "PUT", host: "examplebucket.s3.amazonaws.com", path: "/k",
                         headers: [("Content-Type", "text/plain")], body: body),
            credentials: credentials, date: S3Example.date)

        let hash = SigV4.hexSHA256(body)
        #expect(signed.headers.map(\.name)
            == ["host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "Content-Type", "authorization"])
        #expect(value(signed, "x-amz-content-sha256") == hash)
        #expect(value(signed, "x-amz-security-token") == "FQoGZXIvYXdzE//token==")
        #expect(signed.canonicalRequest.contains("\nx-amz-content-sha256:\(hash)\n"))
        #expect(signed.canonicalRequest.contains("\nx-amz-security-token:FQoGZXIvYXdzE//token==\n"))
        #expect(signed.canonicalRequest.hasSuffix(
            "\ncontent-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token\n\(hash)"))
        #expect(authorization(signed)?.contains(
            "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token,") == true)
        expectNoSecret(signed, credentials.secretAccessKey)
    }
}

// MARK: - Building blocks and safety

@Suite("SigV4 building blocks")
struct SigV4BuildingBlockTests {
    @Test func uriEncode() {
        #expect(SigV4.uriEncode("AZaz09-_.~", encodeSlash: true) == "AZaz09-_.~")
        #expect(SigV4.uriEncode("a b+c=d&e/f", encodeSlash: true) == "a%20b%2Bc%3Dd%26e%2Ff")
        #expect(SigV4.uriEncode("a b/f", encodeSlash: false) == "a%20b/f")
        #expect(SigV4.uriEncode("ሴ", encodeSlash: true) == "%E1%88%B4")
    }

    @Test func hexSHA256OfEmptyBody() {
        #expect(SigV4.hexSHA256([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func queryIsSortedByEncodedNameThenValue() {
        let query = SigV4.canonicalQuery([("b", "2"), ("a", "z"), ("a", "y"), ("cors", nil), ("A", "1")])
        #expect(query == "A=1&a=y&a=z&b=2&cors=")
    }

    @Test func amzDateIsUTCAndZeroPadded() {
        // 2001-02-03T04:05:06.9Z: single-digit fields padded, fractional seconds dropped.
        let (amzDate, day) = SigV4.timestamps(Date(timeIntervalSince1970: 981_173_106.9))
        #expect(amzDate == "20010203T040506Z")
        #expect(day == "20010203")
    }

    @Test func unsignedSessionTokenIsStillSent() {
        let options = SigV4Options(normalizePath: true, addContentSHA256Header: false, signSessionToken: false)
        let credentials = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "s3cr3t-KEY", sessionToken: "tok")
        let signed = SigV4Signer(service: "sts", region: "us-east-1", options: options)
            .sign(SigV4Request(method: "POST", host: "sts.amazonaws.com", path: "/"), credentials: credentials, date: S3Example.date)
        #expect(signed.headers.map(\.name) == ["host", "x-amz-date", "x-amz-security-token", "authorization"])
        #expect(!signed.canonicalRequest.contains("x-amz-security-token"))
        expectNoSecret(signed, credentials.secretAccessKey)
    }

    /// The signer is a Sendable value with no shared mutable state: concurrent use gives one answer.
    @Test func concurrentSigningIsConsistent() async {
        let signatures = await withTaskGroup(of: String.self) { group in
            for _ in 0..<64 {
                group.addTask { S3Example.get(query: [("lifecycle", nil)]).signature }
            }
            return await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(signatures == ["fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"])
    }
}

// MARK: - Helpers

/// The secret is only an HMAC key: it must not leak into anything that is sent or logged.
func expectNoSecret(_ signed: SigV4Signed, _ secret: String, sourceLocation: SourceLocation = #_sourceLocation) {
    for header in signed.headers {
        #expect(!header.name.contains(secret) && !header.value.contains(secret), sourceLocation: sourceLocation)
    }
    #expect(!signed.canonicalRequest.contains(secret), sourceLocation: sourceLocation)
    #expect(!signed.stringToSign.contains(secret), sourceLocation: sourceLocation)
}

func value(_ signed: SigV4Signed, _ name: String) -> String? {
    signed.headers.first { $0.name == name }?.value
}

func authorization(_ signed: SigV4Signed) -> String? {
    value(signed, "authorization")
}
