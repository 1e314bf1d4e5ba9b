import Foundation

/// The `bidline` executable built beside the test bundle, for tests that run it as a user would.
///
/// `swift build --build-tests` (what `tools/test` runs) builds every product, the executable included, into the
/// same `.build/<configuration>/` directory as the test bundle; the search walks up from the running test binary.
/// `BIDLINE_BINARY` overrides it.
public enum BidlineExecutable {
    /// The path of the executable, or `nil` when it is not built.
    public static let path: String? = {
        if let override = ProcessInfo.processInfo.environment["BIDLINE_BINARY"] { return override }
        var candidates: [String] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(executable)
        }
        if let executable = Bundle.main.executablePath { candidates.append(executable) }
        candidates.append(CommandLine.arguments[0])
        for candidate in candidates {
            var directory = URL(fileURLWithPath: candidate).deletingLastPathComponent()
            for _ in 0..<5 {
                let binary = directory.appendingPathComponent("bidline").path
                if FileManager.default.isExecutableFile(atPath: binary) { return binary }
                directory.deleteLastPathComponent()
            }
        }
        return nil
    }()

    /// Why the executable is missing, and how to build it.
    public struct Missing: Error, CustomStringConvertible {
        /// How to build it.
        public var description: String {
            "the bidline executable was not found beside the test bundle: build with `swift build --build-tests` "
                + "(tools/test does) or set BIDLINE_BINARY"
        }
    }

    /// The path, or an error explaining how to build it.
    public static func require() throws -> String {
        guard let path else { throw Missing() }
        return path
    }
}
