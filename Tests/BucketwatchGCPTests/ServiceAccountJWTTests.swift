import BucketwatchTransport
import Crypto
import Foundation
import Testing
import _CryptoExtras

@testable import BucketwatchGCP

/// The RS256 JWT of the service-account flow, checked piece by piece, and its signature
/// verified with the public key only.
@Suite("Service-account JWT")
struct ServiceAccountJWTTests {
    /// One RSA key for the suite (generating one takes a moment).
    static let privateKey: _RSA.Signing.PrivateKey = {
        do { return try _RSA.Signing.PrivateKey(keySize: .bits2048) } catch { preconditionFailure("RSA key generation failed: \(error)") }
    }()

    static func keyJSON(pem: String, email: String = "bw@test-project.iam.gserviceaccount.com", kid: String? = "kid-42",
                        tokenURI: String? = "https://oauth2.googleapis.com/token", type: String = "service_account") throws -> [UInt8] {
        var object: [String: Any] = ["type": type, "client_email": email, "private_key": pem, "project_id": "test-project"]
        if let kid { object["private_key_id"] = kid }
        if let tokenURI { object["token_uri"] = tokenURI }
        return [UInt8](try JSONSerialization.data(withJSONObject: object))
    }

    static func key(kid: String? = "kid-42", pem: String = privateKey.pkcs8PEMRepresentation) throws -> ServiceAccountKey {
        try ServiceAccountKey.parse(try keyJSON(pem: pem, kid: kid), source: "test key")
    }

    struct Decoded {
        var header: [String: Any]
        var claims: [String: Any]
        var signingInput: String
        var signature: Data
    }

    static func decode(_ jwt: String) throws -> Decoded {
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false)
        try #require(parts.count == 3, "a JWT has three parts: \(parts.count)")
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for part in parts {
            #expect(!part.isEmpty && part.allSatisfy { allowed.contains($0) }, "base64url without padding: \(part.prefix(20))")
        }
        let headerData = try #require(Base64URL.decode(parts[0]))
        let claimsData = try #require(Base64URL.decode(parts[1]))
        let header = try #require(try JSONSerialization.jsonObject(with: headerData) as? [String: Any])
        let claims = try #require(try JSONSerialization.jsonObject(with: claimsData) as? [String: Any])
        let signature = try #require(Base64URL.decode(parts[2]))
        return Decoded(header: header, claims: claims, signingInput: "\(parts[0]).\(parts[1])", signature: signature)
    }

    @Test("three base64url parts; header RS256/JWT/kid; claims iss, scope, aud, iat, exp = iat + 3600")
    func structure() throws {
        let now = Date(timeIntervalSince1970: 1_767_225_600)
        let jwt = try ServiceAccountTokenProvider.signedJWT(key: try Self.key(), audience: "https://oauth2.googleapis.com/token", now: now)
        let decoded = try Self.decode(jwt)
        #expect(decoded.header["alg"] as? String == "RS256")
        #expect(decoded.header["typ"] as? String == "JWT")
        #expect(decoded.header["kid"] as? String == "kid-42")
        #expect(decoded.header.count == 3)
        #expect(decoded.claims["iss"] as? String == "bw@test-project.iam.gserviceaccount.com")
        #expect(decoded.claims["scope"] as? String == "https://www.googleapis.com/auth/cloud-platform")
        #expect(decoded.claims["aud"] as? String == "https://oauth2.googleapis.com/token")
        #expect((decoded.claims["iat"] as? NSNumber)?.intValue == 1_767_225_600)
        #expect((decoded.claims["exp"] as? NSNumber)?.intValue == 1_767_225_600 + 3600)
        #expect(decoded.claims["sub"] == nil, "no sub: no domain-wide delegation")
        #expect(decoded.signature.count == 256, "RSA 2048 signature")
    }

    @Test("the signature verifies with the public key (PKCS#1 v1.5, SHA-256) and not for altered input")
    func signatureVerifies() throws {
        let jwt = try ServiceAccountTokenProvider.signedJWT(key: try Self.key(), audience: "https://oauth2.googleapis.com/token", now: Date())
        let decoded = try Self.decode(jwt)
        let publicKey = try _RSA.Signing.PublicKey(pemRepresentation: Self.privateKey.publicKey.pemRepresentation)
        let signature = _RSA.Signing.RSASignature(rawRepresentation: decoded.signature)
        #expect(publicKey.isValidSignature(signature, for: Data(decoded.signingInput.utf8), padding: .insecurePKCS1v1_5))
        #expect(!publicKey.isValidSignature(signature, for: Data((decoded.signingInput + "x").utf8), padding: .insecurePKCS1v1_5))
        #expect(!publicKey.isValidSignature(signature, for: Data(decoded.signingInput.utf8), padding: .PSS))
        let other = try _RSA.Signing.PrivateKey(keySize: .bits2048).publicKey
        #expect(!other.isValidSignature(signature, for: Data(decoded.signingInput.utf8), padding: .insecurePKCS1v1_5))
    }

    @Test("the fault server's key file (PKCS#8 from Python): signature verifies with the server's public key")
    func serverKeyVerifies() async throws {
        let (_, key, _) = try await GCPFault.keyFile()
        #expect(key.clientEmail == GCPFault.clientEmail)
        #expect(key.privateKeyID == "kid1")
        let jwt = try ServiceAccountTokenProvider.signedJWT(key: key, audience: key.tokenURI, now: Date())
        let decoded = try Self.decode(jwt)
        #expect(decoded.header["kid"] as? String == "kid1")
        #expect(decoded.claims["aud"] as? String == key.tokenURI)
        let publicKey = try _RSA.Signing.PublicKey(pemRepresentation: try await GCPFault.publicKeyPEM())
        #expect(publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: decoded.signature),
                                           for: Data(decoded.signingInput.utf8), padding: .insecurePKCS1v1_5))
    }

    @Test("PKCS#1 PEM works as well; a key without private_key_id sends no kid")
    func pkcs1AndNoKid() throws {
        let jwt = try ServiceAccountTokenProvider.signedJWT(key: try Self.key(kid: nil, pem: Self.privateKey.pemRepresentation),
                                                            audience: "aud", now: Date())
        let decoded = try Self.decode(jwt)
        #expect(decoded.header["kid"] == nil)
        #expect(decoded.header["alg"] as? String == "RS256")
    }

    @Test("key file parsing: defaults and errors that name the field, never a value")
    func keyParsing() throws {
        let pem = Self.privateKey.pkcs8PEMRepresentation
        let noURI = try ServiceAccountKey.parse(try Self.keyJSON(pem: pem, tokenURI: nil), source: "k.json")
        #expect(noURI.tokenURI == "https://oauth2.googleapis.com/token")

        func failure(_ bytes: [UInt8]) -> String? {
            do { _ = try ServiceAccountKey.parse(bytes, source: "/etc/bw/key.json"); return nil } catch { return error.description }
        }
        #expect(failure(Array("not json".utf8)) == "no Google access token: /etc/bw/key.json is not JSON")
        #expect(failure(try Self.keyJSON(pem: pem, type: "authorized_user"))?.contains("not a service account key") == true)
        let noKey = try JSONSerialization.data(withJSONObject: ["type": "service_account", "client_email": "a@b"])
        #expect(failure([UInt8](noKey))?.contains("lacks client_email or private_key") == true)
        let noEmail = try JSONSerialization.data(withJSONObject: ["type": "service_account", "private_key": pem])
        let message = try #require(failure([UInt8](noEmail)))
        #expect(message.contains("lacks client_email or private_key"))
        #expect(!message.contains("PRIVATE KEY") && !message.contains(Self.pemBodyLine(pem)))
    }

    @Test("an unusable private key: a clear error without the key text")
    func badPEM() throws {
        let pem = Self.privateKey.pkcs8PEMRepresentation
        let broken = pem.replacingOccurrences(of: Self.pemBodyLine(pem), with: String(Self.pemBodyLine(pem).reversed()))
        for candidate in [broken, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "hello", "",
                          try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024)).pkcs8PEMRepresentation] {
            let key = try Self.key(pem: candidate)
            do {
                _ = try ServiceAccountTokenProvider.signedJWT(key: key, audience: "aud", now: Date())
                Issue.record("a broken key signed a JWT")
            } catch {
                #expect(error.description == "no Google access token: the service account's private_key is not a usable RSA key")
            }
        }
    }

    /// A line of the PEM's base64 body: if an error message contained key material, it would contain this.
    static func pemBodyLine(_ pem: String) -> String {
        pem.split(separator: "\n").map(String.init).first { !$0.hasPrefix("-----") && $0.count > 40 } ?? "?"
    }
}
