import BucketwatchCore

/// Loading plus the checks that need more than the file's shape: each store must
/// resolve to a baseline (a known profile and a vendor principal or service account).
public enum ConfigValidation {
    public static func load(path: String) throws(ConfigError) -> BucketwatchConfig {
        let config = try ConfigLoader.load(path: path)
        for (index, store) in config.stores.enumerated() {
            do {
                switch store.provider {
                case .aws, .s3: _ = try S3Baseline.resolve(for: store)
                case .gcp: _ = try GCSBaseline.resolve(for: store)
                case .azure: break
                }
            } catch {
                throw ConfigError(file: path, line: store.sourceLine, key: "stores[\(index)]", problem: error.description)
            }
        }
        return config
    }
}
