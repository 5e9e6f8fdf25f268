import BucketwatchTransport
import Foundation
import Testing

/// CurlHTTPClient against the fault server (scripts/peers/fault_server.py).
///
/// Serialized: several tests measure wall-clock time, and transfers from other tests of this
/// suite would otherwise share the client threads and the server with them.
@Suite("CurlHTTPClient against the fault server", .serialized)
struct CurlHTTPClientTests {
    let clock = ContinuousClock()

    // MARK: Responses

    @Test("200 with its body and lower-cased header names")
    func okResponse() async throws {
        let base = try await FaultServer.url()
        let client = CurlHTTPClient()
        defer { client.shutdown() }

        let response = try await client.send(HTTPRequest(url: base + "/ok"))

        #expect(response.status == 200)
        #expect(response.bodyText == "hello")
        #expect(response.body == Array("hello".utf8))
        // The server sends "X-Connection-Id" and "Content-Type": both arrive lower-cased.
        #expect(response.headers.contains { $0.name == "x-connection-id" })
        #expect(response.headers.allSatisfy { $0.name == $0.name.lowercased() }, "\(response.headers.map(\.name))")
        #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(response.header("content-length") == "5")
        #expect(Int(response.header("X-Connection-Id") ?? "") != nil)
    }

    @Test("HTTP error statuses come back as responses, not errors", arguments: [404, 500, 503])
    func errorStatusIsAResponse(status: Int) async throws {
        let base = try await FaultServer.url()
        let client = CurlHTTPClient()
        defer { client.shutdown() }

        let result = await outcome(client, HTTPRequest(url: "\(base)/status/\(status)?code=NoSuchKey"))

        #expect(result.kind == .response(status))
        let response = try result.get()
        #expect(response.bodyText.contains("<Code>NoSuchKey</Code>"))
        #expect(response.header("content-type") == "application/xml")
    }

    @Test("HEAD returns the headers and no body")
    func head() async throws {
        let base = try await FaultServer.url()
        let client = CurlHTTPClient()
        defer { client.shutdown() }

        let response = try await client.send(HTTPRequest(method: "HEAD", url: base + "/big?bytes=1234"))

        #expect(response.status == 200)
        #expect(response.body.isEmpty)
        #expect(response.header("content-length") == "1234")
    }

    // MARK: Connections

    @Test("sequential requests reuse the pooled handle's connection")
    func connectionReuse() async throws {
        let base = try await FaultServer.url()
        let client = CurlHTTPClient(maxConcurrentTransfers: 1)
        defer { client.shutdown() }
        #expect(client.idleHandleCount == 0)

        let first = try await client.send(HTTPRequest(url: base + "/ok"))
        let second = try await client.send(HTTPRequest(url: base + "/ok"))
        let third = try await client.send(HTTPRequest(url: base + "/ok"))

        let ids = [first, second, third].map { $0.header("x-connection-id") }
        #expect(ids[0] != nil)
        #expect(ids[0] == ids[1], "a new TCP connection for the second request: \(ids)")
        #expect(ids[1] == ids[2], "a new TCP connection for the third request: \(ids)")
        #expect(client.idleHandleCount == 1)
    }

    @Test("separate clients use separate connections")
    func separateClientsSeparateConnections() async throws {
        // The counterpart of connectionReuse: proves X-Connection-Id does tell connections apart.
        let base = try await FaultServer.url()
        let one = CurlHTTPClient(maxConcurrentTransfers: 1)
        let two = CurlHTTPClient(maxConcurrentTransfers: 1)
        defer { one.shutdown(); two.shutdown() }

        let a = try await one.send(HTTPRequest(url: base + "/ok")).header("x-connection-id")
        let b = try await two.send(HTTPRequest(url: base + "/ok")).header("x-connection-id")

        #expect(a != nil && b != nil)
        #expect(a != b)
    }

    @Test("a connection reset gives connectionFailed, and the client still works afterwards")
    func connectionReset() async throws {
        let base = try await FaultServer.url()
        let client = CurlHTTPClient(maxConcurrentTransfers: 1)
        defer { client.shutdown() }

        let reset = await outcome(client, HTTPRequest(url: base + "/reset"))
        #expect(reset.kind == .connectionFailed, "\(reset)")

        let after = await outcome(client, HTTPRequest(url: base + "/ok"))
        #expect(after.kind == .response(200), "\(after)")
    }

    @Test("a closed port gives connectionFailed")
    func connectRefused() async throws {
        _ = try await FaultServer.url()
        let port = try closedLoopbackPort()
        let client = CurlHTTPClient()
        defer { client.shutdown() }

        let result = await outcome(client, HTTPRequest(url: "http://127.0.0.1:\(port)/ok", limits: RequestLimits(connectTimeout: .seconds(2))))

        #expect(result.kind == .connectionFailed, "port \(port): \(result)")
    }

    // MARK: Limits

    @Test("the total timeout fires")
    func totalTimeout() async throws {
        let base = try await FaultServer.url()
        let client = CurlHTTPClient()
        defer { client.shutdown() }

        let start = clock.now
        let result = await outcome(client, HTTPRequest(url: base + "/slow?seconds=5", limits: RequestLimits(totalTimeout: .seconds(1))))
        let elapsed = clock.now - start

        #expect(result.kind == .timedOut, "\(result)")
        #expect(elapsed >= .milliseconds(900), "returned before the 1 s timeout could fire: \(elapsed)")
        #expect(elapsed < .seconds(4), "the 1 s timeout did not stop the 5 s response: \(elapsed)")
        print("measured: totalTimeout 1 s against /slow?seconds=5 returned after \(elapsed)")
    }

    @Test("a body over the cap gives responseTooLarge")
    func sizeCapExceeded() async throws {
        let base = try await FaultServer.url()
        let client = CurlHTTPClient()
        defer { client.shutdown() }

        let result = await outcome(client, HTTPRequest(url: base + "/big?bytes=2000000", limits: RequestLimits(maxResponseBytes: 1_000_000)))

        #expect(result.kind == .responseTooLarge(limit: 1_000_000), "\(result.kind)")
        if case .failure(let error) = result {
            #expect(error == .responseTooLarge(limit: 1_000_000))
        }
    }

    @Test("bodies under and exactly at the cap arrive whole", arguments: [1000, 1_000_000])
    func sizeCapNotExceeded(bytes: Int) async throws {
        let base = try await FaultServer.url()
        let client = CurlHTTPClient()
        defer { client.shutdown() }

        let result = await outcome(client, HTTPRequest(url: "\(base)/big?bytes=\(bytes)", limits: RequestLimits(maxResponseBytes: 1_000_000)))

        #expect(result.kind == .response(200), "\(result.kind)")
        let body = try result.get().body
        #expect(body.count == bytes)
        #expect(body.allSatisfy { $0 == UInt8(ascii: "a") })
    }

    @Test("redirects are returned, never followed")
    func noRedirectFollowing() async throws {
        let base = try await FaultServer.url()
        let client = CurlHTTPClient()
        defer { client.shutdown() }

        // Following it would end in connectionFailed: nothing listens on 127.0.0.2.
        let result = await outcome(client, HTTPRequest(url: base + "/redirect-other-host"))

        #expect(result.kind == .response(302), "\(result.kind)")
        let response = try result.get()
        #expect(response.header("location")?.hasPrefix("http://127.0.0.2:") == true)
        #expect(response.bodyText == "redirecting to another host\n")
    }

    @Test("only http and https URLs are sent", arguments: ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/", "/ok"])
    func onlyHTTP(url: String) async throws {
        let client = CurlHTTPClient()
        defer { client.shutdown() }

        let result = await outcome(client, HTTPRequest(url: url))

        #expect(result.kind == .invalidRequest, "\(result)")
    }

    // MARK: Request shape

    @Test("POST and PUT carry our body, method and headers", arguments: ["POST", "PUT"])
    func requestBodyAndHeaders(method: String) async throws {
        let base = try await FaultServer.url()
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        // Large enough that curl would otherwise add "Expect: 100-continue".
        let payload = "Action=Test&Value=" + String(repeating: "x", count: 4000) + "&end=%C3%A9"

        let response = try await client.send(HTTPRequest(
            method: method, url: base + "/echo?a=1&b=two",
            headers: [(name: "Content-Type", value: "application/x-www-form-urlencoded"), (name: "X-Bucketwatch-Test", value: "value 1")],
            body: Array(payload.utf8)))

        #expect(response.status == 200)
        let echo = try Echo(response)
        #expect(echo.method == method)
        #expect(echo.path == "/echo")
        #expect(echo.query == "a=1&b=two")
        #expect(echo.body == payload)
        #expect(echo.headers["x-bucketwatch-test"] == "value 1")
        #expect(echo.headers["content-type"] == "application/x-www-form-urlencoded")
        #expect(echo.headers["content-length"] == String(payload.utf8.count))
        #expect(echo.headers["expect"] == nil, "curl sent Expect: \(echo.headers["expect"] ?? "")")
    }

    @Test("an empty POST sends Content-Length 0; GET sends no body")
    func emptyBodies() async throws {
        let base = try await FaultServer.url()
        let client = CurlHTTPClient()
        defer { client.shutdown() }

        let post = try Echo(try await client.send(HTTPRequest(method: "POST", url: base + "/echo")))
        #expect(post.method == "POST")
        #expect(post.body == "")
        #expect(post.headers["content-length"] == "0")

        let get = try Echo(try await client.send(HTTPRequest(url: base + "/echo", headers: [(name: "X-A", value: "b")])))
        #expect(get.method == "GET")
        #expect(get.body == "")
        #expect(get.headers["x-a"] == "b")
        #expect(get.headers["content-length"] == nil)
    }

    @Test("a header value with CR/LF cannot smuggle in another header")
    func headerInjection() async throws {
        let base = try await FaultServer.url()
        let client = CurlHTTPClient()
        defer { client.shutdown() }

        let result = await outcome(client, HTTPRequest(
            url: base + "/echo", headers: [(name: "Authorization", value: "token\r\nX-Injected: yes")]))

        // Refused before anything is sent: a line break would smuggle in an extra header.
        #expect(result.kind == .invalidRequest, "\(result)")
    }

    @Test("a handle reused after a POST goes back to GET")
    func methodDoesNotLeakAcrossReuse() async throws {
        let base = try await FaultServer.url()
        let client = CurlHTTPClient(maxConcurrentTransfers: 1)
        defer { client.shutdown() }

        _ = try await client.send(HTTPRequest(method: "PUT", url: base + "/echo", body: Array("first".utf8)))
        let get = try Echo(try await client.send(HTTPRequest(url: base + "/echo")))

        #expect(get.method == "GET")
        #expect(get.body == "")
    }

    // MARK: Cancellation and shutdown

    @Test("cancelling the task aborts the transfer")
    func taskCancellation() async throws {
        let base = try await FaultServer.url()
        let client = CurlHTTPClient()
        defer { client.shutdown() }

        let start = clock.now
        let task = Task {
            await outcome(client, HTTPRequest(url: base + "/slow?seconds=10", limits: RequestLimits(totalTimeout: .seconds(30))))
        }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let result = await task.value
        let elapsed = clock.now - start

        #expect(result.kind == .cancelled, "\(result)")
        #expect(elapsed < .seconds(3), "cancellation took \(elapsed)")
        print("measured: cancelling after 300 ms ended the /slow?seconds=10 transfer after \(elapsed)")
    }

    @Test("a task cancelled before it sends gets cancelled without a transfer")
    func cancelledBeforeSending() async throws {
        let base = try await FaultServer.url()
        let client = CurlHTTPClient()
        defer { client.shutdown() }

        let start = clock.now
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await outcome(client, HTTPRequest(url: base + "/slow?seconds=5"))
        }
        let result = await task.value

        #expect(result.kind == .cancelled, "\(result)")
        #expect(clock.now - start < .seconds(2))
    }

    @Test("shutdown frees idle handles and refuses later sends")
    func shutdownRefusesLaterSends() async throws {
        let base = try await FaultServer.url()
        let client = CurlHTTPClient()

        _ = try await client.send(HTTPRequest(url: base + "/ok"))
        #expect(client.idleHandleCount == 1)

        client.shutdown()
        #expect(client.idleHandleCount == 0)

        let later = await outcome(client, HTTPRequest(url: base + "/ok"))
        #expect(later.kind == .cancelled, "\(later)")
        #expect(client.idleHandleCount == 0)
        client.shutdown()  // idempotent
    }

    @Test("shutdown aborts a transfer in flight")
    func shutdownAbortsInFlight() async throws {
        let base = try await FaultServer.url()
        let client = CurlHTTPClient()

        let start = clock.now
        let task = Task {
            await outcome(client, HTTPRequest(url: base + "/slow?seconds=10", limits: RequestLimits(totalTimeout: .seconds(30))))
        }
        try await Task.sleep(for: .milliseconds(300))
        client.shutdown()
        let result = await task.value
        let elapsed = clock.now - start

        #expect(result.kind == .cancelled, "\(result)")
        #expect(elapsed < .seconds(3), "shutdown took \(elapsed) to abort the transfer")
        #expect(client.idleHandleCount == 0, "the aborted transfer's handle went back to the pool")
    }

    // MARK: Concurrency

    @Test("maxConcurrentTransfers bounds the transfers in flight")
    func concurrencyBound() async throws {
        let base = try await FaultServer.url()
        let client = CurlHTTPClient(maxConcurrentTransfers: 2)
        defer { client.shutdown() }

        let start = clock.now
        let results = await withTaskGroup(of: ErrorKind.self) { group in
            for _ in 0..<4 {
                group.addTask { await outcome(client, HTTPRequest(url: base + "/slow?seconds=1")).kind }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let elapsed = clock.now - start

        #expect(results == Array(repeating: .response(200), count: 4))
        // Two waves of two: about 2 s. Four at once would take about 1 s.
        #expect(elapsed >= .milliseconds(1800), "4 transfers of 1 s with a bound of 2 took only \(elapsed)")
        #expect(client.idleHandleCount <= 2)
        print("measured: 4 x /slow?seconds=1 with maxConcurrentTransfers 2 took \(elapsed)")
    }

    @Test("transfers up to the bound run in parallel")
    func transfersRunInParallel() async throws {
        let base = try await FaultServer.url()
        let client = CurlHTTPClient(maxConcurrentTransfers: 4)
        defer { client.shutdown() }

        let start = clock.now
        let results = await withTaskGroup(of: ErrorKind.self) { group in
            for _ in 0..<4 {
                group.addTask { await outcome(client, HTTPRequest(url: base + "/slow?seconds=1")).kind }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let elapsed = clock.now - start

        #expect(results == Array(repeating: .response(200), count: 4))
        // Four at once: about 1 s. Serial would be 4 s, two at a time 2 s.
        #expect(elapsed < .milliseconds(1900), "4 transfers of 1 s with a bound of 4 took \(elapsed)")
        print("measured: 4 x /slow?seconds=1 with maxConcurrentTransfers 4 took \(elapsed)")
    }
}

/// The JSON `/echo` answers with.
struct Echo {
    var method: String
    var path: String
    var query: String
    var headers: [String: String]
    var body: String

    init(_ response: HTTPResponse) throws {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any], "not JSON: \(response.bodyText)")
        method = try #require(object["method"] as? String)
        path = try #require(object["path"] as? String)
        query = try #require(object["query"] as? String)
        headers = try #require(object["headers"] as? [String: String])
        body = try #require(object["body"] as? String)
    }
}
