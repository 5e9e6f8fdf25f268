import BucketwatchTransport
import Foundation
import Testing

@testable import BucketwatchAWS

// Secrets used below. No description of credentials or of a CredentialError may contain them.
private let envSecret = "env-secret-Vb4kLq9sT2xY7wZ0"
private let envToken = "env-session-token-Jm3nR8pQ"
private let fileSecret = "file-secret-Hd6fG1jK5lM9nB2"
private let otherSecret = "other-secret-Pc7vX3zA8sD4"
private let storeSecret = "store-secret-Ty5uI0oP6aS1"

private func expectNoSecrets(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    for secret in [envSecret, envToken, fileSecret, otherSecret, storeSecret, "container-auth-token", "imds-secret-", "imds-token-",
                   "container-secret-", "container-token-"] {
        #expect(!text.contains(secret), "\"\(text)\" shows a secret", sourceLocation: sourceLocation)
    }
}

/// The error a provider throws, or nil when it returned credentials.
private func credentialError(_ provider: any AWSCredentialProvider) async -> CredentialError? {
    do {
        _ = try await provider.credentials()
        return nil
    } catch {
        return error
    }
}

/// A shared credentials file with two profiles, plus a config file, in a fresh directory.
private struct SharedFiles {
    let directory: URL
    var credentials: String { directory.appendingPathComponent("credentials").path }
    var config: String { directory.appendingPathComponent("config").path }

    init() throws {
        directory = try makeTemporaryDirectory()
        try writeFile("""
            # bucketwatch test credentials
            [default]
            aws_access_key_id = AKIAFILEDEFAULT00001
            aws_secret_access_key = \(fileSecret)

            ; the second profile carries a session token
            [other]
              aws_access_key_id=AKIAFILEOTHER000002
              AWS_Secret_Access_Key =  \(otherSecret)
            aws_session_token = other-token==

            """, to: directory.appendingPathComponent("credentials"))
        try writeFile("""
            [default]
            region = eu-west-1
            [profile other]
            region = us-west-2
            [profile configonly]
            aws_access_key_id = AKIACONFIGONLY00003
            aws_secret_access_key = config-secret
            """, to: directory.appendingPathComponent("config"))
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

// MARK: - Sources that need no server

@Suite("Static credential sources")
struct StaticCredentialSourceTests {
    // MARK: environment

    @Test("environment keys, with and without a session token")
    func environment() async throws {
        let plain = try await EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "AKIAENV0000000000001", "AWS_SECRET_ACCESS_KEY": envSecret,
        ]).credentials()
        #expect(plain == AWSCredentials(accessKeyID: "AKIAENV0000000000001", secretAccessKey: envSecret))

        let session = try await EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "ASIAENV0000000000001", "AWS_SECRET_ACCESS_KEY": envSecret, "AWS_SESSION_TOKEN": envToken,
            "AWS_CREDENTIAL_EXPIRATION": "2030-01-02T03:04:05Z",
        ]).credentials()
        #expect(session.accessKeyID == "ASIAENV0000000000001")
        #expect(session.sessionToken == envToken)
        #expect(session.expiration == Date(timeIntervalSince1970: 1_893_553_445))

        let legacy = try await EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "ASIAENV0000000000001", "AWS_SECRET_ACCESS_KEY": envSecret, "AWS_SECURITY_TOKEN": envToken,
        ]).credentials()
        #expect(legacy.sessionToken == envToken)

        let emptyToken = try await EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "AKIAENV0000000000001", "AWS_SECRET_ACCESS_KEY": envSecret, "AWS_SESSION_TOKEN": "",
        ]).credentials()
        #expect(emptyToken.sessionToken == nil)
    }

    @Test("a missing or empty key or secret is a CredentialError that shows no secret",
          arguments: [
              ["AWS_ACCESS_KEY_ID": "AKIAENV0000000000001"],
              ["AWS_SECRET_ACCESS_KEY": envSecret, "AWS_SESSION_TOKEN": envToken],
              ["AWS_ACCESS_KEY_ID": "AKIAENV0000000000001", "AWS_SECRET_ACCESS_KEY": ""],
              ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": envSecret],
          ])
    func environmentIncomplete(environment: [String: String]) async throws {
        #expect(!EnvironmentCredentialProvider.isConfigured(environment))
        let error = try #require(await credentialError(EnvironmentCredentialProvider(environment: environment)))
        #expect(error.description.contains("AWS_ACCESS_KEY_ID"))
        expectNoSecrets(error.description)
        expectNoSecrets(String(reflecting: error))
    }

    // MARK: shared files

    @Test("parsing: [default], [profile x] in the config file, comments, spaces, CRLF")
    func parseSharedFiles() {
        let credentials = SharedCredentialsFile.parse("""
            # comment
            ; another comment
            [default]
            aws_access_key_id=AKIA1
              aws_secret_access_key   =   s=e=c=r=e=t
            [profile x]
            aws_access_key_id = AKIA2
            not a key value line
            """, isConfigFile: false)
        #expect(credentials.sections["default"] == ["aws_access_key_id": "AKIA1", "aws_secret_access_key": "s=e=c=r=e=t"])
        // In the credentials file "profile x" is just a section name.
        #expect(credentials.sections["profile x"] == ["aws_access_key_id": "AKIA2"])
        #expect(credentials.sections["x"] == nil)

        let config = SharedCredentialsFile.parse(
            "[default]\r\nregion = us-east-1\r\n[profile x]\r\nAWS_ACCESS_KEY_ID = AKIA3\r\n[ profile  y ]\r\nregion=eu-west-1\r\n",
            isConfigFile: true)
        #expect(config.sections["default"] == ["region": "us-east-1"])
        #expect(config.sections["x"] == ["aws_access_key_id": "AKIA3"])
        #expect(config.sections["y"] == ["region": "eu-west-1"])
        #expect(config.sections["profile x"] == nil)

        #expect(SharedCredentialsFile.parse("key = before any section\n[empty]\n", isConfigFile: false).sections == ["empty": [:]])
    }

    @Test("a shared credentials file with two profiles")
    func sharedFileProfiles() async throws {
        let files = try SharedFiles()
        defer { files.remove() }

        let first = try await SharedFileCredentialProvider(profile: "default", credentialsPath: files.credentials, configPath: files.config).credentials()
        #expect(first == AWSCredentials(accessKeyID: "AKIAFILEDEFAULT00001", secretAccessKey: fileSecret))

        let other = try await SharedFileCredentialProvider(profile: "other", credentialsPath: files.credentials, configPath: files.config).credentials()
        #expect(other == AWSCredentials(accessKeyID: "AKIAFILEOTHER000002", secretAccessKey: otherSecret, sessionToken: "other-token=="))

        // Keys may also sit in the config file's [profile NAME].
        let configOnly = SharedFileCredentialProvider(profile: "configonly", credentialsPath: files.credentials, configPath: files.config)
        #expect(try await configOnly.credentials().accessKeyID == "AKIACONFIGONLY00003")
        #expect(configOnly.hasStaticKeys())

        let missing = SharedFileCredentialProvider(profile: "nosuch", credentialsPath: files.credentials, configPath: files.config)
        #expect(!missing.hasStaticKeys())
        let error = try #require(await credentialError(missing))
        #expect(error.description.contains("'nosuch'"))
        expectNoSecrets(error.description)

        let unreadable = SharedFileCredentialProvider(profile: "default", credentialsPath: files.directory.appendingPathComponent("absent").path, configPath: nil)
        let unreadableError = try #require(await credentialError(unreadable))
        #expect(unreadableError.description.contains("cannot be read"))
    }

    @Test("a store-relative credentials_file is found in $CREDENTIALS_DIRECTORY")
    func storeFileInCredentialsDirectory() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeFile("[default]\naws_access_key_id = AKIASTORE0000000001\naws_secret_access_key = \(storeSecret)\n",
                      to: directory.appendingPathComponent("bw-store"))
        let environment = ["CREDENTIALS_DIRECTORY": directory.path, "HOME": "/nonexistent-home"]

        let relative = SharedFileCredentialProvider.resolvePaths(storeFile: "bw-store", environment: environment)
        #expect(relative.credentials == directory.appendingPathComponent("bw-store").path)
        #expect(relative.config == nil)

        let expanded = SharedFileCredentialProvider.resolvePaths(storeFile: "${CREDENTIALS_DIRECTORY}/bw-store", environment: environment)
        #expect(expanded.credentials == directory.appendingPathComponent("bw-store").path)
        let expandedBare = SharedFileCredentialProvider.resolvePaths(storeFile: "$CREDENTIALS_DIRECTORY/bw-store", environment: environment)
        #expect(expandedBare.credentials == directory.appendingPathComponent("bw-store").path)

        // Not in the directory: taken as given. Absolute: untouched.
        #expect(SharedFileCredentialProvider.resolvePaths(storeFile: "elsewhere", environment: environment).credentials == "elsewhere")
        #expect(SharedFileCredentialProvider.resolvePaths(storeFile: "/etc/bw/creds", environment: environment).credentials == "/etc/bw/creds")

        // No store file: the SDK variables, else HOME.
        let sdk = SharedFileCredentialProvider.resolvePaths(
            storeFile: nil, environment: ["HOME": "/home/u", "AWS_SHARED_CREDENTIALS_FILE": "/c", "AWS_CONFIG_FILE": "/f"])
        #expect(sdk.credentials == "/c" && sdk.config == "/f")
        let home = SharedFileCredentialProvider.resolvePaths(storeFile: nil, environment: ["HOME": "/home/u"])
        #expect(home.credentials == "/home/u/.aws/credentials" && home.config == "/home/u/.aws/config")

        let paths = relative
        let credentials = try await SharedFileCredentialProvider(profile: "default", credentialsPath: paths.credentials, configPath: paths.config).credentials()
        #expect(credentials.accessKeyID == "AKIASTORE0000000001")
    }

    // MARK: the chain, static sources

    @Test("chain: environment keys win over the shared file")
    func chainEnvironmentBeatsSharedFile() async throws {
        let files = try SharedFiles()
        defer { files.remove() }
        let recorder = RecordingHTTPClient()
        let resolver = AWSCredentialResolver(environment: [
            "HOME": files.directory.path, "AWS_SHARED_CREDENTIALS_FILE": files.credentials, "AWS_CONFIG_FILE": files.config,
            "AWS_ACCESS_KEY_ID": "AKIAENV0000000000001", "AWS_SECRET_ACCESS_KEY": envSecret,
        ], http: recorder)

        let credentials = try await resolver.provider(profile: nil, credentialsFile: nil, region: "us-east-1").credentials()

        #expect(credentials == AWSCredentials(accessKeyID: "AKIAENV0000000000001", secretAccessKey: envSecret))
        #expect(recorder.requests.isEmpty)
    }

    @Test("chain: without environment keys, the shared file's AWS_PROFILE")
    func chainSharedFile() async throws {
        let files = try SharedFiles()
        defer { files.remove() }
        let resolver = AWSCredentialResolver(environment: [
            "HOME": files.directory.path, "AWS_SHARED_CREDENTIALS_FILE": files.credentials, "AWS_CONFIG_FILE": files.config,
            "AWS_PROFILE": "other", "AWS_EC2_METADATA_DISABLED": "true",
        ], http: RecordingHTTPClient())

        let credentials = try await resolver.provider(profile: nil, credentialsFile: nil, region: "us-east-1").credentials()

        #expect(credentials.accessKeyID == "AKIAFILEOTHER000002")
    }

    @Test("chain: a store's credentials_file wins over environment keys")
    func chainStoreFileBeatsEnvironment() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeFile("[default]\naws_access_key_id = AKIASTORE0000000001\naws_secret_access_key = \(storeSecret)\n",
                      to: directory.appendingPathComponent("bw-store"))
        let resolver = AWSCredentialResolver(environment: [
            "CREDENTIALS_DIRECTORY": directory.path, "HOME": directory.path,
            "AWS_ACCESS_KEY_ID": "AKIAENV0000000000001", "AWS_SECRET_ACCESS_KEY": envSecret,
        ], http: RecordingHTTPClient())

        let store = try await resolver.provider(profile: nil, credentialsFile: "bw-store", region: "us-east-1").credentials()
        #expect(store == AWSCredentials(accessKeyID: "AKIASTORE0000000001", secretAccessKey: storeSecret))

        // Stores without their own file still get the environment's keys.
        let plain = try await resolver.provider(profile: nil, credentialsFile: nil, region: "us-east-1").credentials()
        #expect(plain.accessKeyID == "AKIAENV0000000000001")
    }

    @Test("chain: a store naming credentials that are missing does not fall through to another identity")
    func chainStoreFileMissing() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let recorder = RecordingHTTPClient()
        let resolver = AWSCredentialResolver(environment: [
            "CREDENTIALS_DIRECTORY": directory.path, "HOME": directory.path,
            "AWS_ACCESS_KEY_ID": "AKIAENV0000000000001", "AWS_SECRET_ACCESS_KEY": envSecret,
        ], http: recorder)

        let error = try #require(await credentialError(resolver.provider(profile: nil, credentialsFile: "absent", region: "us-east-1")))
        #expect(error.description.contains("absent"))
        let profileError = try #require(await credentialError(resolver.provider(profile: "nosuch", credentialsFile: nil, region: "us-east-1")))
        #expect(profileError.description.contains("\(directory.path)/.aws/credentials cannot be read"))
        expectNoSecrets(error.description + profileError.description)
        #expect(recorder.requests.isEmpty)
    }

    @Test("chain: AWS_EC2_METADATA_DISABLED=true and nothing else is a CredentialError, and nothing is sent")
    func chainNothingConfigured() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let recorder = RecordingHTTPClient()
        let resolver = AWSCredentialResolver(environment: ["HOME": directory.path, "AWS_EC2_METADATA_DISABLED": "true"], http: recorder)

        let error = try #require(await credentialError(resolver.provider(profile: nil, credentialsFile: nil, region: "us-east-1")))

        #expect(error.description.hasPrefix("no AWS credentials: "))
        #expect(recorder.requests.isEmpty)
    }

    @Test("chain: the same store settings share one cache; others get their own")
    func resolverSharesProviders() {
        let resolver = AWSCredentialResolver(environment: [:], http: RecordingHTTPClient())
        let a = resolver.provider(profile: nil, credentialsFile: nil, region: "us-east-1") as? RefreshingCredentialProvider
        let b = resolver.provider(profile: nil, credentialsFile: nil, region: "eu-west-1") as? RefreshingCredentialProvider
        let c = resolver.provider(profile: "x", credentialsFile: nil, region: "us-east-1") as? RefreshingCredentialProvider
        #expect(a != nil && a === b)
        #expect(a !== c)
    }

    // MARK: container endpoint rules that send nothing

    @Test("a plain-http container FULL_URI to a non-loopback host is refused before any request",
          arguments: ["http://10.0.0.1/creds", "http://169.254.169.254/latest", "http://example.com:8080/creds"])
    func containerPlainHTTPRefused(uri: String) async throws {
        let recorder = RecordingHTTPClient()
        let environment = ["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-auth-token"]

        #expect(throws: CredentialError.self) {
            _ = try ContainerCredentialProvider.fromEnvironment(environment, http: recorder)
        }

        // Through the chain too: refused, not skipped to IMDS.
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let resolver = AWSCredentialResolver(environment: environment.merging(["HOME": directory.path]) { a, _ in a }, http: recorder)
        let error = try #require(await credentialError(resolver.provider(profile: nil, credentialsFile: nil, region: "us-east-1")))
        #expect(error.description.contains("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
        expectNoSecrets(error.description)
        #expect(recorder.requests.isEmpty, "sent \(recorder.requests.map(\.url))")
    }

    @Test("container FULL_URIs that are allowed: https anywhere, plain http to loopback and the agents",
          arguments: ["https://10.0.0.1/creds", "http://127.0.0.1:5056/container/creds", "http://127.0.0.2/x", "http://localhost/x",
                      "http://169.254.170.2/v2/creds", "http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/v1/credentials",
                      "http://[::1]:8080/x"])
    func containerAllowed(uri: String) throws {
        let provider = try #require(try ContainerCredentialProvider.fromEnvironment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri], http: RecordingHTTPClient()))
        #expect(provider.url == uri)
    }

    @Test("a plain-http host name that merely starts with 127. is not loopback")
    func containerLoopbackLookalike() {
        // botocore resolves the host and requires every address to be loopback; the AWS SDK
        // spec allows plain http only to 127.0.0.0/8, ::1 and the agents' addresses.
        #expect(throws: CredentialError.self) {
            _ = try ContainerCredentialProvider.fromEnvironment(
                ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1.attacker.example/creds"], http: RecordingHTTPClient())
        }
    }

    @Test("a container token with CR/LF is refused, not sent as extra header lines")
    func containerTokenWithNewline() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenFile = directory.appendingPathComponent("token")
        try writeFile("container-auth-token\r\nX-Injected: yes\n", to: tokenFile)
        let recorder = RecordingHTTPClient()
        let provider = try #require(try ContainerCredentialProvider.fromEnvironment([
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:5056/container/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile.path,
        ], http: recorder))

        let error = await credentialError(provider)

        #expect(error != nil)
        // Refused like botocore does ("Auth token value is not a legal header value"): nothing is sent.
        #expect(recorder.requests.isEmpty)
        let sent = recorder.requests.flatMap(\.headers).filter { $0.value.contains("\r") || $0.value.contains("\n") }.map(\.name)
        #expect(sent.isEmpty, "header values with CR/LF were sent")
    }

    @Test("the relative URI goes to the ECS agent and wins over a full URI")
    func containerRelative() throws {
        let provider = try #require(try ContainerCredentialProvider.fromEnvironment(
            ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://10.0.0.1/x"],
            http: RecordingHTTPClient()))
        #expect(provider.url == "http://169.254.170.2/v2/credentials/abc")
        #expect(try ContainerCredentialProvider.fromEnvironment([:], http: RecordingHTTPClient()) == nil)
    }

    // MARK: secrets never shown

    @Test("credentials never show their secret or token")
    func credentialsRedacted() {
        let credentials = AWSCredentials(accessKeyID: "ASIAREDACT000000001", secretAccessKey: envSecret, sessionToken: envToken, expiration: Date())
        let shown = ["\(credentials)", String(reflecting: credentials), String(describing: credentials), "\([credentials])",
                     "\(Optional(credentials) as Any)", "\(["k": credentials])"]
        for text in shown {
            #expect(text.contains("ASIAREDACT000000001"))
            expectNoSecrets(text)
        }
        let plain = AWSCredentials(accessKeyID: "AKIAREDACT000000001", secretAccessKey: envSecret)
        expectNoSecrets("\(plain) \(String(reflecting: plain))")
    }

    // MARK: the refreshing cache, with a scripted source

    /// Counts calls and how many run at once; each returns credentials expiring in `lifetime`.
    final class CountingSource: AWSCredentialProvider, @unchecked Sendable {
        private let lock = NSLock()
        private var calls = 0
        private var running = 0
        private var maxRunning = 0
        let lifetime: TimeInterval
        let delay: Duration

        init(lifetime: TimeInterval, delay: Duration = .milliseconds(20)) {
            self.lifetime = lifetime
            self.delay = delay
        }

        var callCount: Int { lock.withLock { calls } }
        var maxConcurrent: Int { lock.withLock { maxRunning } }

        func credentials() async throws(CredentialError) -> AWSCredentials {
            let serial = lock.withLock { () -> Int in
                calls += 1
                running += 1
                maxRunning = max(maxRunning, running)
                return calls
            }
            try? await Task.sleep(for: delay)
            lock.withLock { running -= 1 }
            return AWSCredentials(accessKeyID: "ASIACOUNT\(serial)", secretAccessKey: "s", sessionToken: "t",
                                  expiration: Date().addingTimeInterval(lifetime))
        }
    }

    @Test("the cache refreshes inside the margin and not before")
    func refreshMargin() async throws {
        let fresh = CountingSource(lifetime: 3600)
        let cached = RefreshingCredentialProvider(fresh)
        let a = try await cached.credentials()
        let b = try await cached.credentials()
        #expect(a == b)
        #expect(fresh.callCount == 1)

        let stale = CountingSource(lifetime: 120)
        let refreshing = RefreshingCredentialProvider(stale)
        let c = try await refreshing.credentials()
        let d = try await refreshing.credentials()
        #expect(c.accessKeyID != d.accessKeyID)
        #expect(stale.callCount == 2)

        // An injected clock: an hour later the cached credentials are stale.
        let offset = LockedValue<TimeInterval>(0)
        let clocked = CountingSource(lifetime: 3600)
        let provider = RefreshingCredentialProvider(clocked, now: { Date().addingTimeInterval(offset.value) })
        _ = try await provider.credentials()
        _ = try await provider.credentials()
        #expect(clocked.callCount == 1)
        offset.value = 3400
        _ = try await provider.credentials()
        #expect(clocked.callCount == 2)
    }

    @Test("concurrent callers on an empty cache share one refresh")
    func concurrentCallersShareOneRefresh() async throws {
        let source = CountingSource(lifetime: 3600, delay: .milliseconds(100))
        let provider = RefreshingCredentialProvider(source)

        let keys = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<20 { group.addTask { try? await provider.credentials().accessKeyID } }
            return await group.reduce(into: Set<String?>()) { $0.insert($1) }
        }

        #expect(keys == ["ASIACOUNT1"])
        #expect(source.callCount == 1)
    }

    @Test("at most one refresh is in flight, even when every answer is already stale")
    func atMostOneRefreshInFlight() async throws {
        // Credentials inside the refresh margin make every call refresh. Callers that joined a
        // finished refresh must not clear the marker of a newer one (`defer { refreshing = nil }`).
        let source = CountingSource(lifetime: 60, delay: .milliseconds(5))
        let provider = RefreshingCredentialProvider(source)

        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    for _ in 0..<25 { _ = try? await provider.credentials() }
                }
            }
        }

        print("measured: stale-cache stress: \(source.callCount) refreshes, at most \(source.maxConcurrent) in flight at once")
        #expect(source.maxConcurrent == 1)
    }

    @Test("a failing source's error is passed on and not cached")
    func refreshFailure() async throws {
        final class FailingOnce: AWSCredentialProvider, @unchecked Sendable {
            let lock = NSLock()
            var failed = false
            func credentials() async throws(CredentialError) -> AWSCredentials {
                let fail = lock.withLock { () -> Bool in
                    defer { failed = true }
                    return !failed
                }
                if fail { throw CredentialError("source down") }
                return AWSCredentials(accessKeyID: "AKIAOK", secretAccessKey: "s")
            }
        }
        let provider = RefreshingCredentialProvider(FailingOnce())
        let error = await credentialError(provider)
        #expect(error == CredentialError("source down"))
        #expect(try await provider.credentials().accessKeyID == "AKIAOK")
    }
}

// MARK: - Credential endpoints on the fault server

/// IMDS and the container endpoint on the fault server. Serialized: the tests count the server's
/// issuances and change its credential lifetime, which is global to the server.
@Suite("Credential endpoints on the fault server", .serialized)
struct CredentialEndpointTests {
    static let rolePath = "/imds/latest/meta-data/iam/security-credentials/bw-role"
    static let containerPath = "/container/creds"

    /// Runs `body` with the server issuing credentials valid for `seconds`, then restores the
    /// default (3600) whatever happens. Only the lifetime is restored, not the whole server
    /// (`/__reset` would also wipe the flaky counters that tests running in parallel rely on).
    func withCredentialLifetime<T>(_ seconds: Int, _ body: () async throws -> T) async throws -> T {
        try await FaultPeer.setCredentialLifetime(seconds: seconds)
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        try await FaultPeer.setCredentialLifetime(seconds: 3600)
        return try result.get()
    }

    func containerProvider(_ base: String, token: String = "container-auth-token", http: any HTTPClient) throws -> ContainerCredentialProvider {
        try #require(try ContainerCredentialProvider.fromEnvironment([
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": base + Self.containerPath, "AWS_CONTAINER_AUTHORIZATION_TOKEN": token,
        ], http: http))
    }

    /// The serial N in `ASIAIMDS%016d` / `ASIACONT%016d`.
    func serial(_ credentials: AWSCredentials, prefix: String) throws -> Int {
        try #require(credentials.accessKeyID.hasPrefix(prefix) ? Int(credentials.accessKeyID.dropFirst(prefix.count)) : nil,
                     "unexpected access key \(credentials.accessKeyID)")
    }

    @Test("IMDSv2: session token, role name, then the role's credentials")
    func imds() async throws {
        let base = try await FaultPeer.url()
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        let tokenBefore = try await FaultPeer.count(path: "/imds/latest/api/token")
        let rolesBefore = try await FaultPeer.count(path: "/imds/latest/meta-data/iam/security-credentials/")
        let roleBefore = try await FaultPeer.count(path: Self.rolePath)

        let credentials = try await IMDSCredentialProvider(endpoint: base + "/imds/", http: http).credentials()

        let n = try serial(credentials, prefix: "ASIAIMDS")
        #expect(credentials.accessKeyID.count == 24)
        #expect(credentials.secretAccessKey == "imds-secret-\(n)")
        #expect(credentials.sessionToken == "imds-token-\(n)")
        let expiration = try #require(credentials.expiration)
        #expect(abs(expiration.timeIntervalSinceNow - 3600) < 120)
        // Each step once: the token PUT, the role list, the role's credentials.
        #expect(try await FaultPeer.count(path: "/imds/latest/api/token") - tokenBefore == 1)
        #expect(try await FaultPeer.count(path: "/imds/latest/meta-data/iam/security-credentials/") - rolesBefore == 1)
        #expect(try await FaultPeer.count(path: Self.rolePath) - roleBefore == 1)
        expectNoSecrets("\(credentials)")
    }

    @Test("IMDS errors name the step and the status")
    func imdsError() async throws {
        let base = try await FaultPeer.url()
        let http = CurlHTTPClient()
        defer { http.shutdown() }

        // The fault server has no IMDS under /nothing: the token PUT gets a 404.
        let error = try #require(await credentialError(IMDSCredentialProvider(endpoint: base + "/nothing", http: http)))

        #expect(error.description.contains("/latest/api/token"))
        #expect(error.description.contains("404"))
    }

    @Test("container endpoint with AWS_CONTAINER_AUTHORIZATION_TOKEN")
    func container() async throws {
        let base = try await FaultPeer.url()
        let http = CurlHTTPClient()
        defer { http.shutdown() }

        let credentials = try await containerProvider(base, http: http).credentials()

        let n = try serial(credentials, prefix: "ASIACONT")
        #expect(credentials.secretAccessKey == "container-secret-\(n)")
        #expect(credentials.sessionToken == "container-token-\(n)")
        #expect(credentials.expiration != nil)
    }

    @Test("a wrong container token is a CredentialError naming the 401, not the token")
    func containerWrongToken() async throws {
        let base = try await FaultPeer.url()
        let http = CurlHTTPClient()
        defer { http.shutdown() }

        let error = try #require(await credentialError(try containerProvider(base, token: envSecret, http: http)))

        #expect(error.description.contains("401"))
        expectNoSecrets(error.description)
        expectNoSecrets(String(reflecting: error))
    }

    @Test("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE is read on every call")
    func containerTokenFile() async throws {
        let base = try await FaultPeer.url()
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenFile = directory.appendingPathComponent("token")
        try writeFile("wrong-token\n", to: tokenFile)
        let provider = try #require(try ContainerCredentialProvider.fromEnvironment([
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": base + Self.containerPath, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile.path,
            // The file wins over the variable.
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-auth-token",
        ], http: http))

        let first = try #require(await credentialError(provider))
        #expect(first.description.contains("401"))

        try writeFile("container-auth-token\n", to: tokenFile)  // rotated; the trailing newline is trimmed
        let credentials = try await provider.credentials()
        #expect(credentials.accessKeyID.hasPrefix("ASIACONT"))

        try FileManager.default.removeItem(at: tokenFile)
        let gone = try #require(await credentialError(provider))
        #expect(gone.description.contains(tokenFile.path))
    }

    @Test("the refreshing cache refreshes credentials that expire inside the margin on every call")
    func refreshInsideMargin() async throws {
        let base = try await FaultPeer.url()
        let http = CurlHTTPClient()
        defer { http.shutdown() }

        try await withCredentialLifetime(120) {
            let provider = RefreshingCredentialProvider(try containerProvider(base, http: http))
            let before = try await FaultPeer.count(path: Self.containerPath)

            let first = try await provider.credentials()
            let second = try await provider.credentials()

            #expect(try serial(second, prefix: "ASIACONT") > serial(first, prefix: "ASIACONT"))
            #expect(first.accessKeyID != second.accessKeyID)
            #expect(try await FaultPeer.count(path: Self.containerPath) - before == 2)
        }
    }

    @Test("the refreshing cache keeps credentials that are good for longer than the margin")
    func cachedOutsideMargin() async throws {
        let base = try await FaultPeer.url()
        let http = CurlHTTPClient()
        defer { http.shutdown() }

        try await withCredentialLifetime(3600) {
            let provider = RefreshingCredentialProvider(try containerProvider(base, http: http))
            let before = try await FaultPeer.count(path: Self.containerPath)

            let first = try await provider.credentials()
            let second = try await provider.credentials()

            #expect(first == second)
            #expect(try await FaultPeer.count(path: Self.containerPath) - before == 1)
        }
    }

    @Test("ten concurrent calls on an expired cache cause one refresh")
    func concurrentRefresh() async throws {
        let base = try await FaultPeer.url()
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        let provider = RefreshingCredentialProvider(try containerProvider(base, http: http))

        // Fill the cache with credentials inside the refresh margin: expired as far as the cache goes.
        let stale = try await withCredentialLifetime(120) { try await provider.credentials() }

        let (keys, delta) = try await withCredentialLifetime(3600) {
            let before = try await FaultPeer.count(path: Self.containerPath)
            let keys = await withTaskGroup(of: String?.self) { group in
                for _ in 0..<10 { group.addTask { try? await provider.credentials().accessKeyID } }
                return await group.reduce(into: [String?]()) { $0.append($1) }
            }
            return (keys, try await FaultPeer.count(path: Self.containerPath) - before)
        }

        #expect(keys.count == 10)
        #expect(Set(keys).count == 1, "callers got different credentials: \(keys)")
        #expect(keys.first ?? nil != stale.accessKeyID)
        #expect(delta == 1, "\(delta) refreshes for 10 concurrent callers")
    }

    @Test("chain: the container endpoint beats IMDS")
    func chainContainerBeatsIMDS() async throws {
        let base = try await FaultPeer.url()
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let imdsBefore = try await FaultPeer.count(path: "/imds/latest/api/token")

        let resolver = AWSCredentialResolver(environment: [
            "HOME": directory.path,
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": base + Self.containerPath, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-auth-token",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": base + "/imds",
        ], http: http)
        let credentials = try await resolver.provider(profile: nil, credentialsFile: nil, region: "us-east-1").credentials()

        #expect(credentials.accessKeyID.hasPrefix("ASIACONT"))
        #expect(try await FaultPeer.count(path: "/imds/latest/api/token") == imdsBefore)
    }

    @Test("chain: IMDS comes last, at AWS_EC2_METADATA_SERVICE_ENDPOINT")
    func chainIMDSLast() async throws {
        let base = try await FaultPeer.url()
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }

        let resolver = AWSCredentialResolver(environment: ["HOME": directory.path, "AWS_EC2_METADATA_SERVICE_ENDPOINT": base + "/imds"], http: http)
        let credentials = try await resolver.provider(profile: nil, credentialsFile: nil, region: "us-east-1").credentials()

        #expect(credentials.accessKeyID.hasPrefix("ASIAIMDS"))
        #expect(credentials.sessionToken?.hasPrefix("imds-token-") == true)

        // A shared file with static keys comes before IMDS.
        try writeFile("[default]\naws_access_key_id = AKIAFILEDEFAULT00001\naws_secret_access_key = \(fileSecret)\n",
                      to: directory.appendingPathComponent("credentials"))
        let withFile = AWSCredentialResolver(environment: [
            "HOME": directory.path, "AWS_SHARED_CREDENTIALS_FILE": directory.appendingPathComponent("credentials").path,
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": base + "/imds",
        ], http: http)
        #expect(try await withFile.provider(profile: nil, credentialsFile: nil, region: "us-east-1").credentials().accessKeyID
            == "AKIAFILEDEFAULT00001")
    }
}

// MARK: - Web identity through moto's STS

/// AssumeRoleWithWebIdentity against moto, then S3 with the session credentials.
///
/// moto 5.2.1 answers the unsigned STS call with a 500 while auth is on, so auth is switched
/// off for that one call and on again straight after (scripts/peers/README.md). It runs against
/// its own moto instance (port 5057), so the auth-off window cannot affect any other test.
@Suite("Web identity via moto STS", .serialized)
struct WebIdentityMotoTests {
    @Test("AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN give session credentials that work with S3")
    func webIdentityEndToEnd() async throws {
        let moto = try MotoPeer.info()
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenFile = directory.appendingPathComponent("web-identity-token")
        try writeFile("header.payload.signature\n", to: tokenFile)

        let resolver = AWSCredentialResolver(environment: [
            "HOME": directory.path, "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile.path, "AWS_ROLE_ARN": moto.role_arn, "AWS_ROLE_SESSION_NAME": "bw-test",
            "AWS_ENDPOINT_URL_STS": moto.endpoint,
        ], http: http)
        let provider = resolver.provider(profile: nil, credentialsFile: nil, region: moto.region)

        // High priority: under a parallel test run the default-priority executor is busy, and
        // every hop inside the auth-off window would wait for it.
        let endpoint = moto.endpoint
        let credentials = try await Task(priority: .high) {
            try await MotoPeer.withAuthOff(endpoint: endpoint) { try await provider.credentials() }
        }.value

        // Checked through Booleans so that a failure never prints the session's secret or token.
        let hasToken = credentials.sessionToken.map { !$0.isEmpty } ?? false
        let hasSecret = !credentials.secretAccessKey.isEmpty
        #expect(credentials.accessKeyID.hasPrefix("ASIA"))
        #expect(hasToken)
        #expect(hasSecret)
        #expect((credentials.expiration?.timeIntervalSinceNow ?? 0) > 300)
        // The cache serves the next call without another STS request (auth is on again: a
        // second unsigned STS call would fail).
        #expect(try await provider.credentials() == credentials)

        // Auth is back on: S3 with the session credentials, signed with x-amz-security-token.
        func versioning(_ creds: AWSCredentials) async throws -> S3Answer {
            let s3 = S3BucketClient(
                bucket: "bw-compliant", region: moto.region,
                endpoint: try S3Endpoint(override: moto.endpoint, pathStyle: true, bucket: "bw-compliant", defaultPathStyle: false),
                credentials: FixedCredentials(creds), http: http, retry: RetryPolicy(maxAttempts: 1))
            return await s3.get(subresource: "versioning")
        }
        let answer = try await versioning(credentials)
        guard case .response(let response) = answer else {
            Issue.record("expected a response, got \(answer)")
            return
        }
        #expect(response.status == 200, "HTTP \(response.status): \(AWSErrorBody.fromXML(response).summary(status: response.status))")
        #expect(S3ResponseParsers.versioning(response.body) == .some("Enabled"))

        // The same call without the token, or with a wrong secret, is refused: auth is really on.
        var noToken = credentials
        noToken.sessionToken = nil
        guard case .response(let refused) = try await versioning(noToken) else {
            Issue.record("expected a response without the session token")
            return
        }
        #expect(refused.status == 403)
        var wrongSecret = credentials
        wrongSecret.secretAccessKey = "wrong" + credentials.secretAccessKey
        guard case .response(let badSignature) = try await versioning(wrongSecret) else {
            Issue.record("expected a response with a wrong secret")
            return
        }
        #expect(badSignature.status == 403)
        #expect(AWSErrorBody.fromXML(badSignature).code == "SignatureDoesNotMatch")
    }
}
