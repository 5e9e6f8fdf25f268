import BucketwatchTransport
import Foundation

/// Picks the credential source for a store, in the AWS SDKs' order, and shares one
/// refreshing cache between all stores that resolve to the same source.
///
/// Order: the store's own `credentials_file` / `profile`; environment keys; web identity;
/// shared files (`AWS_PROFILE` or `default`); container endpoint; EC2 IMDSv2.
public final class AWSCredentialResolver: @unchecked Sendable {
    private let environment: [String: String]
    private let http: any HTTPClient
    private let lock = NSLock()
    private var providers: [String: RefreshingCredentialProvider] = [:]

    public init(environment: [String: String], http: any HTTPClient) {
        self.environment = environment
        self.http = http
    }

    public func provider(profile: String?, credentialsFile: String?, region: String) -> any AWSCredentialProvider {
        let key = "\(profile ?? "")|\(credentialsFile ?? "")"
        return lock.withLock {
            if let existing = providers[key] { return existing }
            let made = RefreshingCredentialProvider(ChainProvider(
                profile: profile, credentialsFile: credentialsFile, region: region, environment: environment, http: http))
            providers[key] = made
            return made
        }
    }
}

/// Resolves the first applicable source on each call (the refreshing cache above it
/// makes that once per expiry).
struct ChainProvider: AWSCredentialProvider {
    let profile: String?
    let credentialsFile: String?
    let region: String
    let environment: [String: String]
    let http: any HTTPClient

    func credentials() async throws(CredentialError) -> AWSCredentials {
        try await source().credentials()
    }

    func source() throws(CredentialError) -> any AWSCredentialProvider {
        let paths = SharedFileCredentialProvider.resolvePaths(storeFile: credentialsFile, environment: environment)
        if profile != nil || credentialsFile != nil {
            // A store that names its own credentials never falls through to another identity.
            return SharedFileCredentialProvider(profile: profile ?? "default", credentialsPath: paths.credentials, configPath: paths.config)
        }
        if EnvironmentCredentialProvider.isConfigured(environment) {
            return EnvironmentCredentialProvider(environment: environment)
        }
        if let tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"], let role = environment["AWS_ROLE_ARN"] {
            return WebIdentityCredentialProvider(
                tokenFile: tokenFile, roleARN: role, sessionName: environment["AWS_ROLE_SESSION_NAME"] ?? "bucketwatch",
                stsEndpoint: AWSServiceEndpoint.url(service: "sts", region: region, environment: environment), http: http)
        }
        let shared = SharedFileCredentialProvider(
            profile: environment["AWS_PROFILE"] ?? environment["AWS_DEFAULT_PROFILE"] ?? "default",
            credentialsPath: paths.credentials, configPath: paths.config)
        if shared.hasStaticKeys() { return shared }
        if let container = try ContainerCredentialProvider.fromEnvironment(environment, http: http) { return container }
        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() != "true" {
            return IMDSCredentialProvider(endpoint: environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254", http: http)
        }
        throw CredentialError("no source configured (environment, web identity, shared files, container, instance metadata)")
    }
}
