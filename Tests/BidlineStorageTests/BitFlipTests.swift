import BidlineTestSupport
import Foundation
import SystemPackage
import Testing

@testable import BidlineStorage

/// Issue 12, item 9: every single-bit flip of a log segment or a snapshot file is detected, none is silently
/// accepted.
///
/// What "detected" means:
/// - **Log segment.** Reading it (read-only, as `bidline wal verify` does) either throws
///   ``StorageError/corruptLog(file:offset:damage:)`` or reports a cut (``WALReadReport/truncation``), and the
///   offset given is the start of the record holding the flipped bit (0 for the segment header). Every record
///   delivered is one of the original records, unchanged, in order: the ones before the damaged record.
/// - **Zero tail** (the preallocated zeros after the last record). A flipped bit there is not damage to any
///   record, and the reader cannot tell it from the start of a write a crash interrupted. The rule: it must never
///   be taken for a record. The reader delivers exactly the original records and reports a cut at the end of
///   the last one (the tail is not all zeros), which start-up applies; no record is lost.
/// - **Snapshot.** ``SnapshotFile/read(at:)`` throws ``StorageError/corruptSnapshot(file:damage:)`` (recovery then
///   falls back to an older snapshot).
///
/// Small files are flipped at every bit; a larger, preallocated segment at 10,000 positions drawn by a seeded
/// generator. Figures and run time in `docs/TESTING.md`.
@Suite struct BitFlipTests {
    /// How a segment with one flipped bit was read.
    private enum Reading {
        case refused(offset: Int64)
        /// `delivered` records came first, each equal to the original at its place (`intact`).
        case cut(delivered: Int, intact: Bool, offset: Int64)
        case accepted
    }

    /// Reads the segment read-only, comparing each record delivered with `records` (without copying it).
    private func read(_ directory: FilePath, records: [WALRecord]) throws -> Reading {
        var delivered = 0
        var intact = true
        do {
            let report = try WALReader(directory: directory, options: .init(readOnly: true)).forEachRecord { view in
                if delivered >= records.count {
                    intact = false
                } else {
                    let original = records[delivered]
                    intact =
                        intact && view.sequence == original.sequence
                        && view.engineTimeMillis == original.engineTimeMillis
                        && view.payload.elementsEqual(original.payload)
                }
                delivered += 1
            }
            if let truncation = report.truncation {
                return .cut(delivered: delivered, intact: intact, offset: truncation.offset)
            }
            return .accepted
        } catch StorageError.corruptLog(_, let offset, _) {
            return .refused(offset: offset)
        }
    }

    /// Flips each bit at `positions` of the segment `wal-…1.log` in `directory` in turn and checks the reading.
    /// `recordsEnd`: where the records end and the zero tail (if any) begins.
    private func flipEach(
        _ positions: some Sequence<Int>, segmentIn directory: FilePath, original: [UInt8], records: [WALRecord],
        recordsEnd: Int
    ) throws -> Int {
        let path = directory.appending(WALSegment.fileName(firstSequence: 1))
        try writeFile(path, original)
        let file = try FileDescriptor.open(path, .readWrite)
        defer { try? file.close() }
        let starts = recordOffsets(inSegment: Array(original[0..<recordsEnd]))
        var flips = 0
        for bit in positions {
            let byte = bit / 8
            try file.writeAll(toAbsoluteOffset: Int64(byte), [original[byte] ^ (1 << UInt8(bit % 8))])
            defer { _ = try? file.writeAll(toAbsoluteOffset: Int64(byte), [original[byte]]) }
            // The record holding the byte (0: the segment header; `recordsEnd`: the zero tail).
            let expectedOffset: Int
            if byte < WALSegment.headerSize {
                expectedOffset = 0
            } else if byte >= recordsEnd {
                expectedOffset = recordsEnd
            } else {
                expectedOffset = starts.last { $0 <= byte }!
            }
            let intact = starts.firstIndex(of: expectedOffset) ?? (byte >= recordsEnd ? records.count : 0)
            switch try read(directory, records: records) {
            case .accepted:
                Issue.record("bit \(bit) (byte \(byte)) flipped and the segment was accepted")
            case .refused(let offset):
                if Int(offset) != expectedOffset {
                    Issue.record("bit \(bit): refused at \(offset), not \(expectedOffset)")
                }
            case .cut(let delivered, let unchanged, let offset):
                if Int(offset) != expectedOffset || delivered != intact || !unchanged {
                    Issue.record("bit \(bit): cut at \(offset) after \(delivered) records, expected \(expectedOffset)")
                }
            }
            flips += 1
        }
        return flips
    }

    @Test func everyBitOfASmallSegmentWithAZeroTail() async throws {
        try await withTemporaryDirectory { directory in
            try await writeSampleLog(in: directory, count: 40)
            let path = directory.appending(WALSegment.fileName(firstSequence: 1))
            let recordsOnly = try fileBytes(path)
            let records = try WALReader(directory: directory).readAll().records
            // The zeros a preallocated segment has after its last record, when a crash left it open.
            let original = recordsOnly + [UInt8](repeating: 0, count: 512)
            let flips = try flipEach(
                0..<(original.count * 8), segmentIn: directory, original: original, records: records,
                recordsEnd: recordsOnly.count)
            #expect(flips >= 10_000)
            print("BitFlipTests: \(flips) flips of a \(original.count)-byte segment (40 records + 512-byte zero tail)")
        }
    }

    @Test func sampledBitsOfALargerPreallocatedSegment() async throws {
        try await withTemporaryDirectory { directory in
            try await writeSampleLog(in: directory, count: 400, payloadLength: { 20 + Int($0 % 100) })
            let path = directory.appending(WALSegment.fileName(firstSequence: 1))
            let recordsOnly = try fileBytes(path)
            let records = try WALReader(directory: directory).readAll().records
            let original = recordsOnly + [UInt8](repeating: 0, count: 16 << 10)
            var generator = SplitMix64(seed: 12)
            let positions = (0..<10_000).map { _ in Int.random(in: 0..<(original.count * 8), using: &generator) }
            let flips = try flipEach(
                positions, segmentIn: directory, original: original, records: records, recordsEnd: recordsOnly.count)
            #expect(flips == 10_000)
            print("BitFlipTests: \(flips) sampled flips of a \(original.count)-byte segment (400 records + 16 KiB zeros)")
        }
    }

    @Test func everyBitOfTheGoldenSnapshot() async throws {
        let fixture = FilePath(#filePath).removingLastComponent().removingLastComponent().removingLastComponent()
            .appending("snapshots/fixtures/v1/data/snapshots/snapshot-00000000000000000400.zst")
        let original = try fileBytes(fixture)
        #expect(try SnapshotFile.read(at: fixture).payload.count > 0)
        try await withTemporaryDirectory { directory in
            let path = directory.appending(SnapshotFile.fileName(sequence: 400))
            try writeFile(path, original)
            let file = try FileDescriptor.open(path, .readWrite)
            defer { try? file.close() }
            var flips = 0
            for bit in 0..<(original.count * 8) {
                let byte = bit / 8
                try file.writeAll(toAbsoluteOffset: Int64(byte), [original[byte] ^ (1 << UInt8(bit % 8))])
                defer { _ = try? file.writeAll(toAbsoluteOffset: Int64(byte), [original[byte]]) }
                do throws(StorageError) {
                    _ = try SnapshotFile.read(at: path)
                    Issue.record("bit \(bit) flipped and the snapshot was accepted")
                } catch {
                    guard case .corruptSnapshot(let file, _) = error, file == path.string else {
                        Issue.record("bit \(bit): unexpected error \(error)")
                        continue
                    }
                }
                flips += 1
            }
            #expect(flips >= 10_000)
            print("BitFlipTests: \(flips) flips of the \(original.count)-byte golden snapshot")
        }
    }
}
