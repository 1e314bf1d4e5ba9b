// swift-tools-version:6.1
import PackageDescription

let strictSwift6: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Bidline",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "BidlineCore", targets: ["BidlineCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/attaswift/BigInt.git", from: "6.0.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
        .package(url: "https://github.com/ordo-one/package-benchmark.git", from: "1.29.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(
            name: "BidlineCore",
            dependencies: [
                .product(name: "Collections", package: "swift-collections"),
                .product(name: "BigInt", package: "BigInt"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "BidlineCoreTests",
            dependencies: [
                "BidlineCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSwift6
        ),
        .executableTarget(
            name: "EngineBenchmarks",
            dependencies: [
                "BidlineCore",
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/EngineBenchmarks",
            swiftSettings: strictSwift6,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
    ]
)
