import BucketwatchTransport
import Foundation

/// The error an AWS service put in a non-2xx answer: S3's XML `<Error>` or the JSON
/// protocols' `__type`. Messages are the provider's words and are shown to the admin;
/// they never contain our credentials.
struct AWSErrorBody: Sendable, Equatable {
    var code: String?
    var message: String?
    /// `Region` of `AuthorizationHeaderMalformed`.
    var region: String?
    /// `Endpoint` of `PermanentRedirect`.
    var endpoint: String?

    static func fromXML(_ response: HTTPResponse) -> AWSErrorBody {
        guard let root = XMLElement.parse(response.body), let error = root.find("Error") else {
            return AWSErrorBody()
        }
        return AWSErrorBody(
            code: error.childText("Code"), message: error.childText("Message"),
            region: error.childText("Region"), endpoint: error.childText("Endpoint"))
    }

    /// `{"__type": "com.amazonaws.kms#NotFoundException", "message": "..."}`; the type may also
    /// arrive in the `x-amzn-ErrorType` header. Namespace before `#` and suffix after `:` are dropped.
    static func fromJSON(_ response: HTTPResponse) -> AWSErrorBody {
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        let rawType = (object?["__type"] as? String) ?? response.header("x-amzn-ErrorType")
        let code = rawType.map { type -> String in
            let afterHash = type.split(separator: "#").last.map(String.init) ?? type
            return afterHash.split(separator: ":").first.map(String.init) ?? afterHash
        }
        let message = (object?["message"] as? String) ?? (object?["Message"] as? String)
        return AWSErrorBody(code: code, message: message)
    }

    /// "CODE: message" or the bare status, for findings.
    func summary(status: Int) -> String {
        switch (code, message) {
        case let (code?, message?): "HTTP \(status) \(code): \(message)"
        case let (code?, nil): "HTTP \(status) \(code)"
        default: "HTTP \(status)"
        }
    }

    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "SlowDownRead",
        "SlowDownWrite", "PriorRequestNotComplete", "EC2ThrottledException", "RequestTimeout", "RequestTimeoutException",
    ]

    /// Throttling and transient failures worth another attempt (botocore's standard mode).
    static func isRetryable(_ result: Result<HTTPResponse, TransportError>, json: Bool) -> Bool {
        switch result {
        case .failure(.connectionFailed): return true
        case .failure: return false
        case .success(let response):
            if [429, 500, 502, 503, 504].contains(response.status) { return true }
            guard response.status == 400 else { return false }
            let body = json ? fromJSON(response) : fromXML(response)
            return body.code.map(throttlingCodes.contains) ?? false
        }
    }
}
