import BidlineTestSupport
import Foundation
import SystemPackage
import Testing

@testable import BidlineStorage

/// ``WALVerifier`` on logs written by the real writer, then damaged on purpose: the report names what is wrong,
/// the file and the offset, and the directory is left as it was.
@Suite struct WALVerifierTests {
    @Test func aCleanLogVerifies() async throws {
        try await withTemporaryDirectory { directory in
            try await writeSampleLog(
                in: directory, count: 300, options: WALWriter.Options(durability: .none, segmentSizeLimit: 4_096))
            let report = WALVerifier.verify(directory: directory)
            #expect(report.isClean, "\(report.problems)")
            #expect(report.recordCount == 300)
            #expect(report.firstSequence == 1)
            #expect(report.lastSequence == 300)
            #expect(report.segments.count > 2)
            #expect(report.tornTail == nil)
            #expect(report.repair == nil)
        }
    }

    @Test func aMissingDirectoryIsAnEmptyLog() async throws {
        try await withTemporaryDirectory { directory in
            let report = WALVerifier.verify(directory: directory.appending("wal"))
            #expect(report.isClean)
            #expect(report.firstSequence == nil && report.recordCount == 0)
        }
    }

    @Test func aTornTailIsAWarningNotAProblem() async throws {
        try await withTemporaryDirectory { directory in
            try await writeSampleLog(in: directory, count: 5, payloadLength: { Int($0) * 10 })
            let segment = directory.appending(WALSegment.fileName(firstSequence: 1))
            let original = try fileBytes(segment)
            let lastStart = try #require(recordOffsets(inSegment: original).last)
            try writeFile(segment, Array(original[0..<(lastStart + 7)]))

            let report = WALVerifier.verify(directory: directory)
            #expect(report.isClean, "\(report.problems)")
            #expect(report.lastSequence == 4)
            let torn = try #require(report.tornTail)
            #expect(torn.kind == .tornTail && torn.file == segment.string && torn.offset == Int64(lastStart))
            #expect(!torn.applied)
            #expect(try fileBytes(segment).count == lastStart + 7, "verify is read-only")
        }
    }

    @Test func aCorruptRecordInTheMiddleIsNamedWithItsOffset() async throws {
        try await withTemporaryDirectory { directory in
            try await writeSampleLog(in: directory, count: 20, payloadLength: { _ in 40 })
            let segment = directory.appending(WALSegment.fileName(firstSequence: 1))
            var bytes = try fileBytes(segment)
            let offset = recordOffsets(inSegment: bytes)[9]
            bytes[offset + WALRecordFormat.headerSize + 3] ^= 0x20
            try writeFile(segment, bytes)

            let report = WALVerifier.verify(directory: directory)
            #expect(!report.isClean)
            #expect(
                report.problems
                    == [.corrupt(file: segment.string, offset: Int64(offset), damage: .payloadChecksumMismatch)])
            #expect(report.problems[0].description.hasPrefix("corrupt log \(segment.string) at offset \(offset)"))
            let repair = try #require(report.repair)
            #expect(repair.cut.offset == Int64(offset) && repair.lastSequence == 9)
            #expect(try fileBytes(segment) == bytes, "verify is read-only")
        }
    }

    @Test func aGapBetweenSegmentsNamesTheMissingRecords() async throws {
        try await withTemporaryDirectory { directory in
            try await writeSampleLog(
                in: directory, count: 300, options: WALWriter.Options(durability: .none, segmentSizeLimit: 4_096))
            let segments = try WALSegment.list(in: directory)
            #expect(segments.count > 2)
            try FileManager.default.removeItem(atPath: segments[1].path.string)

            let report = WALVerifier.verify(directory: directory)
            let expected = segments[1].firstSequence
            let found = segments[2].firstSequence
            #expect(report.problems == [.gap(file: segments[2].path.string, expected: expected, found: found)])
            #expect(report.problems[0].description.contains("records \(expected)-\(found - 1) are missing"))
            #expect(report.repair?.lastSequence == expected - 1)
        }
    }

    @Test func recordsThePayloadCheckRejectsAreProblems() async throws {
        try await withTemporaryDirectory { directory in
            try await writeSampleLog(in: directory, count: 30, payloadLength: { _ in 8 })
            // "Decodes" when the first byte is odd: about half the records do not.
            let report = WALVerifier.verify(directory: directory) { payload in payload[0] & 1 == 1 }
            let rejected = (1...30).filter { samplePayload(UInt64($0), length: 8)[0] & 1 == 0 }
            #expect(!rejected.isEmpty)
            #expect(report.undecodableCount == rejected.count)
            #expect(report.problems.count == min(rejected.count, WALVerifier.undecodableListLimit))
            let offset = WALSegment.headerSize + (rejected[0] - 1) * (WALRecordFormat.headerSize + 8)
            let segment = directory.appending(WALSegment.fileName(firstSequence: 1)).string
            #expect(
                report.problems.first
                    == .undecodable(file: segment, offset: Int64(offset), sequence: UInt64(rejected[0])))
            #expect(report.lastSequence == 30)
        }
    }
}
