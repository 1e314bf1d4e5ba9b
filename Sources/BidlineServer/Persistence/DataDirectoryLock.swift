import Foundation
import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive lock on a data directory (`<dir>/LOCK`, `flock`), held by the server for its lifetime, so that
/// a second server — or an offline tool that writes, such as `bidline snapshot take` — cannot open a directory
/// that a live server is appending to. The lock file holds the owner's process id, for the error message. The
/// kernel releases the lock when the process exits, however it exits (kill -9 included), so a crash never
/// leaves a stale lock.
public final class DataDirectoryLock: Sendable {
    /// The lock file's path.
    public let path: FilePath
    private let descriptor: FileDescriptor
    private let held = Mutex(true)

    /// A data directory that another process (or another open host in this process) holds.
    public struct InUse: Error, CustomStringConvertible {
        public let path: String
        /// The holder's process id as it wrote it, if readable.
        public let holder: String?

        public var description: String {
            "data directory \(path) is in use" + (holder.map { " by process \($0)" } ?? "")
                + " (its LOCK file is held); stop that server first, or use another --data-dir"
        }
    }

    /// Takes the lock on `directory` (creating the directory and the lock file if needed), or throws
    /// ``InUse`` at once if it is held.
    public init(_ directory: DataDirectory) throws {
        try FileManager.default.createDirectory(atPath: directory.root.string, withIntermediateDirectories: true)
        path = directory.root.appending("LOCK")
        descriptor = try FileDescriptor.open(
            path, .readWrite, options: [.create, .closeOnExec], permissions: [.ownerReadWrite, .groupRead, .otherRead])
        if flock(descriptor.rawValue, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOfFile: path.string, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            try? descriptor.close()
            throw InUse(path: directory.root.string, holder: holder?.isEmpty == false ? holder : nil)
        }
        _ = try? descriptor.resize(to: 0)
        _ = try? descriptor.writeAll(toAbsoluteOffset: 0, Array("\(getpid())\n".utf8))
    }

    /// Releases the lock (also done when the object goes away, and when the process exits). Idempotent.
    public func release() {
        let wasHeld = held.withLock { held in
            defer { held = false }
            return held
        }
        if wasHeld { try? descriptor.close() }
    }

    deinit { release() }
}
