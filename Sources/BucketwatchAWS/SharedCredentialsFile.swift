import BucketwatchTransport
import Foundation

/// The AWS shared credentials and config files (`~/.aws/credentials`, `~/.aws/config`).
///
/// Sections are `[name]` in the credentials file and `[profile name]` (or `[default]`)
/// in the config file. Only static keys are read here; role assumption from a profile's
/// `web_identity_token_file` + `role_arn` is handed to `WebIdentityCredentialProvider`.
public struct SharedCredentialsFile: Sendable, Equatable {
    public var sections: [String: [String: String]]

    /// Parses INI text. Unknown lines are ignored, as the SDKs do.
    public static func parse(_ text: String, isConfigFile: Bool) -> SharedCredentialsFile {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                var name = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                if isConfigFile, name.hasPrefix("profile ") {
                    name = String(name.dropFirst("profile ".count)).trimmingCharacters(in: .whitespaces)
                }
                current = name
                sections[name, default: [:]] = sections[name] ?? [:]
                continue
            }
            guard let section = current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            sections[section, default: [:]][key] = value
        }
        return SharedCredentialsFile(sections: sections)
    }
}

/// Static keys from a profile of the shared files.
public struct SharedFileCredentialProvider: AWSCredentialProvider {
    public var profile: String
    public var credentialsPath: String
    public var configPath: String?

    public init(profile: String, credentialsPath: String, configPath: String?) {
        self.profile = profile
        self.credentialsPath = credentialsPath
        self.configPath = configPath
    }

    /// Paths the SDKs use, plus the store's own `credentials_file`: a relative path is looked up
    /// in systemd's `$CREDENTIALS_DIRECTORY` first (`LoadCredential=`), then taken as given.
    public static func resolvePaths(storeFile: String?, environment: [String: String]) -> (credentials: String, config: String?) {
        let home = environment["HOME"] ?? NSHomeDirectory()
        if let storeFile {
            return (CredentialFiles.resolve(storeFile, environment: environment), nil)
        }
        let credentials = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "\(home)/.aws/credentials"
        let config = environment["AWS_CONFIG_FILE"] ?? "\(home)/.aws/config"
        return (credentials, config)
    }

    public func credentials() async throws(CredentialError) -> AWSCredentials {
        var merged: [String: String] = [:]
        if let configPath, let text = try? String(contentsOfFile: configPath, encoding: .utf8) {
            merged.merge(SharedCredentialsFile.parse(text, isConfigFile: true).sections[profile] ?? [:]) { _, new in new }
        }
        guard FileManager.default.isReadableFile(atPath: credentialsPath) || !merged.isEmpty else {
            throw CredentialError("credentials file \(credentialsPath) cannot be read")
        }
        if let text = try? String(contentsOfFile: credentialsPath, encoding: .utf8) {
            merged.merge(SharedCredentialsFile.parse(text, isConfigFile: false).sections[profile] ?? [:]) { _, new in new }
        }
        guard let key = merged["aws_access_key_id"], let secret = merged["aws_secret_access_key"], !key.isEmpty, !secret.isEmpty else {
            throw CredentialError("profile '\(profile)' in \(credentialsPath) has no aws_access_key_id and aws_secret_access_key")
        }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: merged["aws_session_token"])
    }

    /// Whether the profile holds static keys (so the default chain should stop here).
    public func hasStaticKeys() -> Bool {
        for (path, isConfig) in [(credentialsPath, false), (configPath, true)] {
            guard let path, let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            if SharedCredentialsFile.parse(text, isConfigFile: isConfig).sections[profile]?["aws_access_key_id"] != nil { return true }
        }
        return false
    }
}
