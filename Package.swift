// swift-tools-version:6.0
import PackageDescription

// The architecture in one place:
//   CCurl, CSystemd        C interop only: typed, non-variadic shims over libcurl and libsystemd.
//   BucketwatchCore        pure: config model and loader, baselines, evaluation, reports. No I/O.
//   BucketwatchTransport   HTTP over libcurl: timeouts, size caps, connection reuse, retries.
//   BucketwatchAWS         SigV4, AWS credentials, S3 and KMS readers.
//   BucketwatchGCP         Google auth (service-account JWT, metadata server), GCS JSON API reader.
//   BucketwatchApp         wiring: stores -> readers -> evaluation -> output; the daemon (scheduler,
//                          journald, /metrics on SwiftNIO, systemd notify).
//   bucketwatch            the command line (ArgumentParser).
let package = Package(
    name: "bucketwatch",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "bucketwatch", targets: ["bucketwatch"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            path: "Sources/CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CSystemd",
            path: "Sources/CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        .target(
            name: "BucketwatchCore",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "BucketwatchTransport",
            dependencies: ["CCurl", "BucketwatchCore"]
        ),
        .target(
            name: "BucketwatchAWS",
            dependencies: [
                "BucketwatchCore", "BucketwatchTransport",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "BucketwatchGCP",
            dependencies: [
                "BucketwatchCore", "BucketwatchTransport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "BucketwatchApp",
            dependencies: [
                "BucketwatchCore", "BucketwatchTransport", "BucketwatchAWS", "BucketwatchGCP", "CSystemd",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "bucketwatch",
            dependencies: [
                "BucketwatchApp",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "BucketwatchCoreTests", dependencies: ["BucketwatchCore"], exclude: ["Fixtures"]),
        .testTarget(name: "BucketwatchAWSTests", dependencies: ["BucketwatchAWS"]),
        .testTarget(name: "BucketwatchGCPTests", dependencies: ["BucketwatchGCP"]),
        .testTarget(name: "BucketwatchTransportTests", dependencies: ["BucketwatchTransport"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["BucketwatchApp", "BucketwatchAWS", "BucketwatchGCP", "BucketwatchCore", "bucketwatch"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
