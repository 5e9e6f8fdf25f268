import BucketwatchTransport
import Foundation

/// Credential endpoints are local (IMDS, container agent) or a single STS call: short limits.
let credentialRequestLimits = RequestLimits(connectTimeout: .seconds(2), totalTimeout: .seconds(5), maxResponseBytes: 64 * 1024)

/// STS `AssumeRoleWithWebIdentity` (EKS IRSA and other OIDC federations).
///
/// The call is unsigned: the web identity token is the proof. The token file is re-read
/// on every refresh because the platform rotates it.
public struct WebIdentityCredentialProvider: AWSCredentialProvider {
    public var tokenFile: String
    public var roleARN: String
    public var sessionName: String
    public var stsEndpoint: String
    let http: any HTTPClient

    public init(tokenFile: String, roleARN: String, sessionName: String, stsEndpoint: String, http: any HTTPClient) {
        self.tokenFile = tokenFile
        self.roleARN = roleARN
        self.sessionName = sessionName
        self.stsEndpoint = stsEndpoint
        self.http = http
    }

    public func credentials() async throws(CredentialError) -> AWSCredentials {
        guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw CredentialError("web identity token file \(tokenFile) cannot be read")
        }
        let form = PercentEncoding.form([
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleARN),
            ("RoleSessionName", sessionName), ("WebIdentityToken", token),
        ])
        let request = HTTPRequest(
            method: "POST", url: stsEndpoint, headers: [(name: "Content-Type", value: "application/x-www-form-urlencoded")],
            body: form, limits: credentialRequestLimits)
        let response: HTTPResponse
        do { response = try await http.send(request) } catch { throw CredentialError("STS AssumeRoleWithWebIdentity: \(error)") }
        guard response.status == 200 else {
            throw CredentialError("STS AssumeRoleWithWebIdentity: \(AWSErrorBody.fromXML(response).summary(status: response.status))")
        }
        guard let root = XMLElement.parse(response.body), let credentials = root.find("Credentials"),
              let key = credentials.childText("AccessKeyId"), let secret = credentials.childText("SecretAccessKey")
        else { throw CredentialError("STS AssumeRoleWithWebIdentity: unparsable response") }
        return AWSCredentials(
            accessKeyID: key, secretAccessKey: secret, sessionToken: credentials.childText("SessionToken"),
            expiration: credentials.childText("Expiration").flatMap(ISO8601.parse))
    }
}

/// ECS / EKS Pod Identity container credentials endpoint.
public struct ContainerCredentialProvider: AWSCredentialProvider {
    public var url: String
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read each time) or the token itself.
    public var authorizationTokenFile: String?
    public var authorizationToken: String?
    let http: any HTTPClient

    /// Plain-http full URIs must point at loopback or the documented link-local agents.
    static let allowedPlainHTTPHosts: Set<String> = ["127.0.0.1", "localhost", "::1", "169.254.170.2", "169.254.170.23", "fd00:ec2::23"]

    public static func fromEnvironment(_ environment: [String: String], http: any HTTPClient) throws(CredentialError) -> ContainerCredentialProvider? {
        let url: String
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            url = "http://169.254.170.2\(relative)"
        } else if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty {
            guard let components = URLComponents(string: full), let host = components.host else {
                throw CredentialError("AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL")
            }
            let bareHost = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            if components.scheme == "http", !allowedPlainHTTPHosts.contains(bareHost), !isIPv4Loopback(bareHost) {
                throw CredentialError("AWS_CONTAINER_CREDENTIALS_FULL_URI uses plain http to a host that is not loopback or the container agent")
            }
            url = full
        } else {
            return nil
        }
        return ContainerCredentialProvider(
            url: url, authorizationTokenFile: environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"],
            authorizationToken: environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"], http: http)
    }

    /// `127.x.y.z` written as an address, not a host name that merely starts with `127.`.
    static func isIPv4Loopback(_ host: String) -> Bool {
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.first == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    public func credentials() async throws(CredentialError) -> AWSCredentials {
        var headers: [(name: String, value: String)] = []
        if let file = authorizationTokenFile {
            guard let token = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CredentialError("container authorization token file \(file) cannot be read")
            }
            headers.append((name: "Authorization", value: token.trimmingCharacters(in: .whitespacesAndNewlines)))
        } else if let token = authorizationToken {
            headers.append((name: "Authorization", value: token))
        }
        if let value = headers.first?.value, value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) {
            throw CredentialError("the container authorization token is not a legal header value (it contains a line break)")
        }
        let response: HTTPResponse
        do {
            response = try await http.send(HTTPRequest(url: url, headers: headers, limits: credentialRequestLimits))
        } catch {
            throw CredentialError("container credentials endpoint: \(error)")
        }
        guard response.status == 200 else { throw CredentialError("container credentials endpoint answered HTTP \(response.status)") }
        return try JSONCredentials.parse(response.body, source: "container credentials endpoint")
    }
}

/// EC2 instance metadata, IMDSv2 only (session token first; v1 is not used).
public struct IMDSCredentialProvider: AWSCredentialProvider {
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT`, default `http://169.254.169.254`.
    public var endpoint: String
    let http: any HTTPClient

    public init(endpoint: String, http: any HTTPClient) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.http = http
    }

    public func credentials() async throws(CredentialError) -> AWSCredentials {
        let token = try await call("PUT", "/latest/api/token", headers: [(name: "X-aws-ec2-metadata-token-ttl-seconds", value: "21600")])
        let session = [(name: "X-aws-ec2-metadata-token", value: String(decoding: token, as: UTF8.self))]
        let roles = String(decoding: try await call("GET", "/latest/meta-data/iam/security-credentials/", headers: session), as: UTF8.self)
        guard let role = roles.split(whereSeparator: \.isNewline).first.map(String.init), !role.isEmpty else {
            throw CredentialError("instance metadata lists no IAM role")
        }
        let body = try await call("GET", "/latest/meta-data/iam/security-credentials/\(role)", headers: session)
        return try JSONCredentials.parse(body, source: "instance metadata")
    }

    private func call(_ method: String, _ path: String, headers: [(name: String, value: String)]) async throws(CredentialError) -> [UInt8] {
        let response: HTTPResponse
        do {
            response = try await http.send(HTTPRequest(method: method, url: endpoint + path, headers: headers, limits: credentialRequestLimits))
        } catch {
            throw CredentialError("instance metadata \(path): \(error)")
        }
        guard response.status == 200 else { throw CredentialError("instance metadata \(path) answered HTTP \(response.status)") }
        return response.body
    }
}

/// The JSON shape shared by the container endpoint and IMDS.
enum JSONCredentials {
    static func parse(_ body: [UInt8], source: String) throws(CredentialError) -> AWSCredentials {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
              let key = object["AccessKeyId"] as? String, let secret = object["SecretAccessKey"] as? String
        else { throw CredentialError("\(source): unparsable credentials") }
        return AWSCredentials(
            accessKeyID: key, secretAccessKey: secret, sessionToken: object["Token"] as? String,
            expiration: (object["Expiration"] as? String).flatMap(ISO8601.parse))
    }
}
