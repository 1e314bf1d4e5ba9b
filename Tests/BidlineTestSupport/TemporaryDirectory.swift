import Foundation
import SystemPackage

/// A fresh path under the system's temporary directory, `<prefix>-<UUID>`; nothing is created there.
public func temporaryPath(_ prefix: String = "bidline-test") -> FilePath {
    FilePath(NSTemporaryDirectory()).appending("\(prefix)-\(UUID().uuidString)")
}

/// Runs `body` with a fresh, empty directory that is removed afterwards (also when `body` throws).
public func withTemporaryDirectory<Result>(
    _ body: (FilePath) async throws -> Result
) async throws -> Result {
    let path = temporaryPath()
    try FileManager.default.createDirectory(atPath: path.string, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path.string) }
    return try await body(path)
}
