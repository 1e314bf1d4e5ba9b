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
}
