import Foundation

/// Where a store's `credentials_file` lives. Shared by every provider.
public enum CredentialFiles {
    /// `$CREDENTIALS_DIRECTORY` (systemd `LoadCredential=`) is expanded in the path, and a
    /// relative path is looked up there first; otherwise the path is taken as given.
    public static func resolve(_ path: String, environment: [String: String]) -> String {
        var expanded = path
        if let directory = environment["CREDENTIALS_DIRECTORY"] {
            expanded = expanded.replacingOccurrences(of: "${CREDENTIALS_DIRECTORY}", with: directory)
                .replacingOccurrences(of: "$CREDENTIALS_DIRECTORY", with: directory)
            if !expanded.hasPrefix("/") {
                let candidate = "\(directory)/\(expanded)"
                if FileManager.default.fileExists(atPath: candidate) { return candidate }
            }
        }
        return expanded
    }
}
