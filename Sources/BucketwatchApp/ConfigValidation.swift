import BucketwatchCore

/// Loading plus the checks that need more than the file's shape: each S3 store must
/// resolve to a baseline (a known profile and a vendor principal).
public enum ConfigValidation {
    public static func load(path: String) throws(ConfigError) -> BucketwatchConfig {
        let config = try ConfigLoader.load(path: path)
        for (index, store) in config.stores.enumerated() where store.provider == .aws || store.provider == .s3 {
            do {
                _ = try S3Baseline.resolve(for: store)
            } catch {
                throw ConfigError(file: path, line: store.sourceLine, key: "stores[\(index)]", problem: error.description)
            }
        }
        return config
    }
}
