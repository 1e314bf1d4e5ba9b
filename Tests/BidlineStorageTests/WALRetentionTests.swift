import BidlineTestSupport
import SystemPackage
import Testing

@testable import BidlineStorage

/// Which segments a snapshot covers, and what `archive`/`delete` do with them.
@Suite struct WALRetentionTests {
    /// Segments of 4 records each (56-byte records in 256-byte segments): 1–4, 5–8, 9–12, 13–14 (open).
    private func withSegments(_ body: (FilePath) async throws -> Void) async throws {
        try await withTemporaryDirectory { directory in
            let writer = try WALWriter(
                directory: directory, nextSequence: 1, options: .init(durability: .none, segmentSizeLimit: 256))
            try await writer.append(
                batch: (1...14).map {
                    WALRecord(sequence: $0, engineTimeMillis: 0, payload: samplePayload($0, length: 24))
                })
            try await writer.close()
            #expect(try WALSegment.list(in: directory).map(\.firstSequence) == [1, 5, 9, 13])
            try await body(directory)
        }
    }

    private func names(_ paths: [FilePath]) -> [String] { paths.compactMap { $0.lastComponent?.string } }

    @Test func aSegmentIsCoveredWhenTheNextOneStartsAtOrBeforeTheSnapshotPlusOne() async throws {
        try await withSegments { directory in
            var covered: [UInt64: [UInt64]] = [:]
            for snapshot: UInt64 in [3, 4, 7, 8, 12, 14] {
                covered[snapshot] = try WALRetention.coveredSegments(in: directory, oldestKeptSnapshot: snapshot)
                    .compactMap { WALSegment.firstSequence(fromFileName: $0.lastComponent!.string) }
            }
            #expect(covered[3] == [])  // record 4 is after the snapshot: segment 1 is still needed
            #expect(covered[4] == [1])
            #expect(covered[7] == [1])
            #expect(covered[8] == [1, 5])
            #expect(covered[12] == [1, 5, 9])
            #expect(covered[14] == [1, 5, 9])  // the newest segment is never covered (it may be open)
        }
    }

    @Test func archiveMovesCoveredSegmentsAndTheLogStillRecoversFromTheSnapshot() async throws {
        try await withSegments { directory in
            let moved = try WALRetention.archive.apply(in: directory, oldestKeptSnapshot: 8)
            #expect(names(moved) == [WALSegment.fileName(firstSequence: 1), WALSegment.fileName(firstSequence: 5)])
            #expect(try WALSegment.list(in: directory).map(\.firstSequence) == [9, 13])
            let archive = directory.appending(WALRetention.archiveDirectoryName)
            #expect(try WALSegment.list(in: archive).map(\.firstSequence) == [1, 5])
            // Recovery after the snapshot at 8 reads 9… from what is left; nothing is missing.
            let (records, report) = try WALReader(directory: directory).readAll(from: 9)
            #expect(records.map(\.sequence) == Array(9...14))
            #expect(report.truncation == nil)
            // Applying again moves nothing more.
            #expect(try WALRetention.archive.apply(in: directory, oldestKeptSnapshot: 8).isEmpty)
        }
    }

    @Test func deleteRemovesCoveredSegmentsAndKeepTouchesNothing() async throws {
        try await withSegments { directory in
            #expect(try WALRetention.keep.apply(in: directory, oldestKeptSnapshot: 12).isEmpty)
            #expect(try WALSegment.list(in: directory).count == 4)
            let removed = try WALRetention.delete.apply(in: directory, oldestKeptSnapshot: 12)
            #expect(removed.count == 3)
            #expect(try WALSegment.list(in: directory).map(\.firstSequence) == [13])
            #expect(try FileOps.fileSize(directory.appending(WALRetention.archiveDirectoryName)) == nil)
        }
    }
}
