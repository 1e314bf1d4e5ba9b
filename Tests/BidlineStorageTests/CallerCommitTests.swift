import BidlineTestSupport
import Synchronization
import SystemPackage
import Testing

@testable import BidlineStorage

/// ``WALWriter/Options/callerCommits``: the owner writes and syncs on its own thread with `commitPending()`.
@Suite struct CallerCommitTests {
    func openWriter(
        _ directory: FilePath, _ fileSystem: FaultyFileSystem, durability: WALWriter.Durability = .fsync
    ) throws -> WALWriter {
        try WALWriter(
            directory: directory, nextSequence: 1,
            options: .init(durability: durability, preallocate: false, callerCommits: true), fileSystem: fileSystem)
    }

    func enqueue(_ writer: WALWriter, _ sequences: ClosedRange<UInt64>) throws {
        for sequence in sequences {
            try samplePayload(sequence).withUnsafeBytes {
                try writer.enqueue(sequence: sequence, engineTimeMillis: Int64(sequence), payload: $0)
            }
        }
    }

    @Test func acceptedRecordsWaitForTheOwnersCommitWhichWritesThemAsOneGroup() async throws {
        try await withTemporaryDirectory { directory in
            let fileSystem = FaultyFileSystem()
            let writer = try openWriter(directory, fileSystem)
            // Were a record to start the I/O queue, it would stop in this sync and the queue would stay running.
            fileSystem.faults.withLock { $0.holdNextSync = true }
            try enqueue(writer, 1...10)
            #expect(!writer.isCommitting)
            if writer.isCommitting { fileSystem.releaseSync() }  // (only when broken: let the test end)
            #expect(writer.durableSequence == 0)
            #expect(fileSystem.faults.withLock { $0.dataSyncCalls } == 0)
            fileSystem.faults.withLock { $0.holdNextSync = false }

            #expect(writer.commitPending() == .success(10))
            #expect(writer.durableSequence == 10)
            #expect(fileSystem.faults.withLock { $0.dataSyncCalls } == 1)
            #expect(writer.statistics.recordsWritten == 10)
            // Nothing pending: no write, no sync.
            #expect(writer.commitPending() == .success(10))
            #expect(fileSystem.faults.withLock { $0.dataSyncCalls } == 1)

            try enqueue(writer, 11...12)
            #expect(writer.commitPending() == .success(12))
            try await writer.close()
            let records = try WALReader(directory: directory).readAll().records
            #expect(records.map(\.sequence) == Array(1...12))
            #expect(records.last?.payload == samplePayload(12))
        }
    }

    @Test func aWaiterStartsTheQueueSoThatNobodyWaitsOnACommitNoOneMakes() async throws {
        try await withTemporaryDirectory { directory in
            let writer = try openWriter(directory, FaultyFileSystem())
            try enqueue(writer, 1...3)
            try await writer.waitUntilDurable(through: 3)
            #expect(writer.durableSequence == 3)
            #expect(writer.commitPending() == .success(3))
            try await writer.close()
        }
    }

    @Test func commitPendingLeavesTheRecordsToTheQueueWhileItRuns() async throws {
        try await withTemporaryDirectory { directory in
            let fileSystem = FaultyFileSystem()
            let writer = try openWriter(directory, fileSystem)
            fileSystem.faults.withLock { $0.holdNextSync = true }
            try enqueue(writer, 1...1)
            let waiter = Task { try await writer.waitUntilDurable(through: 1) }
            await fileSystem.waitUntilSyncIsHeld()
            try enqueue(writer, 2...3)
            #expect(writer.commitPending() == nil)
            fileSystem.releaseSync()
            try await waiter.value
            // The queue takes the records that arrived during its sync before it stops.
            try await writer.waitUntilDurable(through: 3)
            #expect(await eventually { !writer.isCommitting })
            #expect(writer.commitPending() == .success(3))
            try await writer.close()
            #expect(try WALReader(directory: directory).readAll().records.count == 3)
        }
    }

    @Test func aFailedSyncIsReportedToTheOwnerAndARetryRecovers() async throws {
        try await withTemporaryDirectory { directory in
            let fileSystem = FaultyFileSystem()
            let writer = try openWriter(directory, fileSystem)
            fileSystem.faults.withLock { $0.syncError = .ioError }
            try enqueue(writer, 1...2)
            guard case .failure(.unavailable) = writer.commitPending() else {
                Issue.record("a failed sync must come back as unavailable")
                return
            }
            #expect(writer.durableSequence == 0)
            #expect(!writer.isAvailable)
            fileSystem.heal()
            try await writer.recover()
            #expect(writer.durableSequence == 2)
            try enqueue(writer, 3...3)
            #expect(writer.commitPending() == .success(3))
            try await writer.close()
            #expect(try WALReader(directory: directory).readAll().records.map(\.sequence) == [1, 2, 3])
        }
    }

    @Test func intervalModeWritesOnCommitAndSyncsWithinTheInterval() async throws {
        try await withTemporaryDirectory { directory in
            let fileSystem = FaultyFileSystem()
            let writer = try openWriter(directory, fileSystem, durability: .interval(milliseconds: 2))
            try enqueue(writer, 1...4)
            #expect(writer.commitPending() == .success(4))
            #expect(await eventually { fileSystem.faults.withLock { $0.dataSyncCalls } >= 1 })
            try await writer.close()
            #expect(try WALReader(directory: directory).readAll().records.count == 4)
        }
    }
}
