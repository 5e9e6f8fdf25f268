import Foundation
import Testing

@testable import BucketwatchCore

/// The fixtures sit next to this file: Tests/BucketwatchCoreTests/Fixtures/config/*.yaml.
private enum ConfigFixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("Fixtures/config")

    static func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    static func text(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }
}

/// Parses inline YAML and returns the error's description, or nil when it parsed.
private func parseError(_ yaml: String, file: String = "inline.yaml") -> String? {
    do {
        _ = try ConfigLoader.parse(yaml, file: file)
        return nil
    } catch {
        return error.description
    }
}

private let secret = "AKIA-SUPER-SECRET-VALUE"

private let storeKeyList =
    "name, provider, bucket, region, endpoint, path_style, deployment, principal, kms_key, prefix, profile, "
    + "credentials_file, ca_file, insecure_skip_tls_verify, interval, service_account, baseline"
private let checkIDList =
    "versioning, encryption, kms-key, cors, bucket-policy, public-access, soft-delete, iam, blob-soft-delete, container-soft-delete"

@Suite struct ConfigLoaderTests {
    // MARK: - One fixture per mistake, with the exact message

    static let mistakes: [(fixture: String, message: String)] = [
        ("unknown-top-level-key.yaml",
         "unknown-top-level-key.yaml:2: key 'intervall': unknown key 'intervall' (did you mean 'interval'?). Allowed keys: interval, listen_address, stores"),
        ("misplaced-store-key.yaml",
         "misplaced-store-key.yaml:1: key 'bucket': unknown key 'bucket'. Allowed keys: interval, listen_address, stores. 'bucket' is a store setting: put it in an entry under 'stores'"),
        ("unknown-store-key.yaml",
         "unknown-store-key.yaml:4: key 'stores[0].bukcet': unknown key 'bukcet' (did you mean 'bucket'?). Allowed keys: \(storeKeyList)"),
        ("wrong-type-path-style.yaml",
         "wrong-type-path-style.yaml:6: key 'stores[0].path_style': expected true or false, found a string"),
        ("wrong-type-bucket.yaml",
         "wrong-type-bucket.yaml:4: key 'stores[0].bucket': expected a string, found a mapping"),
        ("missing-bucket.yaml",
         "missing-bucket.yaml:5: key 'stores[1].bucket': missing required key 'bucket' in store 1 (name 'team-b'); every store needs name, provider and bucket"),
        ("missing-provider.yaml",
         "missing-provider.yaml:2: key 'stores[0].provider': missing required key 'provider' in store 0 (name 'team-a'); every store needs name, provider and bucket"),
        ("missing-name.yaml",
         "missing-name.yaml:3: key 'stores[0].name': missing required key 'name' in store 0; every store needs name, provider and bucket"),
        ("bad-provider.yaml",
         "bad-provider.yaml:3: key 'stores[0].provider': must be one of aws, s3, gcp, azure"),
        ("bad-store-name.yaml",
         "bad-store-name.yaml:2: key 'stores[0].name': must be 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'"),
        ("duplicate-store-names.yaml",
         "duplicate-store-names.yaml:8: key 'stores[2].name': duplicate store name 'team-a'; first defined at line 2. Give each store a unique name"),
        ("duplicate-key.yaml",
         "duplicate-key.yaml:6: key 'stores[0].bucket': duplicate key; first defined at line 4. Remove one of them"),
        ("duplicate-top-level-key.yaml",
         "duplicate-top-level-key.yaml:6: key 'interval': duplicate key; first defined at line 1. Remove one of them"),
        ("bad-interval.yaml",
         "bad-interval.yaml:1: key 'interval': must be a whole number followed by s, m or h, e.g. 30s, 5m or 1h"),
        ("interval-too-short.yaml",
         "interval-too-short.yaml:5: key 'stores[0].interval': must be at least 10s"),
        ("bad-listen-address.yaml",
         "bad-listen-address.yaml:1: key 'listen_address': must be host:port with a port from 1 to 65535, e.g. 127.0.0.1:9750 or [::1]:9750"),
        ("empty-stores.yaml",
         "empty-stores.yaml:2: key 'stores': must list at least one store"),
        ("no-stores.yaml",
         "no-stores.yaml:2: key 'stores': required key is missing; add a 'stores' list with at least one store"),
        ("store-not-mapping.yaml",
         "store-not-mapping.yaml:2: key 'stores[0]': expected a mapping with name, provider and bucket, found a string"),
        ("top-level-list.yaml",
         "top-level-list.yaml:1: expected a mapping with 'stores' at the top level, found a list"),
        ("bad-baseline-skip.yaml",
         "bad-baseline-skip.yaml:16: key 'stores[2].baseline.skip[1]': unknown check ID (did you mean 'public-access'?). Known checks: \(checkIDList)"),
        ("unknown-baseline-key.yaml",
         "unknown-baseline-key.yaml:7: key 'stores[0].baseline.skips': unknown key 'skips' (did you mean 'skip'?). Allowed keys: profile, skip, cors_max_age_seconds, allow_sse_s3, soft_delete_min_days"),
        ("unknown-baseline-profile.yaml",
         "unknown-baseline-profile.yaml:5: key 'stores[0].baseline': unknown baseline profile; the only built-in profile is wandb-byob"),
        ("negative-cors-max-age.yaml",
         "negative-cors-max-age.yaml:6: key 'stores[0].baseline.cors_max_age_seconds': must be 0 or more (seconds)"),
        ("invalid-syntax.yaml",
         "invalid-syntax.yaml:4: invalid YAML: did not find expected '-' indicator (while parsing a block collection starting at line 2). Check the indentation, colons and quotes here"),
        ("multiple-documents.yaml",
         "multiple-documents.yaml:5: the file holds more than one YAML document; keep a single document (remove this '---' and what follows, or merge it into the first)"),
        ("empty.yaml",
         "empty.yaml:1: no configuration found: expected a mapping with 'stores'"),
        ("secret-wrong-type.yaml",
         "secret-wrong-type.yaml:5: key 'stores[0].endpoint': expected a string, found a mapping"),
        ("secret-unknown-key.yaml",
         "secret-unknown-key.yaml:5: key 'stores[0].secret_access_key': unknown key 'secret_access_key'. Allowed keys: \(storeKeyList)"),
        ("secret-wrong-bool.yaml",
         "secret-wrong-bool.yaml:5: key 'stores[0].insecure_skip_tls_verify': expected true or false, found a string"),
        ("secret-bad-endpoint.yaml",
         "secret-bad-endpoint.yaml:5: key 'stores[0].endpoint': must start with http:// or https://, e.g. https://minio.internal:9000"),
    ]

    @Test(arguments: mistakes)
    func mistakeGivesExactMessage(fixture: String, message: String) throws {
        let text = try ConfigFixtures.text(fixture)
        #expect(throws: ConfigError.self) { try ConfigLoader.parse(text, file: fixture) }
        do {
            _ = try ConfigLoader.parse(text, file: fixture)
        } catch {
            #expect(error.description == message)
            #expect(error.file == fixture)
            #expect(error.line != nil)
        }
    }

    @Test func everyMistakeFixtureIsCovered() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: ConfigFixtures.directory.path)
            .filter { $0.hasSuffix(".yaml") && !$0.hasPrefix("valid-") }
        #expect(Set(files) == Set(Self.mistakes.map(\.fixture)))
    }

    @Test func errorFieldsAreSeparate() throws {
        let text = try ConfigFixtures.text("bad-baseline-skip.yaml")
        do {
            _ = try ConfigLoader.parse(text, file: "conf/bucketwatch.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.file == "conf/bucketwatch.yaml")
            #expect(error.line == 16)
            #expect(error.key == "stores[2].baseline.skip[1]")
            #expect(error.problem.hasPrefix("unknown check ID"))
        }
    }

    // MARK: - Secrets never reach the message

    @Test(arguments: ["secret-wrong-type.yaml", "secret-unknown-key.yaml", "secret-wrong-bool.yaml", "secret-bad-endpoint.yaml"])
    func secretValueIsNotEchoed(fixture: String) throws {
        let text = try ConfigFixtures.text(fixture)
        #expect(text.contains(secret))
        do {
            _ = try ConfigLoader.parse(text, file: fixture)
            Issue.record("expected an error")
        } catch {
            #expect(!error.description.contains(secret))
            #expect(!error.description.contains("SUPER-SECRET"))
        }
    }

    @Test func secretInlineValuesAreNotEchoed() {
        let cases = [
            "stores:\n  - name: a\n    provider: aws\n    bucket: b\n    path_style: \(secret)\n",
            "stores:\n  - name: a\n    provider: aws\n    bucket: b\n    interval: \(secret)\n",
            "stores:\n  - name: a\n    provider: aws\n    bucket: b\n    deployment: \(secret)\n",
            "stores:\n  - name: a\n    provider: \(secret)\n    bucket: b\n",
            "stores:\n  - name: a\n    provider: aws\n    bucket: b\n    baseline: \(secret)\n",
            "stores:\n  - name: a\n    provider: aws\n    bucket: b\n    baseline: {skip: [\(secret)]}\n",
            "stores:\n  - name: a\n    provider: aws\n    bucket: b\n    baseline: {cors_max_age_seconds: \(secret)}\n",
            "listen_address: \(secret)\nstores: []\n",
            "stores:\n  - name: a\n    provider: aws\n    bucket: b\n    region: [\"\(secret)\"]\n",
            "stores:\n  - name: a\n    provider: aws\n    bucket: b\n    kms_key: \"\(secret)\n",  // unterminated quote
            "stores:\n  - name: a\n    provider: aws\n    bucket: b\n    profile: *\(secret)\n",  // undefined alias
        ]
        for yaml in cases {
            let message = parseError(yaml)
            #expect(message != nil, "\(yaml)")
            #expect(message?.contains("SUPER-SECRET") == false, "\(message ?? "")")
        }
    }

    // MARK: - Valid files

    @Test func minimalFileGetsDefaults() throws {
        let config = try ConfigLoader.parse(try ConfigFixtures.text("valid-minimal.yaml"), file: "valid-minimal.yaml")
        #expect(config.interval == .seconds(300))
        #expect(config.listenAddress == "127.0.0.1:9750")
        #expect(config.stores.count == 1)
        let store = try #require(config.stores.first)
        #expect(store.name == "team-a")
        #expect(store.provider == .aws)
        #expect(store.bucket == "team-a-artifacts")
        #expect(store.region == nil)
        #expect(store.endpoint == nil)
        #expect(store.pathStyle == nil)
        #expect(store.deployment == nil)
        #expect(store.principal == nil)
        #expect(store.kmsKey == nil)
        #expect(store.prefix == nil)
        #expect(store.profile == nil)
        #expect(store.credentialsFile == nil)
        #expect(store.caFile == nil)
        #expect(store.insecureSkipTLSVerify == false)
        #expect(store.interval == nil)
        #expect(store.baseline.profile == "wandb-byob")
        #expect(store.baseline.skip.isEmpty)
        #expect(store.baseline.corsMaxAgeSeconds == nil)
        #expect(store.baseline.allowSSES3 == nil)
        #expect(config == BucketwatchConfig(stores: [StoreConfig(name: "team-a", provider: .aws, bucket: "team-a-artifacts")]))
    }

    @Test func fullFileSetsEveryField() throws {
        let config = try ConfigLoader.parse(try ConfigFixtures.text("valid-full.yaml"), file: "valid-full.yaml")
        #expect(config.interval == .seconds(90))
        #expect(config.listenAddress == "[::1]:9751")
        #expect(config.stores.count == 2)

        let full = try #require(config.stores.first)
        #expect(full.name == "team-a.prod_1")
        #expect(full.provider == .aws)
        #expect(full.bucket == "team-a-artifacts")
        #expect(full.region == "us-east-1")
        #expect(full.endpoint == "https://s3.us-east-1.amazonaws.com")
        #expect(full.pathStyle == false)
        #expect(full.deployment == .dedicated)
        #expect(full.principal == "123456789012")
        #expect(full.kmsKey == "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
        #expect(full.prefix == "some/sub/path")
        #expect(full.profile == "prod")
        #expect(full.credentialsFile == "aws-creds")
        #expect(full.caFile == "/etc/ssl/my-ca.pem")
        #expect(full.insecureSkipTLSVerify == true)
        #expect(full.interval == .seconds(3600))
        #expect(full.baseline.profile == "wandb-byob")
        #expect(full.baseline.skip == ["public-access", "cors"])
        #expect(full.baseline.corsMaxAgeSeconds == 600)
        #expect(full.baseline.allowSSES3 == true)

        let minio = config.stores[1]
        #expect(minio.name == "minio")
        #expect(minio.provider == .s3)
        #expect(minio.bucket == "wandb")
        #expect(minio.endpoint == "http://minio.internal:9000")
        #expect(minio.pathStyle == true)
        #expect(minio.deployment == .saas)
        #expect(minio.interval == .seconds(600))
        #expect(minio.baseline == BaselineSelection(profile: "wandb-byob"))
        #expect(minio.region == nil)
        #expect(minio.insecureSkipTLSVerify == false)
    }

    // MARK: - load(path:)

    @Test func loadReadsTheFile() throws {
        let path = ConfigFixtures.path("valid-minimal.yaml")
        let config = try ConfigLoader.load(path: path)
        #expect(config.stores.map(\.name) == ["team-a"])
    }

    @Test func loadNamesThePathInErrors() throws {
        let path = ConfigFixtures.path("bad-provider.yaml")
        do {
            _ = try ConfigLoader.load(path: path)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "\(path):3: key 'stores[0].provider': must be one of aws, s3, gcp, azure")
        }
    }

    @Test func loadMissingFile() {
        let path = ConfigFixtures.path("does-not-exist.yaml")
        do {
            _ = try ConfigLoader.load(path: path)
            Issue.record("expected an error")
        } catch {
            #expect(error.line == nil)
            #expect(error.file == path)
            #expect(error.key == "")
            #expect(error.description.contains(path))
            #expect(error.description.contains("cannot read"))
            #expect(error.description == "\(path): cannot read the configuration file: no such file; check the path")
        }
    }

    @Test func loadDirectory() {
        let path = ConfigFixtures.directory.path
        do {
            _ = try ConfigLoader.load(path: path)
            Issue.record("expected an error")
        } catch {
            #expect(error.line == nil)
            #expect(error.description == "\(path): cannot read the configuration file: it is a directory; give the path of the YAML file")
        }
    }

    @Test func loadRejectsInvalidUTF8WithItsLine() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bucketwatch-config-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: url) }
        var bytes = Array("stores:\n  - name: team-a\n    bucket: ".utf8)
        bytes += [0xFF, 0xFE]
        bytes += Array("\n".utf8)
        try Data(bytes).write(to: url)
        do {
            _ = try ConfigLoader.load(path: url.path)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "\(url.path):3: the file is not valid UTF-8 text; save it as UTF-8")
        }
    }

    @Test func loadRefusesHugeFiles() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bucketwatch-config-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(repeating: UInt8(ascii: "#"), count: ConfigLoader.maximumFileSize + 1).write(to: url)
        do {
            _ = try ConfigLoader.load(path: url.path)
            Issue.record("expected an error")
        } catch {
            #expect(error.line == nil)
            #expect(error.description == "\(url.path): cannot read the configuration file: it is larger than 1 MiB, which is not a bucketwatch configuration")
        }
    }

    // MARK: - Scalars: booleans, strings, numbers

    private static func store(_ extra: String) -> String {
        "stores:\n  - name: a\n    provider: aws\n    bucket: b\n" + extra
    }

    @Test(arguments: [("true", true), ("True", true), ("TRUE", true), ("false", false), ("False", false), ("FALSE", false)])
    func acceptedBooleans(text: String, value: Bool) throws {
        let config = try ConfigLoader.parse(Self.store("    path_style: \(text)\n"), file: "b.yaml")
        #expect(config.stores[0].pathStyle == value)
    }

    @Test func rejectedBooleans() {
        let found = [
            "yes": "a string", "no": "a string", "on": "a string", "off": "a string", "y": "a string",
            "\"true\"": "a string", "'false'": "a string", "1": "an integer", "0": "an integer",
            "1.0": "a number", "": "an empty value", "[true]": "a list", "{a: true}": "a mapping",
            "!custom true": "a value with a custom YAML tag",
        ]
        for (text, kind) in found {
            #expect(
                parseError(Self.store("    path_style: \(text)\n"))
                    == "inline.yaml:5: key 'stores[0].path_style': expected true or false, found \(kind)", "\(text)")
        }
    }

    @Test func explicitTagsAreHonoured() throws {
        let config = try ConfigLoader.parse(Self.store("    region: !!str true\n    path_style: !!bool true\n"), file: "t.yaml")
        #expect(config.stores[0].region == "true")
        #expect(config.stores[0].pathStyle == true)
    }

    @Test func numbersKeepTheirSpellingInStrings() throws {
        let config = try ConfigLoader.parse(
            "stores:\n  - name: 2024\n    provider: aws\n    bucket: 0123\n    principal: 012345678901\n    prefix: 1e3\n",
            file: "n.yaml")
        #expect(config.stores[0].name == "2024")
        #expect(config.stores[0].bucket == "0123")
        #expect(config.stores[0].principal == "012345678901")
        #expect(config.stores[0].prefix == "1e3")
    }

    @Test func stringKeysRejectOtherKinds() {
        #expect(parseError(Self.store("    region: true\n"))
            == "inline.yaml:5: key 'stores[0].region': expected a string, found a boolean; put the text in quotes")
        #expect(parseError(Self.store("    region:\n"))
            == "inline.yaml:5: key 'stores[0].region': expected a string, found an empty value; set a value or remove the key")
        #expect(parseError(Self.store("    region: \"\"\n"))
            == "inline.yaml:5: key 'stores[0].region': must not be empty; set a value or remove the key")
        #expect(parseError(Self.store("    region: [us-east-1]\n"))
            == "inline.yaml:5: key 'stores[0].region': expected a string, found a list")
        #expect(parseError("stores:\n  - name: a\n    provider: aws\n    bucket: ''\n")
            == "inline.yaml:4: key 'stores[0].bucket': must not be empty")
        #expect(parseError("stores:\n  - name: a\n    provider: aws\n    bucket:\n")
            == "inline.yaml:4: key 'stores[0].bucket': expected a string, found an empty value")
        #expect(parseError("stores:\n  - name: a\n    provider: [aws]\n    bucket: b\n")
            == "inline.yaml:3: key 'stores[0].provider': expected one of aws, s3, gcp, azure, found a list")
        #expect(parseError(Self.store("    deployment: SaaS\n"))
            == "inline.yaml:5: key 'stores[0].deployment': must be one of saas, dedicated")
    }

    @Test func storeNames() throws {
        let longest = String(repeating: "a", count: 64)
        #expect(try ConfigLoader.parse("stores:\n  - name: \(longest)\n    provider: gcp\n    bucket: b\n", file: "x").stores[0].name == longest)
        #expect(parseError("stores:\n  - name: \(longest)b\n    provider: gcp\n    bucket: b\n")
            == "inline.yaml:2: key 'stores[0].name': must be 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'")
        #expect(parseError("stores:\n  - name: ''\n    provider: gcp\n    bucket: b\n")
            == "inline.yaml:2: key 'stores[0].name': must be 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'")
        #expect(parseError("stores:\n  - name: café\n    provider: gcp\n    bucket: b\n")
            == "inline.yaml:2: key 'stores[0].name': must be 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'")
    }

    // MARK: - Durations

    @Test(arguments: [("10s", 10), ("30s", 30), ("90s", 90), ("5m", 300), ("1h", 3600), ("010m", 600), ("24h", 86400)])
    func validIntervals(text: String, seconds: Int) throws {
        let config = try ConfigLoader.parse("interval: \(text)\n" + Self.store("    interval: \(text)\n"), file: "d.yaml")
        #expect(config.interval == .seconds(seconds))
        #expect(config.stores[0].interval == .seconds(seconds))
    }

    @Test func invalidIntervals() {
        let malformed = "must be a whole number followed by s, m or h, e.g. 30s, 5m or 1h"
        let cases = [
            "5": "expected a duration such as 30s, 5m or 1h, found an integer; add a unit: s, m or h",
            "1.5h": malformed, "5M": malformed, "1h30m": malformed, "5 m": malformed, "m": malformed,
            "-5m": malformed, "5d": malformed, "\"5m\"": "(ok)",
            "9s": "must be at least 10s", "0s": "must be at least 10s",
            "99999999999999999999s": "is too large", "9999999999999999h": "is too large",
            "": "expected a duration such as 30s, 5m or 1h, found an empty value",
            "{m: 5}": "expected a duration such as 30s, 5m or 1h, found a mapping",
        ]
        for (text, problem) in cases {
            let message = parseError("interval: \(text)\nstores: [{name: a, provider: aws, bucket: b}]\n")
            if problem == "(ok)" {
                #expect(message == nil)
            } else {
                #expect(message == "inline.yaml:1: key 'interval': \(problem)", "\(text)")
            }
        }
    }

    @Test func durationParserRoundTrips() throws {
        #expect(try DurationParser.parse("90s") == .seconds(90))
        #expect(throws: DurationParser.Failure.malformed) { try DurationParser.parse("") }
        #expect(throws: DurationParser.Failure.malformed) { try DurationParser.parse("s") }
        #expect(throws: DurationParser.Failure.malformed) { try DurationParser.parse("٣s") }
        #expect(throws: DurationParser.Failure.tooLarge) { try DurationParser.parse("9223372036854775807h") }
        #expect(DurationParser.format(.seconds(300)) == "5m")
        #expect(DurationParser.format(.seconds(3600)) == "1h")
        #expect(DurationParser.format(.seconds(90)) == "90s")
        #expect(DurationParser.format(.seconds(0)) == "0s")
    }

    // MARK: - listen_address

    @Test(arguments: ["127.0.0.1:9750", "0.0.0.0:1", "localhost:65535", "metrics.internal:9750", "[::1]:9750", "[::]:80", "[fe80::1%eth0]:9750"])
    func validListenAddresses(address: String) throws {
        let config = try ConfigLoader.parse("listen_address: '\(address)'\nstores: [{name: a, provider: aws, bucket: b}]\n", file: "l.yaml")
        #expect(config.listenAddress == address)
    }

    @Test(arguments: ["127.0.0.1", ":9750", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:http", "::1:9750", "[::1]", "[::1]9750", "[]:9750", "host name:80", "127.0.0.1:", "127.0.0.1:+80", "[127.0.0.1]:80"])
    func invalidListenAddresses(address: String) {
        #expect(parseError("listen_address: '\(address)'\nstores: [{name: a, provider: aws, bucket: b}]\n")
            == "inline.yaml:1: key 'listen_address': must be host:port with a port from 1 to 65535, e.g. 127.0.0.1:9750 or [::1]:9750")
    }

    // MARK: - Endpoint

    @Test func endpoints() throws {
        #expect(try ConfigLoader.parse(Self.store("    endpoint: http://10.0.0.5:9000\n"), file: "e").stores[0].endpoint == "http://10.0.0.5:9000")
        let problem = "must start with http:// or https://, e.g. https://minio.internal:9000"
        for text in ["minio.internal:9000", "https://", "ftp://x", "HTTPS://x"] {
            #expect(parseError(Self.store("    endpoint: \(text)\n")) == "inline.yaml:5: key 'stores[0].endpoint': \(problem)", "\(text)")
        }
    }

    // MARK: - Baseline

    @Test func baselineForms() throws {
        #expect(try ConfigLoader.parse(Self.store("    baseline: {}\n"), file: "b").stores[0].baseline == BaselineSelection())
        let skipAll = try ConfigLoader.parse(Self.store("    baseline: {skip: [\(checkIDList)]}\n"), file: "b")
        #expect(skipAll.stores[0].baseline.skip == Set(ConfigLoader.knownCheckIDs))
        #expect(try ConfigLoader.parse(Self.store("    baseline: {cors_max_age_seconds: 0, allow_sse_s3: false}\n"), file: "b")
            .stores[0].baseline == BaselineSelection(corsMaxAgeSeconds: 0, allowSSES3: false))

        #expect(parseError(Self.store("    baseline: [wandb-byob]\n"))
            == "inline.yaml:5: key 'stores[0].baseline': expected a profile name or a mapping with profile, skip, cors_max_age_seconds, allow_sse_s3, soft_delete_min_days, found a list")
        #expect(parseError(Self.store("    baseline:\n      profile: other\n"))
            == "inline.yaml:6: key 'stores[0].baseline.profile': unknown baseline profile; the only built-in profile is wandb-byob")
        #expect(parseError(Self.store("    baseline:\n      skip: cors\n"))
            == "inline.yaml:6: key 'stores[0].baseline.skip': expected a list of check IDs, found a string; write it as [id, ...] or one '- id' per line")
        #expect(parseError(Self.store("    baseline:\n      skip: [cors, {a: b}]\n"))
            == "inline.yaml:6: key 'stores[0].baseline.skip[1]': expected a check ID, found a mapping")
        #expect(parseError(Self.store("    baseline:\n      skip: [tls]\n"))
            == "inline.yaml:6: key 'stores[0].baseline.skip[0]': unknown check ID. Known checks: \(checkIDList)")
        #expect(parseError(Self.store("    baseline:\n      cors_max_age_seconds: 1h\n"))
            == "inline.yaml:6: key 'stores[0].baseline.cors_max_age_seconds': expected an integer, found a string")
        #expect(parseError(Self.store("    baseline:\n      cors_max_age_seconds: 99999999999999999999\n"))
            == "inline.yaml:6: key 'stores[0].baseline.cors_max_age_seconds': is too large")
        #expect(parseError(Self.store("    baseline:\n      allow_sse_s3: no\n"))
            == "inline.yaml:6: key 'stores[0].baseline.allow_sse_s3': expected true or false, found a string")
        #expect(parseError(Self.store("    baseline:\n      region: us-east-1\n"))
            == "inline.yaml:6: key 'stores[0].baseline.region': unknown key 'region'. Allowed keys: profile, skip, cors_max_age_seconds, allow_sse_s3, soft_delete_min_days. 'region' is a store setting: put it next to 'baseline', not under it")
        #expect(parseError(Self.store("    skip: [cors]\n"))
            == "inline.yaml:5: key 'stores[0].skip': unknown key 'skip'. Allowed keys: \(storeKeyList). 'skip' goes under 'baseline'")
    }

    // MARK: - Keys

    @Test func duplicateKeysAnywhere() {
        // Flow mapping, both on one line.
        #expect(parseError("stores: [{name: a, provider: aws, bucket: b, bucket: c}]\n")
            == "inline.yaml:1: key 'stores[0].bucket': duplicate key; first defined at line 1. Remove one of them")
        // Three times: the second occurrence is reported.
        #expect(parseError("stores:\n  - name: a\n    provider: aws\n    bucket: b\n    bucket: c\n    bucket: d\n")
            == "inline.yaml:5: key 'stores[0].bucket': duplicate key; first defined at line 4. Remove one of them")
        // Two different keys repeated in one mapping, and a quoted repeat.
        #expect(parseError("stores:\n  - name: a\n    provider: aws\n    \"provider\": gcp\n    bucket: b\n    name: c\n")
            == "inline.yaml:6: key 'stores[0].name': duplicate key; first defined at line 2. Remove one of them")
        // Inside baseline.
        #expect(parseError(Self.store("    baseline:\n      skip: [cors]\n      skip: [iam]\n"))
            == "inline.yaml:7: key 'stores[0].baseline.skip': duplicate key; first defined at line 6. Remove one of them")
        // An escaped spelling of the first occurrence: the key is still named, at its first line.
        #expect(parseError("stores:\n  - name: a\n    provider: aws\n    \"bucke\\x74\": b\n    bucket: c\n")
            == "inline.yaml:4: key 'bucket': duplicate key: defined here and again later in the same mapping. Remove one of them")
        // A custom tag makes Yams see two different keys; the loader still refuses.
        #expect(parseError(Self.store("    !x region: a\n    region: b\n"))
            == "inline.yaml:6: key 'stores[0].region': duplicate key; first defined at line 5. Remove one of them")
    }

    @Test func oddKeys() {
        #expect(parseError(Self.store("    <<: {region: a}\n"))
            == "inline.yaml:5: key 'stores[0].<<': YAML merge keys ('<<') are not supported; write the keys out. Allowed keys: \(storeKeyList)")
        #expect(parseError(Self.store("    ? [region]\n    : a\n"))
            == "inline.yaml:5: key 'stores[0]': keys must be plain names, found a list as a key")
        #expect(parseError("? {a: b}\n: c\n")
            == "inline.yaml:1: keys must be plain names, found a mapping as a key")
        #expect(parseError("\"inter\\x01val\": 5m\n")
            == "inline.yaml:1: key 'inter?val': unknown key 'inter?val' (did you mean 'interval'?). Allowed keys: interval, listen_address, stores")
        let long = String(repeating: "k", count: 100)
        #expect(parseError("\(long): 1\n")
            == "inline.yaml:1: key '\(String(repeating: "k", count: 64))...': unknown key '\(String(repeating: "k", count: 64))...'. Allowed keys: interval, listen_address, stores")
    }

    // MARK: - Whole-file problems

    @Test func nothingToRead() {
        for text in ["", "\n\n", "# only a comment\n", "---\n", "~\n", "null\n"] {
            #expect(parseError(text) == "inline.yaml:1: no configuration found: expected a mapping with 'stores'", "\(text)")
        }
        #expect(parseError("just text\n") == "inline.yaml:1: expected a mapping with 'stores' at the top level, found a string")
        #expect(parseError("stores:\n") == "inline.yaml:1: key 'stores': expected a list of stores, found an empty value")
        #expect(parseError("stores: {name: a}\n") == "inline.yaml:1: key 'stores': expected a list of stores, found a mapping")
    }

    @Test func syntaxErrorsKeepYamlLines() {
        #expect(parseError("stores:\n  - name: a\n    provider: \"aws\n")
            == "inline.yaml:4: invalid YAML: found unexpected end of stream (while scanning a quoted scalar starting at line 3). Check the indentation, colons and quotes here")
        #expect(parseError("interval: 5m\nstores: [{name: a\n")
            == "inline.yaml:3: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping starting at line 2). Check the indentation, colons and quotes here")
        // An IPv6 listen address must be quoted: unquoted, '[' opens a YAML list.
        #expect(parseError("interval: 5m\nlisten_address: [::1]:9750\n")
            == "inline.yaml:2: invalid YAML: did not find expected node content (while parsing a flow node starting at line 2). Check the indentation, colons and quotes here")
        #expect(parseError("stores: *nowhere\n")
            == "inline.yaml:1: invalid YAML: found undefined alias. Check the indentation, colons and quotes here")
        #expect(parseError("interval: 5m\nstores: \"a\u{1}b\"\n")
            == "inline.yaml:2: invalid YAML: control characters are not allowed. Remove the character or save the file as plain UTF-8 text")
    }

    @Test func windowsLineEndingsKeepLineNumbers() {
        #expect(parseError("interval: 5m\r\nstores:\r\n  - name: a\r\n    provider: aws\r\n    bukcet: b\r\n")
            == "inline.yaml:5: key 'stores[0].bukcet': unknown key 'bukcet' (did you mean 'bucket'?). Allowed keys: \(storeKeyList)")
        #expect(parseError("stores:\r\n  - name: a\r\n    provider: aws\r\n    bucket: b\r\n    bucket: c\r\n")
            == "inline.yaml:5: key 'stores[0].bucket': duplicate key; first defined at line 4. Remove one of them")
    }

    @Test func anchorsAndAliasesWork() throws {
        let config = try ConfigLoader.parse(
            "stores:\n  - name: a\n    provider: aws\n    bucket: b\n    baseline: &strict {skip: [cors]}\n"
                + "  - name: c\n    provider: aws\n    bucket: d\n    baseline: *strict\n",
            file: "a.yaml")
        #expect(config.stores.map(\.baseline.skip) == [["cors"], ["cors"]])
    }

    @Test func firstMistakeInDocumentOrderWins() {
        #expect(parseError("stores:\n  - name: a\n    provider: nope\n    bukcet: b\ninterval: 1s\n")
            == "inline.yaml:3: key 'stores[0].provider': must be one of aws, s3, gcp, azure")
        #expect(parseError("interval: 1s\nstores:\n  - name: a\n    provider: nope\n")
            == "inline.yaml:1: key 'interval': must be at least 10s")
    }
}
