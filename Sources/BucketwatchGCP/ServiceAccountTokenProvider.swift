import BucketwatchTransport
import Crypto
import Foundation
import _CryptoExtras

/// A service-account key file (`type: service_account`), as downloaded from the console.
/// Only the fields the JWT flow needs; the private key never leaves this type's use.
public struct ServiceAccountKey: Sendable {
    public var clientEmail: String
    public var privateKeyID: String?
    var privateKeyPEM: String
    public var tokenURI: String

    /// Parses the key file's JSON. Errors name the missing field, never a value.
    public static func parse(_ data: [UInt8], source: String) throws(GoogleAuthError) -> ServiceAccountKey {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(data))) as? [String: Any] else {
            throw GoogleAuthError("\(source) is not JSON")
        }
        guard object["type"] as? String == "service_account" else {
            throw GoogleAuthError("\(source) is not a service account key (type is not service_account)")
        }
        guard let email = object["client_email"] as? String, let pem = object["private_key"] as? String else {
            throw GoogleAuthError("\(source) lacks client_email or private_key")
        }
        return ServiceAccountKey(
            clientEmail: email, privateKeyID: object["private_key_id"] as? String, privateKeyPEM: pem,
            tokenURI: (object["token_uri"] as? String) ?? "https://oauth2.googleapis.com/token")
    }
}

/// Google's JWT bearer flow (RFC 7523): a JWT signed RS256 with the service account's key,
/// exchanged at the key's `token_uri` for an access token.
public struct ServiceAccountTokenProvider: GoogleTokenProvider {
    let key: ServiceAccountKey
    let http: any HTTPClient
    /// Overrides the key's `token_uri` (tests, private endpoints).
    let tokenURIOverride: String?

    public init(key: ServiceAccountKey, http: any HTTPClient, tokenURIOverride: String? = nil) {
        self.key = key
        self.http = http
        self.tokenURIOverride = tokenURIOverride
    }

    public func token() async throws(GoogleAuthError) -> GoogleAccessToken? {
        let tokenURI = tokenURIOverride ?? key.tokenURI
        let assertion = try Self.signedJWT(key: key, audience: tokenURI, now: Date())
        let body = PercentEncoding.form([("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion)])
        let response: HTTPResponse
        do {
            response = try await http.send(HTTPRequest(
                method: "POST", url: tokenURI, headers: [(name: "Content-Type", value: "application/x-www-form-urlencoded")], body: body,
                limits: RequestLimits(connectTimeout: .seconds(5), totalTimeout: .seconds(10), maxResponseBytes: 64 * 1024)))
        } catch {
            throw GoogleAuthError("token endpoint: \(error)")
        }
        guard response.status == 200 else { throw GoogleAuthError("token endpoint: \(OAuthTokenResponse.error(response))") }
        return try OAuthTokenResponse.parse(response.body, source: "token endpoint")
    }

    /// `header.claims.signature`, base64url without padding. Lifetime one hour, as google-auth.
    static func signedJWT(key: ServiceAccountKey, audience: String, now: Date) throws(GoogleAuthError) -> String {
        let issuedAt = Int(now.timeIntervalSince1970)
        var header: [String: Any] = ["alg": "RS256", "typ": "JWT"]
        if let kid = key.privateKeyID { header["kid"] = kid }
        let claims: [String: Any] = [
            "iss": key.clientEmail, "scope": googleStorageScope, "aud": audience, "iat": issuedAt, "exp": issuedAt + 3600,
        ]
        guard let headerData = try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]),
              let claimsData = try? JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])
        else { throw GoogleAuthError("cannot encode the JWT") }
        let signingInput = base64URL(headerData) + "." + base64URL(claimsData)
        let privateKey: _RSA.Signing.PrivateKey
        do {
            privateKey = try _RSA.Signing.PrivateKey(pemRepresentation: key.privateKeyPEM)
        } catch {
            throw GoogleAuthError("the service account's private_key is not a usable RSA key")
        }
        do {
            let signature = try privateKey.signature(for: Data(signingInput.utf8), padding: .insecurePKCS1v1_5)
            return signingInput + "." + base64URL(signature.rawRepresentation)
        } catch {
            throw GoogleAuthError("signing the JWT failed")
        }
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
