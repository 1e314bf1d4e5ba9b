import BidlineCore
import BidlineStorage
import Foundation
import SystemPackage

/// Ticks, snapshots and the graceful shutdown's final flush and snapshot.
extension EngineHost {
    /// Journals a tick when a deadline has passed (system clock; called about once a second).
    public func tickIfDue() async {
        guard configuration.clock == .system, let deadline = engine.nextDeadlineMillis else { return }
        let now = stampTime()
        guard now > deadline, wal.isAvailable else { return }
        _ = try? await journalAndApply(.tick)
    }

    /// Takes a snapshot: the state is captured as a value here (O(chunks): matching does not stop), then encoded,
    /// compressed and written on another task.
    public func snapshot() async throws -> (path: String, sequence: UInt64) {
        let sequence = nextSequence - 1
        if let lastSnapshot, lastSnapshot.sequence == sequence { return lastSnapshot }
        try await wal.waitUntilDurable(through: sequence)
        let captured = engine.state
        let directory = self.directory
        let keep = configuration.keepSnapshots
        let retention = configuration.walRetention
        snapshotInFlight = true
        defer { snapshotInFlight = false }
        let (info, retired) = try await Task.detached(priority: .utility) {
            // One pass produces the bytes and the state hash.
            let (bytes, digest) = captured.encodedWithDigest()
            let info = try SnapshotFile.write(
                payload: bytes, sequence: sequence,
                stateHash: SnapshotStateHash(bytes: digest + [UInt8](repeating: 0, count: 16)),
                to: directory.snapshots, options: SnapshotOptions(keepLast: keep))
            // Segments that even the oldest kept snapshot covers are never read by recovery again.
            var retired: [FilePath] = []
            if retention != .keep, let oldest = try SnapshotFile.list(in: directory.snapshots).first?.sequence {
                retired = try retention.apply(in: directory.wal, oldestKeptSnapshot: oldest)
            }
            return (info, retired)
        }.value
        if let last = retired.last {
            logger.info(
                "log segments \(retention == .archive ? "archived" : "deleted")",
                metadata: ["count": "\(retired.count)", "through": "\(last.lastComponent?.string ?? "?")"])
        }
        recordsSinceSnapshot = 0
        let result = (path: info.path.string, sequence: sequence)
        lastSnapshot = result
        wal.startNewSegment()
        logger.info("snapshot written", metadata: ["path": "\(info.path)", "sequence": "\(sequence)"])
        return result
    }

    func maybeSnapshot() {
        guard configuration.snapshotEveryRecords > 0, recordsSinceSnapshot >= configuration.snapshotEveryRecords,
            !snapshotInFlight
        else { return }
        snapshotInFlight = true
        Task { [weak self] in
            do { _ = try await self?.snapshot() } catch {
                self?.logger.error("automatic snapshot failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Flushes the log and takes a final snapshot (graceful shutdown).
    public func shutdown() async {
        do {
            try await wal.waitUntilDurable(through: nextSequence - 1)
            _ = try await snapshot()
        } catch {
            logger.error("shutdown snapshot failed", metadata: ["error": "\(error)"])
        }
        try? await wal.close()
        lock.release()
    }
}
