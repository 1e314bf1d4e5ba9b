import SystemPackage

/// What happens to log segments that every kept snapshot already covers.
///
/// A segment is *covered* when the segment after it starts at or before the sequence of the **oldest** kept
/// snapshot plus one: all its records are at or below that sequence, so recovery — from any kept snapshot,
/// including the fallbacks when newer ones fail to verify — never reads it. The open (newest) segment is never
/// covered.
public enum WALRetention: String, Sendable, Hashable, CaseIterable {
    /// Leave every segment in `wal/` (the operator archives them by hand).
    case keep
    /// Move covered segments to `wal/archive/` (outside what recovery and the tools read; copy them elsewhere
    /// or delete them at leisure).
    case archive
    /// Delete covered segments (the kept snapshots are then the only history before them).
    case delete

    /// The subdirectory of the log directory that `.archive` moves segments to.
    public static let archiveDirectoryName = "archive"

    /// The segments of `directory` covered by a snapshot at `oldestKeptSnapshot`, oldest first.
    public static func coveredSegments(in directory: FilePath, oldestKeptSnapshot: UInt64) throws(StorageError)
        -> [FilePath]
    {
        let segments = try WALSegment.list(in: directory)
        guard segments.count > 1 else { return [] }
        var covered: [FilePath] = []
        for index in 0..<(segments.count - 1) where segments[index + 1].firstSequence <= oldestKeptSnapshot + 1 {
            covered.append(segments[index].path)
        }
        return covered
    }

    /// Applies the policy to the segments covered by `oldestKeptSnapshot`; returns the paths it moved or removed.
    /// The directory is synced after a change, so a crash cannot bring a removed segment back half-way.
    @discardableResult
    public func apply(in directory: FilePath, oldestKeptSnapshot: UInt64) throws(StorageError) -> [FilePath] {
        guard self != .keep else { return [] }
        let covered = try Self.coveredSegments(in: directory, oldestKeptSnapshot: oldestKeptSnapshot)
        guard !covered.isEmpty else { return [] }
        do {
            switch self {
            case .keep:
                break
            case .archive:
                let archive = directory.appending(Self.archiveDirectoryName)
                try FileOps.createDirectoryIfMissing(archive)
                for path in covered {
                    guard let name = path.lastComponent else { continue }
                    try FileOps.rename(path, to: archive.appending(name))
                }
                try syncDirectory(archive)
            case .delete:
                for path in covered { try FileOps.remove(path) }
            }
            try syncDirectory(directory)
        } catch {
            throw .io(error)
        }
        return covered
    }

    private func syncDirectory(_ path: FilePath) throws(IOFailure) {
        do {
            try FileOps.synchronizeDirectory(path)
        } catch {
            throw IOFailure(.syncDirectory, path: path.string, errno: error)
        }
    }
}
