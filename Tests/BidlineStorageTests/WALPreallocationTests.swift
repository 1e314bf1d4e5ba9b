import BidlineTestSupport
import SystemPackage
import Testing

@testable import BidlineStorage

/// Zero-filled segments (``WALWriter/Options/preallocate``): the writer overwrites them, the reader
/// stops at their zero tail, and every failure falls back to segments that grow.
@Suite struct WALPreallocationTests {
    private func record(_ sequence: UInt64) -> WALRecord {
        WALRecord(sequence: sequence, engineTimeMillis: 7, payload: samplePayload(sequence, length: 24))
    }

    private func fileLength(_ path: FilePath) throws -> Int64 {
        try #require(try FileOps.fileSize(path))
    }

    /// Records 1…4 in a preallocated 4 KiB segment that stays open (as after a crash); `damage` edits its bytes,
    /// then `check` reads the directory. The writer is kept alive until `check` is done.
    private func withDamagedOpenSegment(
        _ damage: (inout [UInt8]) -> Void, check: (FilePath, FilePath) throws -> Void
    ) async throws {
        try await withTemporaryDirectory { directory in
            let options = WALWriter.Options(durability: .fsync, segmentSizeLimit: 4096)
            let writer = try WALWriter(directory: directory, nextSequence: 1, options: options)
            try await writer.append(batch: (1...4).map(record))
            let segment = directory.appending(WALSegment.fileName(firstSequence: 1))
            var bytes = try fileBytes(segment)
            damage(&bytes)
            try writeFile(segment, bytes)
            try check(directory, segment)
            withExtendedLifetime(writer) {}
        }
    }

    @Test func segmentsAreZeroFilledAheadAndCutToTheirDataWhenFinished() async throws {
        try await withTemporaryDirectory { directory in
            // 56-byte records: 4 fill a 256-byte segment after its 32-byte header.
            let options = WALWriter.Options(durability: .fsync, segmentSizeLimit: 256)
            #expect(options.preallocate)
            let writer = try WALWriter(directory: directory, nextSequence: 1, options: options)
            try await writer.append(batch: (1...3).map(record))
            let first = directory.appending(WALSegment.fileName(firstSequence: 1))
            // The open segment is the zero-filled spare, renamed: full length, zeros after the records.
            #expect(try fileLength(first) == 256)
            let (live, liveReport) = try WALReader(directory: directory, options: .init(readOnly: true)).readAll()
            #expect(live == (1...3).map(record))
            #expect(liveReport.truncation == nil)
            let unused: Int64 = 256 - 32 - 3 * 56
            #expect(liveReport.segments.map(\.unusedLength) == [unused])
            // The next spare is prepared in the background; the rollover takes it.
            #expect(await eventually { writer.statistics.sparesPrepared == 2 })
            try await writer.append(batch: (4...6).map(record))
            try await writer.close()
            let statistics = writer.statistics
            #expect(statistics.segmentsCreated == 2)
            #expect(statistics.segmentsPreallocated == 2)
            // Finished segments are cut to their data; no spare is left behind.
            let fullLength: Int64 = 32 + 4 * 56
            #expect(try fileLength(first) == fullLength)
            let secondLength: Int64 = 32 + 2 * 56
            #expect(try fileLength(directory.appending(WALSegment.fileName(firstSequence: 5))) == secondLength)
            #expect(try FileOps.fileSize(directory.appending(SegmentPreallocator.spareName)) == nil)
            let (records, report) = try WALReader(directory: directory).readAll()
            #expect(records == (1...6).map(record))
            #expect(report.segments.map(\.unusedLength) == [0, 0])
        }
    }

    @Test func aCrashLeavesAZeroTailThatRecoveryCutsAndALeftoverSpareIsReplaced() async throws {
        try await withTemporaryDirectory { directory in
            let options = WALWriter.Options(durability: .fsync, segmentSizeLimit: 4096)
            // Not closed: as after kill -9, the segment keeps its zero tail and the spare stays.
            let crashed = try WALWriter(directory: directory, nextSequence: 1, options: options)
            try await crashed.append(batch: (1...5).map(record))
            #expect(await eventually { crashed.statistics.sparesPrepared == 2 })
            let segment = directory.appending(WALSegment.fileName(firstSequence: 1))
            #expect(try fileLength(segment) == 4096)

            let (records, report) = try WALReader(directory: directory).readAll()
            #expect(records == (1...5).map(record))
            #expect(report.truncation == nil)  // zeros are not damage
            #expect(report.segments[0].unusedLength == Int64(4096 - 32 - 5 * 56))
            let dataLength: Int64 = 32 + 5 * 56
            #expect(try fileLength(segment) == dataLength)  // cut by the reader that may change files

            // The leftover spare is replaced, not trusted; the log continues.
            let reopened = try WALWriter(directory: directory, nextSequence: 6, options: options)
            try await reopened.append(batch: (6...7).map(record))
            try await reopened.close()
            #expect(try WALReader(directory: directory).readAll().records == (1...7).map(record))
        }
    }

    @Test func aTornRecordBeforeTheZeroTailIsATornTail() async throws {
        // The fourth record's last 10 bytes never reached the disk: they read as zeros.
        try await withDamagedOpenSegment { bytes in
            let fourthEnd = 32 + 4 * 56
            for index in (fourthEnd - 10)..<fourthEnd { bytes[index] = 0 }
        } check: { directory, segment in
            let (records, report) = try WALReader(directory: directory).readAll()
            #expect(records == (1...3).map(record))
            let truncation = try #require(report.truncation)
            #expect(truncation.kind == .tornTail)
            #expect(truncation.offset == Int64(32 + 3 * 56))
            #expect(try fileLength(segment) == Int64(32 + 3 * 56))
        }
    }

    @Test func damageFollowedByAnIntactRecordInAPreallocatedSegmentIsStillAnError() async throws {
        try await withDamagedOpenSegment { bytes in
            bytes[32 + 56 + 40] ^= 0x01  // inside the second record's payload
        } check: { directory, _ in
            #expect(throws: StorageError.self) { try WALReader(directory: directory).readAll() }
        }
    }

    @Test func aPreallocatedSegmentWithoutRecordsDoesNotBlockReopening() async throws {
        try await withTemporaryDirectory { directory in
            let options = WALWriter.Options(durability: .fsync, segmentSizeLimit: 4096)
            let writer = try WALWriter(directory: directory, nextSequence: 1, options: options)
            try await writer.append(batch: (1...2).map(record))
            try await writer.close()
            // A crash right after a preallocated segment was put in place: header, then zeros only.
            let empty = directory.appending(WALSegment.fileName(firstSequence: 3))
            try writeFile(empty, WALSegment.encodeHeader(firstSequence: 3) + [UInt8](repeating: 0, count: 4064))
            let (records, report) = try WALReader(directory: directory, options: .init(readOnly: true)).readAll()
            #expect(records == (1...2).map(record))
            #expect(report.truncation == nil)
            let reopened = try WALWriter(directory: directory, nextSequence: 3, options: options)
            try await reopened.append(batch: [record(3)])
            try await reopened.close()
            #expect(try WALReader(directory: directory).readAll().records == (1...3).map(record))
        }
    }

    @Test func aSpareThatCannotBePreparedLeavesSegmentsThatGrow() async throws {
        try await withTemporaryDirectory { directory in
            let fileSystem = FaultyFileSystem()
            fileSystem.faults.withLock {
                $0.writeError = .noSpace  // a full disk: every zero-fill fails
            }
            let options = WALWriter.Options(durability: .fsync, segmentSizeLimit: 256)
            let writer = try WALWriter(directory: directory, nextSequence: 1, options: options, fileSystem: fileSystem)
            #expect(writer.statistics.sparePreparationsFailed == 1)
            #expect(try FileOps.fileSize(directory.appending(SegmentPreallocator.spareName)) == nil)
            fileSystem.heal()
            try await writer.append(batch: (1...6).map(record))
            try await writer.close()
            #expect(writer.statistics.segmentsCreated == 2)
            #expect(try WALReader(directory: directory).readAll().records == (1...6).map(record))
        }
    }
}
