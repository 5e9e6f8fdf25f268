import BucketwatchTransport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The fault server that `bash scripts/peers.sh start` launches (scripts/peers/fault_server.py).
///
/// Every test that needs it calls `FaultServer.url()` first: when the server does not answer
/// `/ok`, the test fails with what to do. It never skips silently.
enum FaultServer {
    static let base: String = {
        let configured = ProcessInfo.processInfo.environment["BUCKETWATCH_FAULT_URL"] ?? ""
        let url = configured.isEmpty ? "http://127.0.0.1:5056" : configured
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }()

    struct NotRunning: Error, CustomStringConvertible {
        var detail: String
        var description: String { "test peers are not running: run bash scripts/peers.sh start (\(detail))" }
    }

    /// The base URL, after checking that `GET /ok` answers `200 hello`.
    static func url() async throws -> String {
        let probe = CurlHTTPClient(maxConcurrentTransfers: 1)
        defer { probe.shutdown() }
        let request = HTTPRequest(url: base + "/ok", limits: RequestLimits(connectTimeout: .seconds(2), totalTimeout: .seconds(5)))
        do {
            let response = try await probe.send(request)
            guard response.status == 200, response.bodyText == "hello" else {
                throw NotRunning(detail: "\(base)/ok answered HTTP \(response.status), not the fault server's 200 hello")
            }
        } catch let error as TransportError {
            throw NotRunning(detail: "\(base)/ok: \(error)")
        }
        return base
    }
}

/// A loopback port with nothing listening: bound to get a free number from the kernel, then closed.
func closedLoopbackPort() throws -> Int {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    try #require(fd >= 0, "socket() failed")
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    try #require(bound == 0, "bind() failed")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    try #require(named == 0, "getsockname() failed")
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A transfer's outcome as a value, so tests can compare it and print it.
func outcome(_ client: CurlHTTPClient, _ request: HTTPRequest) async -> Result<HTTPResponse, TransportError> {
    do {
        return .success(try await client.send(request))
    } catch {
        return .failure(error)
    }
}

/// Which `TransportError` case (details dropped), for readable `#expect`s.
enum ErrorKind: Equatable, CustomStringConvertible {
    case response(Int)
    case timedOut, connectionFailed, tls, invalidRequest, cancelled, failed
    case responseTooLarge(limit: Int)

    var description: String {
        switch self {
        case .response(let status): "HTTP \(status) response"
        case .timedOut: "timedOut"
        case .connectionFailed: "connectionFailed"
        case .tls: "tls"
        case .invalidRequest: "invalidRequest"
        case .cancelled: "cancelled"
        case .failed: "failed"
        case .responseTooLarge(let limit): "responseTooLarge(limit: \(limit))"
        }
    }
}

extension Result where Success == HTTPResponse, Failure == TransportError {
    var kind: ErrorKind {
        switch self {
        case .success(let response): .response(response.status)
        case .failure(.timedOut): .timedOut
        case .failure(.connectionFailed): .connectionFailed
        case .failure(.tls): .tls
        case .failure(.invalidRequest): .invalidRequest
        case .failure(.cancelled): .cancelled
        case .failure(.failed): .failed
        case .failure(.responseTooLarge(let limit)): .responseTooLarge(limit: limit)
        }
    }
}
