// swift-tools-version:6.1
import PackageDescription

// A release-build micro-timing of line framing: the server's framer before issue 11 (a copy, the baseline)
// against the protocol's StreamLineFramer (the real file, by a symbolic link). Run:
// `cd tools/framer-timing && swift run -c release`.
let package = Package(
    name: "FramerTiming",
    dependencies: [.package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0")],
    targets: [
        .executableTarget(
            name: "FramerTiming",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])])
    ]
)
