import BidlineCore
import BidlineStorage
import BidlineTestSupport
import Foundation
import SystemPackage
import Testing

@testable import BidlineServer

/// Where the snapshot and the log meet (issue 12, item 6): the log must continue at the snapshot's sequence + 1,
/// end exactly at it, or have no segments left; a snapshot beyond the log's end, or a gap after it, stops
/// start-up with an error naming both files.
@Suite struct RecoverySnapshotBoundaryTests {
    /// Records `range` of `scenario` in the log, and the snapshot after `snapshotAt` records.
    private func write(
        _ data: DataDirectory, _ scenario: Scenario, log ranges: [ClosedRange<Int>], snapshotAt: Int
    ) async throws {
        for range in ranges {
            try await writeLog(
                scenario.journal[(range.lowerBound - 1)..<range.upperBound], firstSequence: UInt64(range.lowerBound),
                to: data.wal)
        }
        var replay = Engine()
        for entry in scenario.journal.prefix(snapshotAt) {
            _ = replay.apply(entry.command, at: entry.atMillis)
            replay.events.removeAll(keepingCapacity: true)
        }
        try writeSnapshot(replay.state, sequence: UInt64(snapshotAt), to: data.snapshots)
    }

    private func snapshotPath(_ data: DataDirectory, _ sequence: UInt64) -> String {
        data.snapshots.appending(SnapshotFile.fileName(sequence: sequence)).string
    }

    private func segmentPath(_ data: DataDirectory, _ firstSequence: UInt64) -> String {
        data.wal.appending(WALSegment.fileName(firstSequence: firstSequence)).string
    }

    @Test(arguments: [true, false])
    func aSnapshotBeyondTheLogsEndStopsRecovery(readOnly: Bool) async throws {
        var scenario = Scenario(seed: 21)
        scenario.run(steps: 400)
        try await withTemporaryDirectory { root in
            let data = DataDirectory(root)
            // The log lost records 251...300 (a power loss in `none` mode, say) after the snapshot at 300.
            try await write(data, scenario, log: [1...250], snapshotAt: 300)
            #expect(throws: RecoveryError.self) { try Recovery.recover(data, readOnly: readOnly) }
            do {
                _ = try Recovery.recover(data, readOnly: readOnly)
            } catch let error as RecoveryError {
                guard case .snapshotBeyondLogEnd(let snapshot, let sequence, let segment, let logEnd) = error else {
                    Issue.record("wrong error: \(error)")
                    return
                }
                #expect(snapshot == snapshotPath(data, 300) && sequence == 300)
                #expect(segment == segmentPath(data, 1) && logEnd == 250)
                #expect("\(error)".contains(snapshot) && "\(error)".contains(segment))
            }
        }
    }

    @Test func aSegmentWithoutRecordsBeforeTheSnapshotIsTheLogsEnd() async throws {
        var scenario = Scenario(seed: 22)
        scenario.run(steps: 300)
        try await withTemporaryDirectory { root in
            let data = DataDirectory(root)
            try await write(data, scenario, log: [1...100], snapshotAt: 200)
            // A segment for 101 holding only its header (a crash right after creating it): the log ends at 100.
            try writeSegmentHeader(data.wal, firstSequence: 101)
            #expect {
                try Recovery.recover(data, readOnly: true)
            } throws: { error in
                guard case .snapshotBeyondLogEnd(_, 200, let segment, 100) = error as? RecoveryError else {
                    return false
                }
                return segment == segmentPath(data, 101)
            }
        }
    }

    @Test func aGapAfterTheSnapshotStopsRecovery() async throws {
        var scenario = Scenario(seed: 23)
        scenario.run(steps: 600)
        try await withTemporaryDirectory { root in
            let data = DataDirectory(root)
            // Records 301...350 are missing: the segment after the snapshot starts at 351.
            try await write(data, scenario, log: [1...300, 351...600], snapshotAt: 300)
            func expectGap() {
                #expect {
                    try Recovery.recover(data, readOnly: true)
                } throws: { error in
                    guard case .gapAfterSnapshot(let snapshot, 300, let segment, 351) = error as? RecoveryError else {
                        return false
                    }
                    return snapshot == snapshotPath(data, 300) && segment == segmentPath(data, 351)
                        && "\(error)".contains("301...350")
                }
            }
            // Found while reading on from the segment before the snapshot...
            expectGap()
            // ...and when that segment has been retired.
            try FileManager.default.removeItem(atPath: segmentPath(data, 1))
            expectGap()
        }
    }

    @Test func aLogEndingAtTheSnapshotOrFullyRetiredIsFine() async throws {
        var scenario = Scenario(seed: 24)
        scenario.run(steps: 500)
        try await withTemporaryDirectory { root in
            let data = DataDirectory(root)
            try await write(data, scenario, log: [1...300], snapshotAt: 300)
            let hash = Scenario.hash(seed: 24, after: 300)
            // The log ends exactly at the snapshot.
            let atEnd = try Recovery.recover(data, readOnly: true)
            #expect(atEnd.lastSequence == 300 && atEnd.recordsReplayed == 0 && atEnd.engine.stateHash() == hash)
            // Every segment retired (retention deletes those a snapshot covers): the snapshot alone.
            try FileManager.default.removeItem(atPath: segmentPath(data, 1))
            let retired = try Recovery.recover(data, readOnly: true)
            #expect(retired.lastSequence == 300 && retired.engine.stateHash() == hash)

            // The engine host continues the log at the snapshot's sequence + 1, so the log and the snapshot meet
            // again on the next start.
            var configuration = HostConfiguration(dataDirectory: root)
            configuration.clock = .manual
            configuration.snapshotEveryRecords = 0
            let host = try await EngineHost(configuration: configuration)
            #expect(await host.lastSequence >= 300)
            await host.shutdown()
            let restarted = try Recovery.recover(data, readOnly: true)
            #expect(restarted.lastSequence == (try WALReader(directory: data.wal).readAll().report.lastSequence ?? 300))
            for (first, _) in try WALSegment.list(in: data.wal) { #expect(first == 301) }
        }
    }

    /// A segment file holding only its header (layout in `snapshots/FORMAT.md`).
    private func writeSegmentHeader(_ directory: FilePath, firstSequence: UInt64) throws {
        var header = Array("BIDLWAL1".utf8)
        withUnsafeBytes(of: UInt32(1).littleEndian) { header.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(32).littleEndian) { header.append(contentsOf: $0) }
        withUnsafeBytes(of: firstSequence.littleEndian) { header.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(0).littleEndian) { header.append(contentsOf: $0) }
        withUnsafeBytes(of: CRC32C.checksum(header).littleEndian) { header.append(contentsOf: $0) }
        let path = directory.appending(WALSegment.fileName(firstSequence: firstSequence))
        try Data(header).write(to: URL(fileURLWithPath: path.string))
    }
}
