import BidlineTestSupport
import SystemPackage
import Testing

@testable import BidlineStorage

/// A failing disk, simulated by an injected file system: clear errors, nothing unwritten acknowledged,
/// recovery once the disk works again.
@Suite struct WALWriterFailureTests {
    private func record(_ sequence: UInt64) -> WALRecord {
        WALRecord(sequence: sequence, engineTimeMillis: Int64(sequence), payload: samplePayload(sequence, length: 24))
    }

    @Test func fullDiskRefusesRecordsAcknowledgesNothingUnwrittenAndRecovers() async throws {
        try await withTemporaryDirectory { directory in
            let fileSystem = FaultyFileSystem()
            let writer = try WALWriter(directory: directory, nextSequence: 1, fileSystem: fileSystem)
            let segment = directory.appending(WALSegment.fileName(firstSequence: 1))
            try await writer.append(batch: [record(1), record(2), record(3)])

            // ENOSPC part-way through the write of record 4.
            fileSystem.faults.withLock {
                $0.writeError = .noSpace
                $0.bytesBeforeWriteFailure = 10
            }
            let failure = IOFailure(.write, path: segment.string, errno: .noSpace)
            await #expect(throws: StorageError.unavailable(failure)) { try await writer.append(batch: [record(4)]) }
            #expect(!writer.isAvailable)
            #expect(writer.durableSequence == 3)
            #expect(throws: StorageError.unavailable(failure)) { try writer.enqueue([record(5)]) }
            await #expect(throws: StorageError.unavailable(failure)) { try await writer.recover() }
            await #expect(throws: StorageError.unavailable(failure)) {
                try await writer.append(payload: [0], engineTimeMillis: 0)
            }

            // On disk: exactly the acknowledged records (the partial write was cut back).
            let whileDown = try WALReader(directory: directory, options: .init(readOnly: true)).readAll()
            #expect(whileDown.records.map(\.sequence) == [1, 2, 3])
            #expect(whileDown.report.truncation == nil)

            // The disk works again: the next append first rewrites the kept record 4, then its own.
            fileSystem.heal()
            try await writer.append(batch: [record(5)])
            #expect(writer.isAvailable)
            #expect(writer.durableSequence == 5)
            try await writer.close()
            let (records, report) = try WALReader(directory: directory).readAll()
            #expect(records == (1...5).map(record))
            #expect(report.truncation == nil)
            #expect(writer.statistics.failedAttempts >= 3)
        }
    }

    @Test func everyWaiterOfAFailedGroupFailsAndNoneIsAcknowledged() async throws {
        try await withTemporaryDirectory { directory in
            let fileSystem = FaultyFileSystem()
            let writer = try WALWriter(directory: directory, nextSequence: 1, fileSystem: fileSystem)
            try await writer.append(batch: [record(1)])
            fileSystem.faults.withLock {
                $0.holdNextSync = true
                $0.syncError = .ioError
            }
            let held = Task { try await writer.append(batch: [record(2)]) }
            await fileSystem.waitUntilSyncIsHeld()
            // Accepted while the failing sync runs: these fail with it.
            let last = try writer.enqueue([record(3), record(4)])
            let waiter = Task { try await writer.waitUntilDurable(through: last) }
            fileSystem.releaseSync()
            await #expect(throws: StorageError.self) { try await held.value }
            await #expect(throws: StorageError.self) { try await waiter.value }
            #expect(writer.durableSequence == 1)
            #expect(try WALReader(directory: directory, options: .init(readOnly: true)).readAll().records.count == 1)

            fileSystem.heal()
            try await writer.recover()
            #expect(writer.durableSequence == 4)
            try await writer.close()
            #expect(try WALReader(directory: directory).readAll().records == (1...4).map(record))
        }
    }

    /// After a failed fdatasync the data is written again before the next sync, never assumed durable.
    @Test func aFailedSyncRewritesTheDataBeforeSyncingAgain() async throws {
        try await withTemporaryDirectory { directory in
            let fileSystem = FaultyFileSystem()
            let writer = try WALWriter(directory: directory, nextSequence: 1, fileSystem: fileSystem)
            try await writer.append(batch: [record(1)])
            fileSystem.faults.withLock { $0.syncError = .ioError }
            await #expect(
                throws: StorageError.unavailable(
                    IOFailure(
                        .sync, path: directory.appending(WALSegment.fileName(firstSequence: 1)).string, errno: .ioError)
                )
            ) { try await writer.append(batch: [record(2)]) }
            let writesBefore = fileSystem.faults.withLock { $0.writeCalls }
            fileSystem.heal()
            try await writer.recover()
            #expect(fileSystem.faults.withLock { $0.writeCalls } == writesBefore + 1)
            try await writer.close()
            #expect(try WALReader(directory: directory).readAll().records == [record(1), record(2)])
        }
    }

    @Test(arguments: [false, true])
    func aFailedSegmentRolloverIsRetried(preallocate: Bool) async throws {
        try await withTemporaryDirectory { directory in
            let fileSystem = FaultyFileSystem()
            let writer = try WALWriter(
                directory: directory, nextSequence: 1, options: .init(segmentSizeLimit: 150, preallocate: preallocate),
                fileSystem: fileSystem)
            try await writer.append(batch: [record(1), record(2)])  // 32 + 2 × 56 bytes: the segment is full
            if preallocate {
                // The spare for segment 3 is being prepared; once ready, putting it in place fails, and so
                // does creating the segment without it.
                #expect(await eventually { writer.statistics.sparesPrepared == 2 })
                fileSystem.faults.withLock { $0.renameError = .noSpace }
            }
            fileSystem.faults.withLock { $0.createError = .noSpace }
            let next = directory.appending(WALSegment.fileName(firstSequence: 3))
            await #expect(throws: StorageError.unavailable(IOFailure(.open, path: next.string, errno: .noSpace))) {
                try await writer.append(batch: [record(3)])
            }
            fileSystem.heal()
            try await writer.append(batch: [record(4)])
            try await writer.close()
            #expect(try WALSegment.list(in: directory).map(\.firstSequence) == [1, 3])
            #expect(try WALReader(directory: directory).readAll().records == (1...4).map(record))
        }
    }

    @Test func closingWhileTheDiskIsDownReportsTheUnwrittenRecords() async throws {
        try await withTemporaryDirectory { directory in
            let fileSystem = FaultyFileSystem()
            let writer = try WALWriter(directory: directory, nextSequence: 1, fileSystem: fileSystem)
            try await writer.append(batch: [record(1)])
            fileSystem.faults.withLock { $0.writeError = .ioError }
            await #expect(throws: StorageError.self) { try await writer.append(batch: [record(2)]) }
            await #expect(throws: StorageError.self) { try await writer.close() }
            #expect(!writer.isAvailable)
            #expect(throws: StorageError.closed) { try writer.enqueue([record(2)]) }
            #expect(try WALReader(directory: directory).readAll().records == [record(1)])
        }
    }

    /// The same with the disk's memory modelled: the failed sync drops the data written before it, so only
    /// the rewrite before the next sync puts record 2 on disk.
    @Test func aFailedSyncThatDropsTheDataIsRepairedByTheRewrite() async throws {
        try await withTemporaryDirectory { directory in
            let fileSystem = FaultyFileSystem()
            fileSystem.faults.withLock { $0.dropsUnsyncedWritesOnSyncFailure = true }
            let writer = try WALWriter(
                directory: directory, nextSequence: 1, options: .init(segmentSizeLimit: 1 << 20),
                fileSystem: fileSystem)
            try await writer.append(batch: [record(1)])
            fileSystem.faults.withLock { $0.syncErrorOnce = .ioError }
            await #expect(throws: StorageError.self) { try await writer.append(batch: [record(2)]) }
            #expect(try onDisk(directory) == [1])
            try await writer.recover()  // the next sync succeeds on its own: only the rewrite makes 2 durable
            #expect(try onDisk(directory) == [1, 2])
            try await writer.close()
            #expect(try WALReader(directory: directory).readAll().records == [record(1), record(2)])
        }
    }

    /// `.interval` mode acknowledges after the write; a failing background sync then makes the log
    /// unavailable until a sync succeeds.
    @Test func aFailedIntervalSyncMakesTheLogUnavailableUntilASyncSucceeds() async throws {
        try await withTemporaryDirectory { directory in
            let fileSystem = FaultyFileSystem()
            let writer = try WALWriter(
                directory: directory, nextSequence: 1, options: .init(durability: .interval(milliseconds: 1)),
                fileSystem: fileSystem)
            fileSystem.faults.withLock { $0.syncError = .ioError }
            try await writer.append(batch: [record(1)])  // acknowledged after pwrite
            #expect(await eventually { !writer.isAvailable })
            #expect(throws: StorageError.self) { try writer.enqueue([record(2)]) }
            fileSystem.heal()
            try await writer.recover()
            #expect(writer.isAvailable)
            try await writer.append(batch: [record(2)])
            try await writer.close()
            #expect(try WALReader(directory: directory).readAll().records == [record(1), record(2)])
        }
    }

    /// Issue 12, item 5. Linux reports a failed writeback once: the next sync succeeds although the data never
    /// reached the disk. In `.interval` mode the records written since the last good sync were already
    /// acknowledged; after the failed sync they must be written again (at their offsets) and synced before
    /// the log reopens, and until then `durableSequence` must not cover them.
    @Test func aFailedIntervalSyncRewritesTheAcknowledgedRecordsItMayHaveLost() async throws {
        try await withTemporaryDirectory { directory in
            let fileSystem = FaultyFileSystem()
            fileSystem.faults.withLock { $0.dropsUnsyncedWritesOnSyncFailure = true }
            let writer = try WALWriter(
                directory: directory, nextSequence: 1,
                options: .init(durability: .interval(milliseconds: 1), segmentSizeLimit: 1 << 20),
                fileSystem: fileSystem)
            try await writer.append(batch: [record(1), record(2)])
            // The segment header's sync, then the interval sync of records 1 and 2.
            #expect(await eventually { writer.statistics.synchronizations >= 2 })
            #expect(try onDisk(directory) == [1, 2])

            // The next sync fails once and the kernel drops the pages written since the last one.
            fileSystem.faults.withLock { $0.syncErrorOnce = .ioError }
            try await writer.append(batch: [record(3), record(4), record(5)])  // acknowledged after pwrite
            #expect(await eventually { !writer.isAvailable })
            // (Counted now: the refused enqueue below already starts a retry in the background.)
            let writesBefore = fileSystem.faults.withLock { $0.writeCalls }
            #expect(try onDisk(directory) == [1, 2])  // records 3...5 are lost on disk
            #expect(writer.durableSequence == 2)  // and no longer counted as durable
            await #expect(throws: StorageError.self) { try await writer.waitUntilDurable(through: 5) }
            #expect(throws: StorageError.self) { try writer.enqueue([record(6)]) }

            // The retry rewrites 3...5 and syncs; the sync after a reported error succeeds by itself, so
            // without the rewrite the records would stay lost.
            try await writer.recover()
            #expect(writer.isAvailable)
            #expect(writer.durableSequence == 5)
            #expect(fileSystem.faults.withLock { $0.writeCalls } > writesBefore)
            #expect(try onDisk(directory) == [1, 2, 3, 4, 5])
            try await writer.append(batch: [record(6)])
            try await writer.close()
            // Exactly once and in order (the reader refuses a repeated or missing sequence).
            let (records, report) = try WALReader(directory: directory).readAll()
            #expect(records == (1...6).map(record))
            #expect(report.truncation == nil)
        }
    }

    /// The failed sync is the one that finishes a full segment before the next begins (`.interval` mode): the
    /// lost records go back into that segment, at their offsets, before the new segment is created.
    @Test func aFailedIntervalSyncAtSegmentRolloverRewritesTheOldSegmentFirst() async throws {
        try await withTemporaryDirectory { directory in
            let fileSystem = FaultyFileSystem()
            fileSystem.faults.withLock { $0.dropsUnsyncedWritesOnSyncFailure = true }
            // No interval sync within the test: the rollover's sync is the first after the header's.
            let writer = try WALWriter(
                directory: directory, nextSequence: 1,
                options: .init(durability: .interval(milliseconds: 600_000), segmentSizeLimit: 150),
                fileSystem: fileSystem)
            try await writer.append(batch: [record(1)])
            #expect(writer.durableSequence == 1)
            fileSystem.faults.withLock { $0.syncErrorOnce = .ioError }
            // Record 2 fills segment 1 (32 + 2 × 56 bytes); record 3 starts segment 3, whose creation syncs
            // segment 1 first: that sync fails and drops records 1 and 2.
            await #expect(throws: StorageError.self) { try await writer.append(batch: [record(2), record(3)]) }
            #expect(!writer.isAvailable)
            #expect(writer.durableSequence == 0)
            #expect(try onDisk(directory) == [])

            try await writer.recover()
            #expect(writer.durableSequence == 3)
            #expect(try onDisk(directory) == [1, 2, 3])
            try await writer.close()
            #expect(try WALSegment.list(in: directory).map(\.firstSequence) == [1, 3])
            #expect(try WALReader(directory: directory).readAll().records == (1...3).map(record))
        }
    }

    /// A write fails (ENOSPC) while earlier records are still unsynced; then their sync fails too. The retry
    /// must write both, in sequence order: first the records the sync lost, then the unwritten ones.
    @Test func aFailedIntervalSyncAfterAFailedWriteKeepsSequenceOrder() async throws {
        try await withTemporaryDirectory { directory in
            let fileSystem = FaultyFileSystem()
            fileSystem.faults.withLock { $0.dropsUnsyncedWritesOnSyncFailure = true }
            let writer = try WALWriter(
                directory: directory, nextSequence: 1,
                options: .init(durability: .interval(milliseconds: 600_000), segmentSizeLimit: 1 << 20),
                fileSystem: fileSystem)
            try await writer.append(batch: [record(1), record(2)])  // written, not synced
            fileSystem.faults.withLock { $0.writeError = .noSpace }
            await #expect(throws: StorageError.self) { try await writer.append(batch: [record(3)]) }
            #expect(writer.durableSequence == 2)
            // The disk comes back, but the first sync fails once and drops records 1 and 2: the retry's sync.
            fileSystem.faults.withLock {
                $0.writeError = nil
                $0.syncErrorOnce = .ioError
            }
            await #expect(throws: StorageError.self) { try await writer.recover() }
            #expect(writer.durableSequence == 0)
            #expect(try onDisk(directory) == [])
            try await writer.recover()
            #expect(writer.durableSequence == 3)
            try await writer.close()
            #expect(try WALReader(directory: directory).readAll().records == (1...3).map(record))
        }
    }

    /// The sequences a read-only reader finds on disk now (the writer's files, as the fault model left them).
    private func onDisk(_ directory: FilePath) throws -> [UInt64] {
        try WALReader(directory: directory, options: .init(readOnly: true)).readAll().records.map(\.sequence)
    }
}
