import BucketwatchCore
import BucketwatchTransport

/// Bodies of the S3 bucket sub-resources, parsed by child element names (see `XMLElement`).
/// Each returns `nil` for a body that is not the expected document.
enum S3ResponseParsers {
    /// `Status` text, or `.some(nil)` for a never-versioned bucket (empty root).
    static func versioning(_ body: [UInt8]) -> String?? {
        // AWS: VersioningConfiguration; moto: GetBucketVersioningResponse. Anything else (a
        // listing from a store that ignored ?versioning, a proxy page) is not an answer.
        guard let root = XMLElement.parse(body),
              ["versioningconfiguration", "getbucketversioningresponse"].contains(root.name.lowercased())
        else { return nil }
        let status = root.find("Status")?.text.trimmingCharacters(in: .whitespacesAndNewlines)
        return .some(status?.isEmpty == false ? status : nil)
    }

    static func cors(_ body: [UInt8]) -> [CORSRule]? {
        guard let root = XMLElement.parse(body), root.name.caseInsensitiveCompare("CORSConfiguration") == .orderedSame else { return nil }
        return root.all("CORSRule").map { rule in
            func texts(_ name: String) -> [String] { rule.all(name).map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) } }
            return CORSRule(
                allowedOrigins: texts("AllowedOrigin"), allowedMethods: texts("AllowedMethod"),
                allowedHeaders: texts("AllowedHeader"), exposeHeaders: texts("ExposeHeader"),
                maxAgeSeconds: rule.childText("MaxAgeSeconds").flatMap { Int($0) })
        }
    }

    static func encryption(_ body: [UInt8]) -> [EncryptionRule]? {
        guard let root = XMLElement.parse(body), root.name.caseInsensitiveCompare("ServerSideEncryptionConfiguration") == .orderedSame else {
            return nil
        }
        return root.all("Rule").compactMap { rule in
            guard let defaults = rule.child("ApplyServerSideEncryptionByDefault"), let algorithm = defaults.childText("SSEAlgorithm") else {
                return nil
            }
            let key = defaults.childText("KMSMasterKeyID")
            return EncryptionRule(algorithm: algorithm, kmsKeyID: key?.isEmpty == false ? key : nil)
        }
    }

    static func publicAccessBlock(_ body: [UInt8]) -> PublicAccessBlock? {
        guard let root = XMLElement.parse(body), let block = root.find("PublicAccessBlockConfiguration") else { return nil }
        // An absent flag is false, as in the S3 model.
        func flag(_ name: String) -> Bool { block.childText(name)?.lowercased() == "true" }
        return PublicAccessBlock(
            blockPublicAcls: flag("BlockPublicAcls"), ignorePublicAcls: flag("IgnorePublicAcls"),
            blockPublicPolicy: flag("BlockPublicPolicy"), restrictPublicBuckets: flag("RestrictPublicBuckets"))
    }

    /// Turns one S3 answer into an observation.
    ///
    /// - `notConfiguredCodes`: the 404 codes that mean "read, and not configured".
    /// - Every other failure is `unreadable` with the provider's words, except
    ///   `NoSuchBucket` (the bucket is gone) and 501 `NotImplemented` (the store lacks the API).
    static func observation<T>(_ answer: S3Answer, notConfiguredCodes: Set<String>, what: String, parse: ([UInt8]) -> T?) -> Observation<T> {
        let response: HTTPResponse
        switch answer {
        case .failed(let reason): return .unreadable(reason)
        case .response(let r): response = r
        }
        if (200..<300).contains(response.status) {
            guard let value = parse(response.body) else { return .unreadable("unparsable \(what) response (HTTP \(response.status))") }
            return .value(value)
        }
        let error = AWSErrorBody.fromXML(response)
        if error.code == "NoSuchBucket" { return .bucketMissing }
        if response.status == 404, let code = error.code, notConfiguredCodes.contains(code) { return .notConfigured(code) }
        if response.status == 501 || error.code == "NotImplemented" {
            return .notImplemented(error.summary(status: response.status))
        }
        return .unreadable(error.summary(status: response.status))
    }
}
