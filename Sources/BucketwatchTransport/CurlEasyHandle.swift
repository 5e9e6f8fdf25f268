import CCurl
import Foundation

/// Initialises libcurl once per process, before any handle exists.
///
/// `curl_global_init` is not thread-safe, and libcurl's default SIGPIPE handling kills
/// daemons on reset connections: both are settled here, lazily, exactly once (Swift
/// global initialisers run under `swift_once`).
let curlGlobalInitialisation: Void = {
    signal(SIGPIPE, SIG_IGN)
    curl_global_init(Int(CURL_GLOBAL_DEFAULT))
}()

/// Accumulates one transfer's response. Reached from libcurl's C callbacks through an
/// unretained pointer that is only valid while `perform` runs.
final class TransferSink {
    var statusLineSeen = false
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []
    let limit: Int
    var exceeded = false

    init(limit: Int) {
        self.limit = limit
    }
}

private let writeBody: bw_curl_data_callback = { data, size, count, userdata in
    guard let data, let userdata else { return 0 }
    let sink = Unmanaged<TransferSink>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    guard sink.body.count + length <= sink.limit else {
        sink.exceeded = true
        return 0  // makes curl abort with CURLE_WRITE_ERROR
    }
    data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
        sink.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: length))
    }
    return length
}

private let writeHeader: bw_curl_data_callback = { data, size, count, userdata in
    guard let data, let userdata else { return 0 }
    let sink = Unmanaged<TransferSink>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
        String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
    }.trimmingCharacters(in: .whitespacesAndNewlines)
    if line.hasPrefix("HTTP/") {
        // A new response (after 100-continue, or a redirect we don't follow): start over.
        sink.headers.removeAll()
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        sink.headers.append((name: name, value: value))
        // A hostile server must not grow memory through endless headers either.
        if sink.headers.count > 500 { return 0 }
    }
    return length
}

/// One libcurl easy handle. Not thread-safe: used by one thread at a time, handed
/// between threads only through `CurlHandlePool`'s lock.
final class CurlEasyHandle {
    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init?() {
        _ = curlGlobalInitialisation
        guard let handle = curl_easy_init() else { return nil }
        self.handle = handle
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Runs one transfer to completion on the calling thread.
    ///
    /// `curl_easy_reset` between transfers clears options but keeps the connection
    /// cache, so consecutive requests to one host reuse the TCP/TLS connection.
    func perform(_ request: HTTPRequest, cancelFlag: CancelFlag?) -> Result<HTTPResponse, TransportError> {
        curl_easy_reset(handle)
        errorBuffer[0] = 0
        let sink = TransferSink(limit: request.limits.maxResponseBytes)
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }

        guard request.url.hasPrefix("http://") || request.url.hasPrefix("https://") else {
            return .failure(.invalidRequest("only http and https URLs are allowed"))
        }
        for header in request.headers {
            // A line break would let a value smuggle in further headers.
            // (Unicode scalars, not Characters: "\r\n" is one Character and equals neither.)
            if (header.name + header.value).unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
                return .failure(.invalidRequest("header '\(header.name)' contains a line break"))
            }
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        // curl adds "Expect: 100-continue" to larger bodies; the providers don't need it.
        headerList = curl_slist_append(headerList, "Expect:")

        set(CURLOPT_URL, request.url)
        set(CURLOPT_PROTOCOLS_STR, "http,https")
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_FOLLOWLOCATION, 0)
        set(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.limits.connectTimeout))
        set(CURLOPT_TIMEOUT_MS, Self.milliseconds(request.limits.totalTimeout))
        _ = bw_curl_easy_setopt_offset(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(request.limits.maxResponseBytes))
        set(CURLOPT_SSL_VERIFYPEER, request.tls.verify ? 1 : 0)
        set(CURLOPT_SSL_VERIFYHOST, request.tls.verify ? 2 : 0)
        if let caFile = request.tls.caFile { set(CURLOPT_CAINFO, caFile) }
        _ = bw_curl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        _ = bw_curl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
        _ = bw_curl_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, writeBody)
        _ = bw_curl_easy_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, writeHeader)
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        _ = bw_curl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, sinkPointer)
        _ = bw_curl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, sinkPointer)
        if let cancelFlag {
            set(CURLOPT_NOPROGRESS, 0)
            _ = bw_curl_easy_setopt_pointer(handle, CURLOPT_XFERINFODATA, Unmanaged.passUnretained(cancelFlag).toOpaque())
            _ = bw_curl_easy_setopt_xferinfo(handle, abortWhenCancelled)
        }

        switch request.method {
        case "GET":
            set(CURLOPT_HTTPGET, 1)
        case "HEAD":
            set(CURLOPT_NOBODY, 1)
        default:
            set(CURLOPT_CUSTOMREQUEST, request.method)
        }
        if !request.body.isEmpty || request.method == "POST" || request.method == "PUT" {
            _ = bw_curl_easy_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
            if request.body.isEmpty {
                set(CURLOPT_COPYPOSTFIELDS, "")
            } else {
                request.body.withUnsafeBufferPointer { buffer in
                    // COPYPOSTFIELDS copies: the Swift array need not outlive this call.
                    _ = bw_curl_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress!))
                }
            }
        }

        let code = withExtendedLifetime(sink) { curl_easy_perform(handle) }
        if code != CURLE_OK {
            return .failure(mapError(code, sink: sink, cancelled: cancelFlag?.isSet ?? false))
        }
        var status = 0
        _ = bw_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponse(status: status, headers: sink.headers, body: sink.body))
    }

    private func mapError(_ code: CURLcode, sink: TransferSink, cancelled: Bool) -> TransportError {
        let detail = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_WRITE_ERROR where sink.exceeded, CURLE_FILESIZE_EXCEEDED:
            return .responseTooLarge(limit: sink.limit)
        case CURLE_ABORTED_BY_CALLBACK where cancelled:
            return .cancelled
        case CURLE_OPERATION_TIMEDOUT:
            return .timedOut(detail)
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_RECV_ERROR,
             CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE:
            return .connectionFailed(detail)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
            return .tls(detail)
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return .invalidRequest(detail)
        default:
            return .failed(code: Int(code.rawValue), message: detail)
        }
    }

    private func set(_ option: CURLoption, _ value: Int) {
        _ = bw_curl_easy_setopt_long(handle, option, value)
    }

    private func set(_ option: CURLoption, _ value: String) {
        // libcurl copies string options (since 7.17), so a temporary C string is enough.
        _ = bw_curl_easy_setopt_string(handle, option, value)
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}

/// Set once to abort a transfer from another thread (graceful shutdown).
public final class CancelFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    public init() {}

    public var isSet: Bool { lock.withLock { value } }

    public func set() { lock.withLock { value = true } }
}

private let abortWhenCancelled: bw_curl_xferinfo_callback = { userdata, _, _, _, _ in
    guard let userdata else { return 0 }
    return Unmanaged<CancelFlag>.fromOpaque(userdata).takeUnretainedValue().isSet ? 1 : 0
}
