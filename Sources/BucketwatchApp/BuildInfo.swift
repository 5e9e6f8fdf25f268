/// Version and build facts, shown by `--version` and (in the daemon) `bucketwatch_build_info`.
public enum BuildInfo {
    public static let version = "0.1.0-dev"
}
