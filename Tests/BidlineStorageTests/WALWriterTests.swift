import BidlineTestSupport
import Synchronization
import SystemPackage
import Testing

@testable import BidlineStorage

@Suite struct WALWriterTests {
    @Test(arguments: [WALWriter.Durability.fsync, .interval(milliseconds: 5), .none])
    func recordsRoundTripThroughTheLog(durability: WALWriter.Durability) async throws {
        try await withTemporaryDirectory { directory in
            try await writeSampleLog(in: directory, count: 200, options: .init(durability: durability))
            let (records, report) = try WALReader(directory: directory).readAll()
            #expect(records.count == 200)
            for (index, record) in records.enumerated() {
                let sequence = UInt64(index + 1)
                #expect(
                    record
                        == WALRecord(
                            sequence: sequence, engineTimeMillis: 1_700_000_000_000 + Int64(sequence),
                            payload: samplePayload(sequence)))
            }
            #expect(report.truncation == nil)
            #expect(report.lastSequence == 200)
            #expect(report.segments.count == 1)
        }
    }

    @Test func segmentsRollOverAtTheSizeLimitAndStayContinuous() async throws {
        try await withTemporaryDirectory { directory in
            // 32-byte payloads make 64-byte records: 4 fit in a 300-byte segment after its 32-byte header.
            let options = WALWriter.Options(durability: .fsync, segmentSizeLimit: 300)
            let writer = try WALWriter(directory: directory, nextSequence: 1, options: options)
            for sequence in 1...10 as ClosedRange<UInt64> {
                try await writer.append(
                    payload: samplePayload(sequence, length: 32), sequence: sequence, engineTimeMillis: 0)
            }
            try await writer.close()
            let names = try WALSegment.list(in: directory).map(\.firstSequence)
            #expect(names == [1, 5, 9])
            let (records, report) = try WALReader(directory: directory).readAll()
            #expect(records.map(\.sequence) == Array(1...10))
            #expect(report.segments.map(\.recordCount) == [4, 4, 2])
            #expect(try FileOps.fileSize(directory.appending(WALSegment.fileName(firstSequence: 1))) == 32 + 4 * 64)
        }
    }

    @Test func aRecordLargerThanTheSegmentLimitGetsASegmentOfItsOwn() async throws {
        try await withTemporaryDirectory { directory in
            let writer = try WALWriter(
                directory: directory, nextSequence: 1, options: .init(durability: .none, segmentSizeLimit: 100))
            try await writer.append(batch: [
                WALRecord(sequence: 1, engineTimeMillis: 0, payload: [1]),
                WALRecord(sequence: 2, engineTimeMillis: 0, payload: samplePayload(2, length: 500)),
                WALRecord(sequence: 3, engineTimeMillis: 0, payload: [3]),
            ])
            try await writer.close()
            #expect(try WALSegment.list(in: directory).map(\.firstSequence) == [1, 2, 3])
            #expect(try WALReader(directory: directory).readAll().records.map(\.sequence) == [1, 2, 3])
        }
    }

    @Test func startNewSegmentBeginsTheNextRecordInAFreshFile() async throws {
        try await withTemporaryDirectory { directory in
            let writer = try WALWriter(directory: directory, nextSequence: 1, options: .init(durability: .none))
            try await writer.append(payload: [1], sequence: 1, engineTimeMillis: 0)
            #expect(writer.startNewSegment() == 2)
            try await writer.append(payload: [2], sequence: 2, engineTimeMillis: 0)
            try await writer.close()
            #expect(try WALSegment.list(in: directory).map(\.firstSequence) == [1, 2])
        }
    }

    @Test func reopeningContinuesAfterTheLastRecord() async throws {
        try await withTemporaryDirectory { directory in
            try await writeSampleLog(in: directory, count: 5)
            let report = try WALReader(directory: directory).forEachRecord { _ in }
            let next = (report.lastSequence ?? 0) + 1
            let writer = try WALWriter(directory: directory, nextSequence: next, options: .init(durability: .none))
            try await writer.append(payload: samplePayload(6), sequence: 6, engineTimeMillis: 0)
            try await writer.close()
            #expect(try WALReader(directory: directory).readAll().records.map(\.sequence) == Array(1...6))
            // Opening at a sequence the log already holds would fork it.
            #expect(throws: StorageError.self) { try WALWriter(directory: directory, nextSequence: 3) }
        }
    }

    @Test func outOfOrderAndOversizedRecordsAreRefusedWithoutEffect() async throws {
        try await withTemporaryDirectory { directory in
            let writer = try WALWriter(
                directory: directory, nextSequence: 1, options: .init(durability: .none, maxPayloadLength: 16))
            #expect(throws: StorageError.sequenceOutOfOrder(expected: 1, got: 2)) {
                try writer.enqueue([WALRecord(sequence: 2, engineTimeMillis: 0, payload: [])])
            }
            // A batch is all or nothing: the bad second record keeps the first one out too.
            #expect(throws: StorageError.payloadTooLarge(length: 17, limit: 16)) {
                try writer.enqueue([
                    WALRecord(sequence: 1, engineTimeMillis: 0, payload: []),
                    WALRecord(sequence: 2, engineTimeMillis: 0, payload: [UInt8](repeating: 0, count: 17)),
                ])
            }
            #expect(writer.nextSequence == 1)
            try await writer.append(payload: [9], sequence: 1, engineTimeMillis: 0)
            try await writer.close()
            await #expect(throws: StorageError.closed) {
                try await writer.append(payload: [], sequence: 2, engineTimeMillis: 0)
            }
            #expect(try WALReader(directory: directory).readAll().records.map(\.payload) == [[9]])
        }
    }

    /// Records that arrive while a sync runs are written together by the next write+sync.
    @Test func recordsArrivingDuringASyncFormTheNextGroup() async throws {
        try await withTemporaryDirectory { directory in
            let fileSystem = FaultyFileSystem()
            let writer = try WALWriter(directory: directory, nextSequence: 1, fileSystem: fileSystem)
            fileSystem.faults.withLock { $0.holdNextSync = true }
            async let first: Void = writer.append(payload: [1], sequence: 1, engineTimeMillis: 0)
            await fileSystem.waitUntilSyncIsHeld()
            // The first group's fdatasync is in progress; these three wait for the next one.
            for sequence in 2...4 as ClosedRange<UInt64> {
                try writer.enqueue([WALRecord(sequence: sequence, engineTimeMillis: 0, payload: [UInt8(sequence)])])
            }
            #expect(writer.durableSequence == 0)
            fileSystem.releaseSync()
            try await first
            try await writer.waitUntilDurable(through: 4)
            let statistics = writer.statistics
            #expect(statistics.groupsWritten == 2)
            #expect(statistics.recordsWritten == 4)
            #expect(fileSystem.faults.withLock { ($0.writeCalls, $0.dataSyncCalls) } == (3, 2))  // header + 2 groups
            try await writer.close()
            #expect(try WALReader(directory: directory).readAll().records.map(\.sequence) == [1, 2, 3, 4])
        }
    }

    /// Many concurrent appenders: every acknowledged record is on disk, in sequence order, with its payload.
    @Test func concurrentAppendersAllDurableInSequenceOrder() async throws {
        try await withTemporaryDirectory { directory in
            let writer = try WALWriter(directory: directory, nextSequence: 1)
            let appenders = 32
            let appendsEach = 40
            let acknowledged = try await withThrowingTaskGroup(of: [(UInt64, [UInt8])].self) { group in
                for appender in 0..<appenders {
                    group.addTask {
                        var mine: [(UInt64, [UInt8])] = []
                        for index in 0..<appendsEach {
                            let payload = Array("appender \(appender) append \(index)".utf8)
                            let sequence = try await writer.append(payload: payload, engineTimeMillis: Int64(index))
                            #expect(writer.durableSequence >= sequence)
                            mine.append((sequence, payload))
                        }
                        return mine
                    }
                }
                var all: [UInt64: [UInt8]] = [:]
                for try await mine in group { for (sequence, payload) in mine { all[sequence] = payload } }
                return all
            }
            #expect(acknowledged.count == appenders * appendsEach)
            let statistics = writer.statistics
            #expect(statistics.recordsWritten == appenders * appendsEach)
            #expect(statistics.groupsWritten <= statistics.recordsWritten)
            try await writer.close()
            let (records, report) = try WALReader(directory: directory).readAll()
            #expect(records.map(\.sequence) == Array(1...UInt64(appenders * appendsEach)))
            for record in records { #expect(acknowledged[record.sequence] == record.payload) }
            #expect(report.truncation == nil)
        }
    }

    /// The engine's pattern: one sequencer enqueues in order, replies wait for durability concurrently.
    @Test func sequencerEnqueuesWhileRepliesAwaitDurability() async throws {
        try await withTemporaryDirectory { directory in
            let writer = try WALWriter(
                directory: directory, nextSequence: 1, options: .init(durability: .interval(milliseconds: 2)))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for batch in 0..<50 {
                    let records = (1...10).map { offset in
                        let sequence = UInt64(batch * 10 + offset)
                        return WALRecord(sequence: sequence, engineTimeMillis: 0, payload: samplePayload(sequence))
                    }
                    let last = try writer.enqueue(records)
                    group.addTask { try await writer.waitUntilDurable(through: last) }
                }
                try await group.waitForAll()
            }
            #expect(writer.durableSequence == 500)
            try await writer.close()
            #expect(try WALReader(directory: directory).readAll().records.count == 500)
        }
    }

    @Test func borrowedPayloadEnqueueMatchesTheArrayPath() async throws {
        try await withTemporaryDirectory { directory in
            let writer = try WALWriter(directory: directory, nextSequence: 10, options: .init(durability: .none))
            let payload = samplePayload(10, length: 20)
            try payload.withUnsafeBytes { try writer.enqueue(sequence: 10, engineTimeMillis: 5, payload: $0) }
            try await writer.waitUntilDurable(through: 10)
            try await writer.close()
            #expect(
                try WALReader(directory: directory).readAll().records == [
                    WALRecord(sequence: 10, engineTimeMillis: 5, payload: payload)
                ])
        }
    }

    @Test func intervalModeSyncsWithoutFurtherAppends() async throws {
        try await withTemporaryDirectory { directory in
            let fileSystem = FaultyFileSystem()
            let writer = try WALWriter(
                directory: directory, nextSequence: 1, options: .init(durability: .interval(milliseconds: 1)),
                fileSystem: fileSystem)
            try await writer.append(payload: [1], sequence: 1, engineTimeMillis: 0)
            #expect(await eventually { fileSystem.faults.withLock { $0.dataSyncCalls } >= 1 })
            // The background sync is counted and timed like a group's (METRICS reports both).
            #expect(await eventually { writer.statistics.synchronizations >= 1 })
            #expect(writer.statistics.syncNanosTotal > 0)
            try await writer.recover()  // available: returns at once
            try await writer.close()
            try await writer.close()  // closing twice is harmless
        }
    }
}

/// Independent appenders without tasks: `enqueue(payload:engineTimeMillis:)` assigns the sequence, and each
/// appender appends its next record from the durability callback of the previous one.
@Suite struct EventDrivenAppenderTests {
    /// One appender's chain; touched only from its own callbacks (one record in flight at a time).
    private final class Chain: @unchecked Sendable {
        let writer: WALWriter
        let identity: UInt8
        var remaining: Int
        var sequences: [UInt64] = []
        let finished: @Sendable (Result<Void, StorageError>) -> Void

        init(writer: WALWriter, identity: UInt8, count: Int, finished: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
            self.writer = writer
            self.identity = identity
            self.remaining = count
            self.finished = finished
        }

        func next() {
            guard remaining > 0 else { return finished(.success(())) }
            remaining -= 1
            let enqueued = [identity].withUnsafeBytes { payload in
                Result { () throws(StorageError) in try writer.enqueue(payload: payload, engineTimeMillis: 1) }
            }
            let sequence: UInt64
            switch enqueued {
            case .success(let assigned): sequence = assigned
            case .failure(let error): return finished(.failure(error))
            }
            sequences.append(sequence)
            writer.whenDurable(through: sequence) { result in
                switch result {
                case .success: self.next()
                case .failure(let error): self.finished(.failure(error))
                }
            }
        }
    }

    @Test(arguments: [WALWriter.Durability.fsync, .none])
    func eachAppenderChainsItsRecordsThroughCallbacks(durability: WALWriter.Durability) async throws {
        try await withTemporaryDirectory { directory in
            let writer = try WALWriter(directory: directory, nextSequence: 1, options: .init(durability: durability))
            let (appenders, each) = (8, 50)
            let outcomes = Mutex<[Result<Void, StorageError>]>([])
            let chains = await withCheckedContinuation { (done: CheckedContinuation<[Chain], Never>) in
                let chains = Mutex<[Chain]>([])
                for identity in 0..<appenders {
                    let chain = Chain(writer: writer, identity: UInt8(identity), count: each) { outcome in
                        let all = outcomes.withLock { outcomes -> Bool in
                            outcomes.append(outcome)
                            return outcomes.count == appenders
                        }
                        if all { done.resume(returning: chains.withLock { $0 }) }
                    }
                    chains.withLock { $0.append(chain) }
                }
                for chain in chains.withLock({ $0 }) { chain.next() }
            }
            #expect(outcomes.withLock { $0.allSatisfy { (try? $0.get()) != nil } })
            #expect(writer.durableSequence == UInt64(appenders * each))
            try await writer.close()
            let records = try WALReader(directory: directory).readAll().records
            #expect(records.map(\.sequence) == Array(1...UInt64(appenders * each)))
            for chain in chains {
                #expect(chain.sequences.count == each)
                #expect(chain.sequences == chain.sequences.sorted())
                // The log holds this appender's payload at exactly the sequences it was given.
                #expect(chain.sequences.allSatisfy { records[Int($0) - 1].payload == [chain.identity] })
            }
        }
    }
}
