import BidlineTestSupport
import SystemPackage
import Testing

@testable import BidlineStorage

@Suite struct WALReaderTests {
    /// A crash at every byte offset inside the last record: the reader keeps the prefix, truncates the
    /// rest, and says where and how much.
    @Test func crashAtEveryByteOfTheLastRecordRecoversThePrefix() async throws {
        try await withTemporaryDirectory { directory in
            try await writeSampleLog(in: directory, count: 5, payloadLength: { Int($0) * 10 })
            let segment = directory.appending(WALSegment.fileName(firstSequence: 1))
            let original = try fileBytes(segment)
            let lastStart = try #require(recordOffsets(inSegment: original).last)
            let lastLength = original.count - lastStart
            #expect(lastLength == WALRecordFormat.headerSize + 50)

            for cut in lastStart..<original.count {
                try writeFile(segment, Array(original[0..<cut]))
                let (records, report) = try WALReader(directory: directory).readAll()
                #expect(records.map(\.sequence) == [1, 2, 3, 4])
                #expect(report.lastSequence == 4)
                if cut == lastStart {
                    #expect(report.truncation == nil)  // the crash fell between records: nothing torn
                    continue
                }
                let available = cut - lastStart
                let damage: WALDamage =
                    available < WALRecordFormat.headerSize
                    ? .incompleteRecordHeader(available: available)
                    : .incompleteRecord(needed: lastLength, available: available)
                #expect(
                    report.truncation
                        == WALTruncation(
                            kind: .tornTail, file: segment.string, offset: Int64(lastStart),
                            bytesRemoved: Int64(available), damage: damage, applied: true))
                #expect(try FileOps.fileSize(segment) == Int64(lastStart))
                // Repaired: a second pass finds nothing to cut.
                #expect(try WALReader(directory: directory).readAll().report.truncation == nil)
            }
        }
    }

    /// A flipped bit anywhere in any record is detected: in the last record it is a torn tail (cut),
    /// anywhere else an error naming the file and the record's offset.
    @Test func aFlippedBitInAnyRecordIsDetected() async throws {
        try await withTemporaryDirectory { directory in
            try await writeSampleLog(in: directory, count: 4, payloadLength: { Int($0) * 3 })
            let segment = directory.appending(WALSegment.fileName(firstSequence: 1))
            let original = try fileBytes(segment)
            let offsets = recordOffsets(inSegment: original)
            #expect(offsets.count == 4)

            for (index, start) in offsets.enumerated() {
                let end = index + 1 < offsets.count ? offsets[index + 1] : original.count
                for position in start..<end {
                    var damaged = original
                    damaged[position] ^= 1 << UInt8(position % 8)
                    try writeFile(segment, damaged)
                    let damage: WALDamage =
                        position - start < WALRecordFormat.headerSize
                        ? .recordHeaderChecksumMismatch : .payloadChecksumMismatch
                    if index == offsets.count - 1 {
                        let (records, report) = try WALReader(directory: directory).readAll()
                        #expect(records.count == 3)
                        #expect(report.truncation?.kind == .tornTail)
                        #expect(report.truncation?.offset == Int64(start))
                        #expect(report.truncation?.damage == damage)
                    } else {
                        #expect(
                            throws: StorageError.corruptLog(file: segment.string, offset: Int64(start), damage: damage)
                        ) {
                            try WALReader(directory: directory).readAll()
                        }
                        #expect(try fileBytes(segment) == damaged)  // refused, not repaired
                    }
                }
            }
        }
    }

    @Test func damageInAnOlderSegmentIsAnErrorEvenAtItsEnd() async throws {
        try await withTemporaryDirectory { directory in
            try await writeSampleLog(
                in: directory, count: 9, options: .init(durability: .none, segmentSizeLimit: 200),
                payloadLength: { _ in 20 })
            let segments = try WALSegment.list(in: directory)
            #expect(segments.map(\.firstSequence) == [1, 4, 7])
            let older = segments[1].path
            let bytes = try fileBytes(older)
            try writeFile(older, Array(bytes.dropLast(5)))
            let lastStart = try #require(recordOffsets(inSegment: bytes).last)
            #expect(
                throws: StorageError.corruptLog(
                    file: older.string, offset: Int64(lastStart), damage: .incompleteRecord(needed: 52, available: 47))
            ) { try WALReader(directory: directory).readAll() }

            // The operator's explicit choice: cut there and set the later segments aside.
            let (records, report) = try WALReader(directory: directory, options: .init(truncateCorruption: true))
                .readAll()
            #expect(records.map(\.sequence) == [1, 2, 3, 4, 5])
            #expect(report.truncation?.kind == .corruption)
            #expect(report.discardedSegments == [segments[2].path.string + ".discarded"])
            #expect(try WALSegment.list(in: directory).map(\.firstSequence) == [1, 4])
            #expect(try WALReader(directory: directory).readAll().records.count == 5)
        }
    }

    @Test func segmentHeaderDamageIsDetected() async throws {
        try await withTemporaryDirectory { directory in
            try await writeSampleLog(
                in: directory, count: 6, options: .init(durability: .none, segmentSizeLimit: 200),
                payloadLength: { _ in 20 })
            let segments = try WALSegment.list(in: directory)
            for segment in segments {
                let original = try fileBytes(segment.path)
                for position in 0..<WALSegment.headerSize {
                    var damaged = original
                    damaged[position] ^= 0x10
                    try writeFile(segment.path, damaged)
                    #expect(
                        throws: StorageError.corruptLog(file: segment.path.string, offset: 0, damage: .badSegmentHeader)
                    ) {
                        try WALReader(directory: directory).readAll()
                    }
                }
                try writeFile(segment.path, original)
            }
        }
    }

    @Test func aNewestSegmentWithATornHeaderIsRemoved() async throws {
        try await withTemporaryDirectory { directory in
            try await writeSampleLog(in: directory, count: 3)
            let partial = directory.appending(WALSegment.fileName(firstSequence: 4))
            try writeFile(partial, Array(WALSegment.encodeHeader(firstSequence: 4).prefix(13)))
            let (records, report) = try WALReader(directory: directory).readAll()
            #expect(records.count == 3)
            #expect(
                report.truncation
                    == WALTruncation(
                        kind: .tornTail, file: partial.string, offset: 0, bytesRemoved: 13,
                        damage: .incompleteSegmentHeader(length: 13), applied: true))
            #expect(try FileOps.fileSize(partial) == nil)
            // The writer can then start exactly there.
            let writer = try WALWriter(directory: directory, nextSequence: 4, options: .init(durability: .none))
            try await writer.append(payload: [4], sequence: 4, engineTimeMillis: 0)
            try await writer.close()
            #expect(try WALReader(directory: directory).readAll().records.map(\.sequence) == [1, 2, 3, 4])
        }
    }

    @Test func readOnlyReportsATornTailWithoutTouchingTheFile() async throws {
        try await withTemporaryDirectory { directory in
            try await writeSampleLog(in: directory, count: 3, payloadLength: { _ in 10 })
            let segment = directory.appending(WALSegment.fileName(firstSequence: 1))
            let torn = Array(try fileBytes(segment).dropLast(3))
            try writeFile(segment, torn)
            let report = try WALReader(directory: directory, options: .init(readOnly: true)).forEachRecord { _ in }
            #expect(report.truncation?.applied == false)
            #expect(report.truncation?.bytesRemoved == 39)
            #expect(try fileBytes(segment) == torn)
        }
    }

    @Test func readingFromASequenceSkipsEarlierRecordsAndSegments() async throws {
        try await withTemporaryDirectory { directory in
            try await writeSampleLog(
                in: directory, count: 9, options: .init(durability: .none, segmentSizeLimit: 200),
                payloadLength: { _ in 20 })
            var delivered: [UInt64] = []
            let report = try WALReader(directory: directory).forEachRecord(from: 5) { delivered.append($0.sequence) }
            #expect(delivered == [5, 6, 7, 8, 9])
            #expect(report.segments.map(\.firstSequence) == [4, 7])
            #expect(report.lastSequence == 9)

            // Nothing after the end is fine; a log that starts after the requested sequence is not.
            #expect(try WALReader(directory: directory).readAll(from: 10).records.isEmpty)
            try FileOps.remove(directory.appending(WALSegment.fileName(firstSequence: 1)))
            #expect(throws: StorageError.missingRecords(expected: 2, firstAvailable: 4)) {
                try WALReader(directory: directory).readAll(from: 2)
            }
        }
    }

    @Test func aSequenceGapBetweenSegmentsIsAnError() async throws {
        try await withTemporaryDirectory { directory in
            try await writeSampleLog(
                in: directory, count: 9, options: .init(durability: .none, segmentSizeLimit: 200),
                payloadLength: { _ in 20 })
            let middle = directory.appending(WALSegment.fileName(firstSequence: 4))
            try FileOps.remove(middle)
            let last = directory.appending(WALSegment.fileName(firstSequence: 7))
            #expect(
                throws: StorageError.corruptLog(
                    file: last.string, offset: 0, damage: .sequenceMismatch(expected: 4, found: 7))
            ) {
                try WALReader(directory: directory).readAll()
            }
        }
    }

    @Test func anEmptyOrMissingLogReadsAsEmpty() async throws {
        try await withTemporaryDirectory { directory in
            let (records, report) = try WALReader(directory: directory).readAll()
            #expect(records.isEmpty)
            #expect(report.lastSequence == nil)
        }
    }
}
