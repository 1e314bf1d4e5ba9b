// swift-tools-version:6.1
// A package outside Bidline that uses its client, as a bot author's would: it depends on Bidline by path and on
// the `BidlineClient` product only. `Tests/BidlineClientTests/ConsumerPackageTests.swift` builds it, so that the
// client stays usable as a dependency (no unsafe flags on its targets, nothing it needs left unexported).
import PackageDescription

let package = Package(
    name: "ConsumerBot",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Bidline", path: "../../..")
    ],
    targets: [
        .executableTarget(
            name: "ConsumerBot",
            dependencies: [.product(name: "BidlineClient", package: "Bidline")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
