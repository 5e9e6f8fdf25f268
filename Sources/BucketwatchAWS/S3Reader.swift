import BucketwatchCore

/// Reads the five bucket settings the S3 baseline checks, concurrently.
public struct S3Reader: Sendable {
    let client: S3BucketClient

    public init(client: S3BucketClient) {
        self.client = client
    }

    /// Everything but the KMS key, which is read once per sweep for all buckets sharing it.
    public func read() async -> S3Observations {
        // Versioning first: it is cheap, and a corrected region then serves the other four.
        let versioningAnswer = await client.get(subresource: "versioning")
        async let cors = client.get(subresource: "cors")
        async let encryption = client.get(subresource: "encryption")
        async let policy = client.get(subresource: "policy")
        async let block = client.get(subresource: "publicAccessBlock")
        let (corsAnswer, encryptionAnswer, policyAnswer, blockAnswer) = await (cors, encryption, policy, block)

        return S3Observations(
            versioning: S3ResponseParsers.observation(versioningAnswer, notConfiguredCodes: [], what: "versioning", parse: S3ResponseParsers.versioning),
            cors: S3ResponseParsers.observation(corsAnswer, notConfiguredCodes: ["NoSuchCORSConfiguration"], what: "CORS", parse: S3ResponseParsers.cors),
            encryption: S3ResponseParsers.observation(
                encryptionAnswer, notConfiguredCodes: ["ServerSideEncryptionConfigurationNotFoundError"], what: "encryption",
                parse: S3ResponseParsers.encryption),
            policy: S3ResponseParsers.observation(policyAnswer, notConfiguredCodes: ["NoSuchBucketPolicy"], what: "bucket policy") {
                try? PolicyDocument.parse($0)
            },
            publicAccessBlock: S3ResponseParsers.observation(
                blockAnswer, notConfiguredCodes: ["NoSuchPublicAccessBlockConfiguration"], what: "public access block",
                parse: S3ResponseParsers.publicAccessBlock))
    }
}
