import BidlineCore
import BidlineProtocol
import BidlineStorage
import BidlineTestSupport
import Foundation
import SystemPackage
import Testing

@testable import BidlineServer

/// Recovery (newest valid snapshot + the log after it) rebuilds exactly the state of the engine that never
/// crashed: compared by state hash, as TigerBeetle compares a replica with a run that did not crash.
@Suite struct RecoveryTests {
    @Test(arguments: [UInt64(1), 2, 3])
    func snapshotPlusLogEqualsTheLiveState(seed: UInt64) async throws {
        var scenario = Scenario(seed: seed)
        scenario.run(steps: 3_000)
        #expect(scenario.applied > 1_000 && scenario.rejected > 100, "the scenario exercises both outcomes")
        try await withTemporaryDirectory { root in
            let data = DataDirectory(root)
            try await writeDataDirectory(data, scenario: scenario, snapshotsAt: [1_000, 2_200])
            let recovered = try Recovery.recover(data, readOnly: true)
            #expect(recovered.snapshotSequence == 2_200)
            #expect(recovered.recordsReplayed == 800)
            #expect(recovered.lastSequence == 3_000)
            #expect(recovered.lastTimeMillis == scenario.journal.last!.atMillis)
            #expect(recovered.engine.stateHash() == scenario.engine.stateHash())
            #expect(recovered.engine.state == scenario.engine.state)
            #expect(recovered.engine.reconcile().balanced)

            // Stopping early picks the snapshot at or before the stop and equals the live state at that point.
            let partial = try Recovery.recover(data, readOnly: true, toSequence: 1_500)
            #expect(partial.snapshotSequence == 1_000)
            #expect(partial.lastSequence == 1_500)
            #expect(partial.engine.stateHash() == Scenario.hash(seed: seed, after: 1_500))
        }
    }

    @Test func logAloneEqualsTheLiveState() async throws {
        var scenario = Scenario(seed: 11)
        scenario.run(steps: 2_000)
        try await withTemporaryDirectory { root in
            let data = DataDirectory(root)
            // Small segments: replay crosses many segment boundaries.
            try await writeDataDirectory(data, scenario: scenario, snapshotsAt: [], segmentBytes: 4_096)
            #expect(try WALSegment.list(in: data.wal).count > 10)
            let recovered = try Recovery.recover(data, readOnly: true)
            #expect(recovered.snapshotSequence == nil)
            #expect(recovered.recordsReplayed == 2_000)
            #expect(recovered.engine.stateHash() == scenario.engine.stateHash())
        }
    }

    @Test func aDamagedNewestSnapshotFallsBackToTheOlderOne() async throws {
        var scenario = Scenario(seed: 5)
        scenario.run(steps: 1_500)
        try await withTemporaryDirectory { root in
            let data = DataDirectory(root)
            try await writeDataDirectory(data, scenario: scenario, snapshotsAt: [500, 1_000])
            let newest = data.snapshots.appending(SnapshotFile.fileName(sequence: 1_000))
            try flipBit(in: newest, at: Int64(SnapshotHeader.size) + 20, bit: 3)
            let recovered = try Recovery.recover(data, readOnly: true)
            #expect(recovered.snapshotSequence == 500)
            #expect(recovered.recordsReplayed == 1_000)
            #expect(recovered.engine.stateHash() == scenario.engine.stateHash())
            #expect(recovered.notes.contains { $0.contains("rejected") && $0.contains(newest.string) })
        }
    }

    @Test func segmentsArchivedBehindASnapshotAreNotNeeded() async throws {
        var scenario = Scenario(seed: 8)
        scenario.run(steps: 1_200)
        try await withTemporaryDirectory { root in
            let data = DataDirectory(root)
            try await writeDataDirectory(data, scenario: scenario, snapshotsAt: [700])
            // The segment before the snapshot is wholly covered by it: archive (remove) it.
            try FileManager.default.removeItem(atPath: data.wal.appending(WALSegment.fileName(firstSequence: 1)).string)
            let recovered = try Recovery.recover(data, readOnly: true)
            #expect(recovered.snapshotSequence == 700)
            #expect(recovered.engine.stateHash() == scenario.engine.stateHash())
        }
    }

    @Test func aLogThatDoesNotReachBackToTheStartIsRefused() async throws {
        var scenario = Scenario(seed: 9)
        scenario.run(steps: 600)
        try await withTemporaryDirectory { root in
            let data = DataDirectory(root)
            try await writeDataDirectory(data, scenario: scenario, snapshotsAt: [300])
            // Without the snapshot and without the first segment, records 1…300 are gone: recovery must not start
            // from an empty state and silently replay 301… onto it.
            try FileManager.default.removeItem(atPath: data.wal.appending(WALSegment.fileName(firstSequence: 1)).string)
            try FileManager.default.removeItem(atPath: data.snapshots.string)
            #expect {
                _ = try Recovery.recover(data, readOnly: true)
            } throws: { error in
                "\(error)".contains("sequence 1 is missing")
            }
        }
    }

    @Test func aCorruptRecordStopsRecoveryUnlessTruncationIsAsked() async throws {
        var scenario = Scenario(seed: 4)
        scenario.run(steps: 400)
        try await withTemporaryDirectory { root in
            let data = DataDirectory(root)
            try await writeDataDirectory(data, scenario: scenario, snapshotsAt: [], segmentBytes: 2_048)
            let segments = try WALSegment.list(in: data.wal)
            #expect(segments.count > 3)
            // Damage the payload of the first record of the second segment: followed by intact records, not a torn tail.
            let damaged = segments[1]
            try flipBit(in: damaged.path, at: Int64(WALSegment.headerSize + WALRecordFormat.headerSize), bit: 1)
            #expect {
                try Recovery.recover(data, readOnly: true)
            } throws: { error in
                "\(error)".contains(damaged.path.string) && "\(error)".contains("offset \(WALSegment.headerSize)")
            }
            let cut = try Recovery.recover(data, truncateCorruption: true, readOnly: true)
            #expect(cut.lastSequence == damaged.firstSequence - 1)
            #expect(
                cut.engine.stateHash() == Scenario.hash(seed: 4, after: Int(damaged.firstSequence - 1)))
        }
    }

    // MARK: Through the engine host

    /// Requests for a batch, parsed as a connection would parse them.
    func batch(_ lines: [String]) -> [BatchItem] {
        var parser = RequestParser()
        return lines.map { text in
            var line = text
            return line.withUTF8 { bytes in
                let raw = UnsafeRawBufferPointer(bytes)
                do {
                    guard let spec = try parser.parseVerb(raw) else { return .ready([]) }
                    return .request(try parser.parseArguments(spec, raw))
                } catch {
                    Issue.record("test request '\(text)' does not parse: \(error)")
                    return .ready([])
                }
            }
        }
    }

    func session(_ index: Int, _ id: String, _ roles: Roles) -> Session {
        var session = Session()
        session.user = UserIndex(index)
        session.userID = id
        session.roles = roles
        return session
    }

    @Test func theEngineHostsJournalRecoversToItsLiveState() async throws {
        try await withTemporaryDirectory { root in
            var configuration = HostConfiguration(dataDirectory: root)
            configuration.clock = .manual
            configuration.snapshotEveryRecords = 0
            let host = try await EngineHost(configuration: configuration)
            let admin = session(0, "admin", .admin)
            let alice = session(1, "alice", .investor)
            let bob = session(2, "bob", .investor)
            let carol = session(3, "carol", .borrower)
            func run(_ who: Session, _ lines: [String]) async -> String {
                String(decoding: await host.process(batch(lines), session: who).replies, as: UTF8.self)
            }
            _ = await run(
                admin,
                [
                    "USER.ADD alice roles=investor verified=1 risk=5", "USER.ADD bob roles=investor verified=1 risk=3",
                    "USER.ADD carol roles=borrower verified=1", "DEPOSIT alice 8000", "DEPOSIT bob 5000.5 ref=dep-1",
                    "DEPOSIT bob 5000.5 ref=dep-1", "DEPOSIT carol 2000",
                ])
            #expect(
                await run(carol, ["LOAN.NEW amount=10000 rate=12 term=3 method=epi grade=B"]).contains("listing=L1"))
            _ = await run(admin, ["LOAN.APPROVE L1"])
            let bids = await run(alice, ["BID L1 5000", "BID L1 99999", "AUTO.SET rate=8-15"])
            #expect(bids.contains("ERR"), "a refused bid is journaled too")
            let snapshot = try await host.snapshot()
            #expect(await run(bob, ["BID L1 5000"]).contains("full=1"))
            _ = await run(admin, ["LOAN.DISBURSE L1", "CLOCK.ADVANCE 31d"])
            _ = await run(carol, ["LOAN.REPAY L1", "LOAN.REPAY L9"])
            _ = await run(admin, ["CLOCK.ADVANCE 45d", "WITHDRAW alice 100"])
            let liveHash = await host.stateHash
            let liveSequence = await host.lastSequence
            #expect(liveSequence > snapshot.sequence)

            // The host is still running: read the directory as a crash would leave it.
            let recovered = try Recovery.recover(DataDirectory(root), readOnly: true)
            #expect(recovered.snapshotSequence == snapshot.sequence)
            #expect(recovered.lastSequence == liveSequence)
            #expect(recovered.engine.stateHash() == liveHash)

            // A graceful shutdown snapshots the end state: recovery then replays nothing.
            await host.shutdown()
            let afterShutdown = try Recovery.recover(DataDirectory(root), readOnly: true)
            #expect(afterShutdown.snapshotSequence == liveSequence)
            #expect(afterShutdown.recordsReplayed == 0)
            #expect(afterShutdown.engine.stateHash() == liveHash)
        }
    }
}
