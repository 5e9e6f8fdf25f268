import BucketwatchCore
import BucketwatchTransport
import Foundation
import Testing

@testable import BucketwatchAWS

/// A transfer's outcome as a value.
func transfer(_ client: any HTTPClient, _ request: HTTPRequest) async -> Result<HTTPResponse, TransportError> {
    do {
        return .success(try await client.send(request))
    } catch {
        return .failure(error)
    }
}

func path(_ endpoint: String, bucket: String, pathStyle: Bool = true) throws -> S3Endpoint {
    try S3Endpoint(override: endpoint, pathStyle: pathStyle, bucket: bucket, defaultPathStyle: false)
}

// MARK: - RetryPolicy with real transfers

/// RetryPolicy.run with CurlHTTPClient against `/flaky/KEY`, deciding with S3's rules
/// (`AWSErrorBody.isRetryable`). Each case uses its own KEY, so cases run in parallel.
@Suite("RetryPolicy against the fault server")
struct RetryPolicyFaultTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var fail: Int
        var status: Int
        var code: String
        var maxAttempts: Int = 3
        var expectedAttempts: Int
        var expectedStatus: Int
        var testDescription: String { "\(fail) x \(status) \(code), maxAttempts \(maxAttempts)" }
    }

    static let cases: [Case] = [
        Case(fail: 2, status: 503, code: "SlowDown", expectedAttempts: 3, expectedStatus: 200),
        Case(fail: 5, status: 503, code: "SlowDown", expectedAttempts: 3, expectedStatus: 503),
        Case(fail: 1, status: 429, code: "TooManyRequests", expectedAttempts: 2, expectedStatus: 200),
        Case(fail: 1, status: 400, code: "ThrottlingException", expectedAttempts: 2, expectedStatus: 200),
        Case(fail: 1, status: 400, code: "RequestTimeout", expectedAttempts: 2, expectedStatus: 200),
        Case(fail: 1, status: 500, code: "InternalError", expectedAttempts: 2, expectedStatus: 200),
        Case(fail: 1, status: 403, code: "AccessDenied", expectedAttempts: 1, expectedStatus: 403),
        Case(fail: 1, status: 400, code: "InvalidArgument", expectedAttempts: 1, expectedStatus: 400),
        Case(fail: 1, status: 404, code: "NoSuchBucket", expectedAttempts: 1, expectedStatus: 404),
        Case(fail: 1, status: 503, code: "SlowDown", maxAttempts: 1, expectedAttempts: 1, expectedStatus: 503),
    ]

    @Test("attempts and final answer", arguments: cases)
    func retries(_ c: Case) async throws {
        let base = try await FaultPeer.url()
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let key = FaultPeer.uniqueKey("retry")
        let url = "\(base)/flaky/\(key)?fail=\(c.fail)&status=\(c.status)&code=\(c.code)"
        let policy = RetryPolicy(maxAttempts: c.maxAttempts, baseDelay: .milliseconds(10))

        let (result, attempts) = await policy.run(
            { await transfer(client, HTTPRequest(url: url)) },
            isRetryable: { AWSErrorBody.isRetryable($0, json: false) })

        let response = try result.get()
        #expect(response.status == c.expectedStatus)
        if c.expectedStatus == 200 {
            #expect(response.bodyText == "recovered")
        } else {
            #expect(AWSErrorBody.fromXML(response).code == c.code)
        }
        #expect(attempts == c.expectedAttempts)
        #expect(try await FaultPeer.flakyCount(key) == c.expectedAttempts, "requests the server saw")
    }

    @Test("a connection failure is retried; a timeout is not")
    func transportFailures() async throws {
        let base = try await FaultPeer.url()
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let policy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10))

        let (reset, resetAttempts) = await policy.run(
            { await transfer(client, HTTPRequest(url: base + "/reset")) },
            isRetryable: { AWSErrorBody.isRetryable($0, json: false) })
        guard case .failure(.connectionFailed) = reset else {
            Issue.record("expected connectionFailed, got \(reset)")
            return
        }
        #expect(resetAttempts == 3)

        let (slow, slowAttempts) = await policy.run(
            { await transfer(client, HTTPRequest(url: base + "/slow?seconds=3", limits: RequestLimits(totalTimeout: .milliseconds(300)))) },
            isRetryable: { AWSErrorBody.isRetryable($0, json: false) })
        guard case .failure(.timedOut) = slow else {
            Issue.record("expected timedOut, got \(slow)")
            return
        }
        #expect(slowAttempts == 1)
    }

    @Test("the JSON protocols' throttling codes are retryable too")
    func jsonThrottling() {
        func response(_ status: Int, _ json: String, headers: [(name: String, value: String)] = []) -> Result<HTTPResponse, TransportError> {
            .success(HTTPResponse(status: status, headers: headers, body: Array(json.utf8)))
        }
        #expect(AWSErrorBody.isRetryable(response(400, #"{"__type":"com.amazonaws.kms#ThrottlingException","message":"slow"}"#), json: true))
        #expect(AWSErrorBody.isRetryable(response(400, "", headers: [(name: "x-amzn-errortype", value: "ThrottlingException:http://x")]), json: true))
        #expect(!AWSErrorBody.isRetryable(response(400, #"{"__type":"NotFoundException"}"#), json: true))
        #expect(!AWSErrorBody.isRetryable(response(400, "<Error><Code>ThrottlingException</Code></Error>"), json: true))
        #expect(!AWSErrorBody.isRetryable(.failure(.cancelled), json: true))
        #expect(!AWSErrorBody.isRetryable(.failure(.responseTooLarge(limit: 1)), json: false))
    }

    @Test("backoff delays stay within the capped exponential window")
    func delays() {
        let policy = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(100), maxDelay: .milliseconds(250))
        for _ in 0..<200 {
            #expect(policy.delay(afterAttempt: 0) <= .milliseconds(100))
            #expect(policy.delay(afterAttempt: 1) <= .milliseconds(200))
            #expect(policy.delay(afterAttempt: 6) <= .milliseconds(250))
            #expect(policy.delay(afterAttempt: 0) >= .zero)
        }
        #expect(RetryPolicy(maxAttempts: 0).maxAttempts == 1)
    }
}

// MARK: - S3BucketClient: real SigV4 and curl against the fault server

/// Serialized: several tests count the server's requests per path.
@Suite("S3BucketClient against the fault server", .serialized)
struct S3BucketClientFaultTests {
    func client(bucket: String, endpoint: String, region: String = "us-east-1", maxAttempts: Int = 3,
                http: any HTTPClient, credentials: AWSCredentials = dummyCredentials) throws -> S3BucketClient {
        S3BucketClient(
            bucket: bucket, region: region, endpoint: try path(endpoint, bucket: bucket), credentials: FixedCredentials(credentials),
            http: http, retry: RetryPolicy(maxAttempts: maxAttempts, baseDelay: .milliseconds(10)),
            limits: RequestLimits(connectTimeout: .seconds(2), totalTimeout: .seconds(10)))
    }

    @Test("requests are signed with SigV4 for S3, session token included, secret never sent")
    func signedRequest() async throws {
        let base = try await FaultPeer.url()
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        let s3 = try client(bucket: "echo", endpoint: base, http: http)

        let answer = await s3.get(subresource: "versioning")

        guard case .response(let response) = answer else {
            Issue.record("expected a response, got \(answer)")
            return
        }
        #expect(response.status == 200)
        let echo = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
        let headers = try #require(echo["headers"] as? [String: String])
        #expect(echo["method"] as? String == "GET")
        #expect(echo["path"] as? String == "/echo")
        #expect(echo["query"] as? String == "versioning=")
        let authorization = try #require(headers["authorization"])
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDFAULTTEST000001/"))
        #expect(authorization.contains("/us-east-1/s3/aws4_request"))
        #expect(authorization.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token"))
        #expect(headers["x-amz-security-token"] == dummyCredentials.sessionToken)
        #expect(headers["x-amz-content-sha256"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(headers["host"] == URLComponents(string: base).map { "\($0.host!):\($0.port!)" })
        #expect(headers["x-amz-date"]?.count == 16)
        #expect(!response.bodyText.contains(dummyCredentials.secretAccessKey))
    }

    @Test("throttling (503 SlowDown) is retried and then succeeds")
    func throttlingThenSuccess() async throws {
        let base = try await FaultPeer.url()
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        // Endpoint path "/flaky" + path-style bucket KEY = /flaky/KEY?versioning= : one SlowDown, then 200.
        let key = FaultPeer.uniqueKey("s3client")
        let s3 = try client(bucket: key, endpoint: base + "/flaky", http: http)

        let answer = await s3.get(subresource: "versioning")

        guard case .response(let response) = answer else {
            Issue.record("expected a response, got \(answer)")
            return
        }
        #expect(response.status == 200)
        #expect(response.bodyText == "recovered")
        #expect(try await FaultPeer.flakyCount(key) == 2)
        #expect(s3.currentRegion == "us-east-1")
    }

    @Test("throttling that outlasts the attempts is reported as failed")
    func throttlingExhausted() async throws {
        let base = try await FaultPeer.url()
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        // /status/503 answers 503 every time.
        let s3 = try client(bucket: "503", endpoint: base + "/status", http: http)
        let before = try await FaultPeer.count(path: "/status/503")

        let answer = await s3.get(subresource: "versioning")

        guard case .failed(let reason) = answer else {
            Issue.record("expected failed, got \(answer)")
            return
        }
        #expect(reason.contains("HTTP 503"))
        #expect(reason.contains("after 3 attempts"))
        #expect(try await FaultPeer.count(path: "/status/503") - before == 3)
    }

    @Test("403 is not retried and comes back as a response")
    func accessDeniedNotRetried() async throws {
        let base = try await FaultPeer.url()
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        let s3 = try client(bucket: "403", endpoint: base + "/status", http: http)
        let before = try await FaultPeer.count(path: "/status/403")

        let answer = await s3.get(subresource: "policy")

        guard case .response(let response) = answer else {
            Issue.record("expected a response, got \(answer)")
            return
        }
        #expect(response.status == 403)
        #expect(try await FaultPeer.count(path: "/status/403") - before == 1)
    }

    @Test("connection failures are retried, then reported with the attempt count")
    func connectionFailures() async throws {
        let base = try await FaultPeer.url()
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        let s3 = try client(bucket: "reset", endpoint: base, http: http)

        let answer = await s3.get(subresource: "versioning")

        guard case .failed(let reason) = answer else {
            Issue.record("expected failed, got \(answer)")
            return
        }
        #expect(reason.hasPrefix("connection failed"))
        #expect(reason.hasSuffix("after 3 attempts"))
    }

    @Test("the region is corrected from the provider's redirect signal", arguments: ["bw-region-redirect", "bw-region-malformed"])
    func regionCorrection(bucket: String) async throws {
        let base = try await FaultPeer.url()
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        let s3 = try client(bucket: bucket, endpoint: base, region: "us-east-1", http: http)
        let before = try await FaultPeer.count(path: "/\(bucket)")

        let answer = await s3.get(subresource: "versioning")

        guard case .response(let response) = answer else {
            Issue.record("expected a response, got \(answer)")
            return
        }
        #expect(response.status == 200)
        #expect(S3ResponseParsers.versioning(response.body) == .some("Enabled"))
        #expect(S3ResponseParsers.observation(answer, notConfiguredCodes: [], what: "versioning", parse: S3ResponseParsers.versioning)
            == .value("Enabled"))
        #expect(s3.currentRegion == "eu-west-1")
        // One request signed for us-east-1, one for eu-west-1 (the header or body named it: no HEAD needed).
        let afterFirst = try await FaultPeer.count(path: "/\(bucket)")
        #expect(afterFirst - before == 2)

        // The corrected region sticks: the next call goes straight to eu-west-1.
        let second = await s3.get(subresource: "location")
        guard case .response(let location) = second else {
            Issue.record("expected a response, got \(second)")
            return
        }
        #expect(location.status == 200)
        #expect(try await FaultPeer.count(path: "/\(bucket)") - afterFirst == 1)
    }

    @Test("S3Reader reads all five settings after one region correction")
    func readerAfterRedirect() async throws {
        let base = try await FaultPeer.url()
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        let s3 = try client(bucket: "bw-region-redirect", endpoint: base, http: http)

        let observed = await S3Reader(client: s3).read()

        #expect(observed.versioning == .value("Enabled"))
        #expect(observed.cors == .notConfigured("NoSuchCORSConfiguration"))
        #expect(observed.encryption == .notConfigured("ServerSideEncryptionConfigurationNotFoundError"))
        #expect(observed.policy == .notConfigured("NoSuchBucketPolicy"))
        #expect(observed.publicAccessBlock == .notConfigured("NoSuchPublicAccessBlockConfiguration"))
        #expect(s3.currentRegion == "eu-west-1")
    }

    @Test("a redirect without region information is not followed")
    func redirectWithoutRegion() async throws {
        let base = try await FaultPeer.url()
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        // GET /redirect-other-host?versioning= : 302 to 127.0.0.2, no x-amz-bucket-region, no XML.
        let s3 = try client(bucket: "redirect-other-host", endpoint: base, http: http)

        let answer = await s3.get(subresource: "versioning")

        guard case .failed(let reason) = answer else {
            Issue.record("expected failed, got \(answer)")
            return
        }
        #expect(reason.contains("HTTP 302"))
        #expect(reason.contains("redirect not followed"))
        #expect(s3.currentRegion == "us-east-1")
        #expect(S3ResponseParsers.observation(answer, notConfiguredCodes: [], what: "versioning", parse: S3ResponseParsers.versioning)
            == .unreadable(reason))
    }

    @Test("a truncated 200 body is unreadable, not a value")
    func malformedBody() async throws {
        let base = try await FaultPeer.url()
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        let s3 = try client(bucket: "malformed", endpoint: base, http: http)

        let answer = await s3.get(subresource: "versioning")

        guard case .response(let response) = answer else {
            Issue.record("expected a response, got \(answer)")
            return
        }
        #expect(response.status == 200)
        #expect(S3ResponseParsers.observation(answer, notConfiguredCodes: [], what: "versioning", parse: S3ResponseParsers.versioning)
            == .unreadable("unparsable versioning response (HTTP 200)"))
    }

    @Test("the client's request limits apply to its transfers")
    func limitsApply() async throws {
        let base = try await FaultPeer.url()
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        // /slow?versioning= waits 1 s (the default); the client allows 300 ms.
        let s3 = S3BucketClient(
            bucket: "slow", region: "us-east-1", endpoint: try path(base, bucket: "slow"), credentials: FixedCredentials(dummyCredentials),
            http: http, retry: RetryPolicy(maxAttempts: 1), limits: RequestLimits(totalTimeout: .milliseconds(300)))

        let start = ContinuousClock.now
        let answer = await s3.get(subresource: "versioning")

        guard case .failed(let reason) = answer else {
            Issue.record("expected failed, got \(answer)")
            return
        }
        #expect(reason.hasPrefix("timed out"))
        #expect(ContinuousClock.now - start < .milliseconds(900))
    }

}

// MARK: - Parsing S3 answers (no peers)

@Suite("S3 response parsing")
struct S3ResponseParsingTests {
    static let ns = "http://s3.amazonaws.com/doc/2006-03-01/"

    static func xml(_ status: Int, _ body: String) -> S3Answer {
        .response(HTTPResponse(status: status, headers: [(name: "content-type", value: "application/xml")], body: Array(body.utf8)))
    }

    static func error(_ status: Int, _ code: String, _ message: String) -> S3Answer {
        xml(status, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>\(code)</Code><Message>\(message)</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>h</HostId></Error>")
    }

    func corsObservation(_ answer: S3Answer) -> Observation<[CORSRule]> {
        S3ResponseParsers.observation(answer, notConfiguredCodes: ["NoSuchCORSConfiguration"], what: "CORS", parse: S3ResponseParsers.cors)
    }

    // MARK: observation mapping

    @Test("404 NoSuchBucket is bucketMissing")
    func noSuchBucket() {
        #expect(corsObservation(Self.error(404, "NoSuchBucket", "The specified bucket does not exist")) == .bucketMissing)
    }

    @Test("a 404 with a not-configured code is notConfigured; with another code unreadable")
    func notConfigured() {
        #expect(corsObservation(Self.error(404, "NoSuchCORSConfiguration", "The CORS configuration does not exist"))
            == .notConfigured("NoSuchCORSConfiguration"))
        let other = S3ResponseParsers.observation(
            Self.error(404, "NoSuchCORSConfiguration", "The CORS configuration does not exist"), notConfiguredCodes: [],
            what: "versioning", parse: S3ResponseParsers.versioning)
        #expect(other == .unreadable("HTTP 404 NoSuchCORSConfiguration: The CORS configuration does not exist"))
        // The code only counts on a 404.
        #expect(corsObservation(Self.error(400, "NoSuchCORSConfiguration", "odd")) == .unreadable("HTTP 400 NoSuchCORSConfiguration: odd"))
    }

    @Test("501 NotImplemented is notImplemented")
    func notImplemented() {
        #expect(corsObservation(Self.error(501, "NotImplemented", "A header you provided implies functionality that is not implemented"))
            == .notImplemented("HTTP 501 NotImplemented: A header you provided implies functionality that is not implemented"))
        #expect(corsObservation(.response(HTTPResponse(status: 501))) == .notImplemented("HTTP 501"))
    }

    @Test("403 AccessDenied is unreadable, with the provider's code")
    func accessDenied() {
        let observed = corsObservation(Self.error(403, "AccessDenied", "Access Denied"))
        #expect(observed == .unreadable("HTTP 403 AccessDenied: Access Denied"))
        guard case .unreadable(let reason) = observed else { return }
        #expect(reason.contains("AccessDenied"))
    }

    @Test("a 200 with truncated XML is unreadable")
    func truncated200() {
        let truncated = Self.xml(200, "<VersioningConfiguration xmlns=\"\(Self.ns)\"><Status>Enab")
        #expect(S3ResponseParsers.observation(truncated, notConfiguredCodes: [], what: "versioning", parse: S3ResponseParsers.versioning)
            == .unreadable("unparsable versioning response (HTTP 200)"))
        #expect(corsObservation(Self.xml(200, "<CORSConfiguration><CORSRule>")) == .unreadable("unparsable CORS response (HTTP 200)"))
    }

    @Test("a transport failure is unreadable with its reason; a 5xx without a body too")
    func failures() {
        #expect(corsObservation(.failed("timed out (x)")) == .unreadable("timed out (x)"))
        #expect(corsObservation(.response(HTTPResponse(status: 500))) == .unreadable("HTTP 500"))
    }

    // MARK: parsers (bodies from provider-apis.md §1.2 and from moto 5.2.1)

    @Test("versioning: AWS's root, moto's root, and the never-versioned empty root")
    func versioning() {
        let aws = "<VersioningConfiguration xmlns=\"\(Self.ns)\"><Status>Enabled</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>"
        #expect(S3ResponseParsers.versioning(Array(aws.utf8)) == .some("Enabled"))
        let suspended = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VersioningConfiguration xmlns=\"\(Self.ns)\"><Status>Suspended</Status></VersioningConfiguration>"
        #expect(S3ResponseParsers.versioning(Array(suspended.utf8)) == .some("Suspended"))
        let never = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VersioningConfiguration xmlns=\"\(Self.ns)\"/>"
        #expect(S3ResponseParsers.versioning(Array(never.utf8)) == .some(nil))
        let moto = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<GetBucketVersioningResponse xmlns=\"\(Self.ns)\"><Status>Enabled</Status></GetBucketVersioningResponse>"
        #expect(S3ResponseParsers.versioning(Array(moto.utf8)) == .some("Enabled"))
        let motoNever = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<GetBucketVersioningResponse xmlns=\"\(Self.ns)\"/>"
        #expect(S3ResponseParsers.versioning(Array(motoNever.utf8)) == .some(nil))
        let padded = "<VersioningConfiguration>\n  <Status>\n    Enabled\n  </Status>\n</VersioningConfiguration>"
        #expect(S3ResponseParsers.versioning(Array(padded.utf8)) == .some("Enabled"))
        #expect(S3ResponseParsers.versioning(Array("not xml".utf8)) == nil)
        #expect(S3ResponseParsers.versioning([]) == nil)
    }

    @Test("CORS: flattened lists, several rules, empty configuration")
    func cors() throws {
        let doc = """
            <CORSConfiguration xmlns="\(Self.ns)">
              <CORSRule><AllowedOrigin>https://app.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod>
                <AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>
            </CORSConfiguration>
            """
        #expect(S3ResponseParsers.cors(Array(doc.utf8)) == [
            CORSRule(allowedOrigins: ["https://app.example"], allowedMethods: ["GET"], allowedHeaders: ["*"], exposeHeaders: ["ETag"], maxAgeSeconds: 3000),
        ])

        let moto = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<CORSConfiguration xmlns=\"\(Self.ns)\"><CORSRule><AllowedHeader>*</AllowedHeader><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedOrigin>*</AllowedOrigin><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3600</MaxAgeSeconds></CORSRule></CORSConfiguration>"
        #expect(S3ResponseParsers.cors(Array(moto.utf8)) == [
            CORSRule(allowedOrigins: ["*"], allowedMethods: ["GET", "HEAD", "PUT"], allowedHeaders: ["*"], exposeHeaders: ["ETag"], maxAgeSeconds: 3600),
        ])

        let two = """
            <CORSConfiguration><CORSRule><ID>a</ID><AllowedOrigin>https://a.example</AllowedOrigin><AllowedOrigin>https://b.example</AllowedOrigin>
            <AllowedMethod>PUT</AllowedMethod></CORSRule><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>
            """
        let rules = try #require(S3ResponseParsers.cors(Array(two.utf8)))
        #expect(rules.count == 2)
        #expect(rules.first?.allowedOrigins == ["https://a.example", "https://b.example"])
        #expect(rules.first?.maxAgeSeconds == nil)
        #expect(rules.last?.allowedMethods == ["GET"])

        #expect(S3ResponseParsers.cors(Array("<CORSConfiguration xmlns=\"\(Self.ns)\"/>".utf8)) == [])
        #expect(S3ResponseParsers.cors(Array("<Error><Code>NoSuchCORSConfiguration</Code></Error>".utf8)) == nil)
    }

    @Test("encryption: aws:kms with a key, AES256 without")
    func encryption() {
        let kms = """
            <ServerSideEncryptionConfiguration xmlns="\(Self.ns)">
              <Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm>
                <KMSMasterKeyID>arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab</KMSMasterKeyID></ApplyServerSideEncryptionByDefault>
                <BucketKeyEnabled>true</BucketKeyEnabled></Rule>
            </ServerSideEncryptionConfiguration>
            """
        #expect(S3ResponseParsers.encryption(Array(kms.utf8)) == [
            EncryptionRule(algorithm: "aws:kms", kmsKeyID: "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        ])
        let aes = "<ServerSideEncryptionConfiguration xmlns=\"\(Self.ns)\"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>"
        #expect(S3ResponseParsers.encryption(Array(aes.utf8)) == [EncryptionRule(algorithm: "AES256", kmsKeyID: nil)])
        let emptyKey = "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID></KMSMasterKeyID></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>"
        #expect(S3ResponseParsers.encryption(Array(emptyKey.utf8)) == [EncryptionRule(algorithm: "aws:kms", kmsKeyID: nil)])
        #expect(S3ResponseParsers.encryption(Array("<VersioningConfiguration/>".utf8)) == nil)
    }

    @Test("public access block: four flags, absent means false")
    func publicAccessBlock() {
        let all = "<PublicAccessBlockConfiguration xmlns=\"\(Self.ns)\"><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>"
        #expect(S3ResponseParsers.publicAccessBlock(Array(all.utf8))
            == PublicAccessBlock(blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true))
        let mixed = "<PublicAccessBlockConfiguration><BlockPublicAcls>TRUE</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy></PublicAccessBlockConfiguration>"
        #expect(S3ResponseParsers.publicAccessBlock(Array(mixed.utf8))
            == PublicAccessBlock(blockPublicAcls: true, ignorePublicAcls: false, blockPublicPolicy: true, restrictPublicBuckets: false))
        #expect(S3ResponseParsers.publicAccessBlock(Array("<Error><Code>AccessDenied</Code></Error>".utf8)) == nil)
    }

    // MARK: hostile documents

    /// A versioning document whose Status sits `depth` levels down.
    static func nested(_ depth: Int) -> [UInt8] {
        Array(("<VersioningConfiguration>" + String(repeating: "<a>", count: depth - 1) + "<Status>Enabled</Status>"
            + String(repeating: "</a>", count: depth - 1) + "</VersioningConfiguration>").utf8)
    }

    @Test("a 200 that is not a versioning document is unparsable, not 'never enabled'")
    func versioningNeedsItsDocument() {
        #expect(S3ResponseParsers.versioning(Array("<ListBucketResult><Name>b</Name></ListBucketResult>".utf8)) == nil)
        #expect(S3ResponseParsers.versioning(Array("<html><body>proxy</body></html>".utf8)) == nil)
        #expect(S3ResponseParsers.versioning(Array(#"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"#.utf8)) == .some(nil))
    }

    @Test("shallow nesting parses; 64 levels and more are refused", arguments: [65, 200, 100_000])
    func deepNesting(depth: Int) {
        #expect(S3ResponseParsers.versioning(Self.nested(20)) == .some("Enabled"))
        #expect(S3ResponseParsers.versioning(Self.nested(depth)) == nil)
        #expect(S3ResponseParsers.cors(Self.nested(depth)) == nil)
        #expect(S3ResponseParsers.publicAccessBlock(Self.nested(depth)) == nil)
    }

    @Test("entity expansion (billion laughs) is refused")
    func billionLaughs() {
        var entities = "<!ENTITY lol0 \"lollollollollollollollollollol\">"
        for level in 1...9 {
            entities += "<!ENTITY lol\(level) \"" + String(repeating: "&lol\(level - 1);", count: 10) + "\">"
        }
        let document = "<?xml version=\"1.0\"?>\n<!DOCTYPE VersioningConfiguration [\(entities)]>\n<VersioningConfiguration><Status>&lol9;</Status></VersioningConfiguration>"
        let start = ContinuousClock.now
        let parsed = S3ResponseParsers.versioning(Array(document.utf8))
        #expect(parsed == nil, "parsed to \(String(describing: parsed).prefix(80))")
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test("external entities are not resolved")
    func externalEntity() {
        let document = "<?xml version=\"1.0\"?>\n<!DOCTYPE VersioningConfiguration [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<VersioningConfiguration><Status>&xxe;</Status></VersioningConfiguration>"
        let parsed = S3ResponseParsers.versioning(Array(document.utf8))
        if let status = parsed ?? nil {
            #expect(!status.contains("root:"), "the external entity was resolved")
        }
    }

    @Test("a megabyte of garbage is nil, not a crash")
    func garbage() {
        var generator = SystemRandomNumberGenerator()
        let random = (0..<1_000_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(S3ResponseParsers.versioning(random) == nil)
        #expect(S3ResponseParsers.cors(random) == nil)
        let angles = Array(String(repeating: "<<>&;&#xFFFF;</", count: 70_000).utf8)
        #expect(S3ResponseParsers.encryption(angles) == nil)
        let unclosed = Array(("<VersioningConfiguration>" + String(repeating: "x", count: 1_000_000)).utf8)
        #expect(S3ResponseParsers.versioning(unclosed) == nil)
        #expect(S3ResponseParsers.observation(.response(HTTPResponse(status: 200, body: random)), notConfiguredCodes: [], what: "CORS", parse: S3ResponseParsers.cors)
            == .unreadable("unparsable CORS response (HTTP 200)"))
    }
}
