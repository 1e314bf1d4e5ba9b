import BidlineCore
import BidlineServer
import BidlineStorage
import BidlineTestSupport
import Foundation
import SystemPackage
import Testing

/// The golden fixtures in `snapshots/fixtures/v1/`: a data directory written by format version 1 (one log segment
/// with records 1…600 and a snapshot at sequence 400), committed as bytes. Every later build must keep reading them
/// to the same state, so a change that breaks old files (a layout, a command encoding, or replay rules that give old
/// logs a different meaning) fails here. See `snapshots/FORMAT.md`.
@Suite struct GoldenFixtureTests {
    /// What the v1 fixture holds; these values were recorded when it was written and must never change.
    enum V1 {
        static let directory = fixturesRoot.appending("v1/data")
        static let seed: UInt64 = 2026
        static let records = 600
        static let snapshotSequence: UInt64 = 400
        /// The engine state hash after record 600 (replayed from the snapshot, or from the log alone).
        static let finalStateHash = "6e8297ba5a4d8ff79296e3ca09550e9f"
        /// The state hash in the snapshot header (and of the state it decodes to).
        static let snapshotStateHash = "a88d1d4d927e2dabb1084d6867f60606"
        static let users = 49
        static let listings = 19
        static let bids = 36
        static let engineTimeMillis: Int64 = 1_715_964_409_740
    }

    /// `snapshots/fixtures/`, found from this source file.
    static let fixturesRoot: FilePath = {
        var path = FilePath(#filePath)
        for _ in 0..<3 { path.removeLastComponent() }  // GoldenFixtureTests.swift, BidlineRecoveryTests, Tests
        return path.appending("snapshots/fixtures")
    }()

    /// A copy of the fixture, so that no code path can change the committed bytes.
    func withFixtureCopy(_ body: (DataDirectory) async throws -> Void) async throws {
        try await withTemporaryDirectory { root in
            let copy = root.appending("data")
            try copyTree(V1.directory.string, to: copy)
            try await body(DataDirectory(copy))
        }
    }

    @Test func theV1LogVerifiesAndEveryRecordKeepsItsEncoding() async throws {
        try await withFixtureCopy { data in
            let segments = try WALSegment.list(in: data.wal)
            #expect(segments.map(\.firstSequence) == [1])
            var tags: Set<Command.Tag> = []
            let report = try WALReader(directory: data.wal, options: .init(readOnly: true)).forEachRecord { view in
                let bytes = Array(view.payload)
                let command = try Command(decoding: bytes)
                tags.insert(command.tag)
                #expect(command.encoded == bytes, "record \(view.sequence) re-encodes to the same bytes")
            }
            #expect(report.lastSequence == UInt64(V1.records))
            #expect(report.truncation == nil)
            #expect(tags == Set(Command.Tag.allCases), "the fixture pins every command's encoding")

            let verify = try runBidline(["wal", "verify", "--data-dir", data.root.string])
            #expect(verify.status == 0, "\(verify.stdout)")
        }
    }

    @Test func theV1SnapshotVerifiesAndDecodesToItsHash() async throws {
        try await withFixtureCopy { data in
            let listed = try SnapshotFile.list(in: data.snapshots)
            #expect(listed.map(\.sequence) == [V1.snapshotSequence])
            let snapshot = try SnapshotFile.read(at: listed[0].path)
            #expect(snapshot.header.sequence == V1.snapshotSequence)
            #expect("\(snapshot.header.stateHash)".hasPrefix(V1.snapshotStateHash))
            let state = try EngineState(decoding: snapshot.payload)
            #expect(state.hash == V1.snapshotStateHash)
            #expect(SnapshotStateHash(engineHash: state) == snapshot.header.stateHash)
            #expect(state.encoded == snapshot.payload, "the state re-encodes to the same bytes")
        }
    }

    @Test func theV1DataDirectoryRecoversToTheRecordedState() async throws {
        try await withFixtureCopy { data in
            let recovered = try Recovery.recover(data, readOnly: true)
            #expect(recovered.snapshotSequence == V1.snapshotSequence)
            #expect(recovered.recordsReplayed == V1.records - Int(V1.snapshotSequence))
            #expect(recovered.lastSequence == UInt64(V1.records))
            let state = recovered.engine.state
            #expect(
                recovered.engine.stateHash() == V1.finalStateHash,
                "replaying a v1 log must give the state it gave when written; if the rules changed on purpose, old logs need a migration, not a new expected hash"
            )
            #expect(state.users.count == V1.users)
            #expect(state.listings.count == V1.listings)
            #expect(state.bids.count == V1.bids)
            #expect(state.clockMillis == V1.engineTimeMillis)
            #expect(recovered.engine.reconcile().balanced)

            // The log alone (from sequence 1) reaches the same state.
            try FileManager.default.removeItem(atPath: data.snapshots.string)
            let fromLog = try Recovery.recover(data, readOnly: true)
            #expect(fromLog.snapshotSequence == nil)
            #expect(fromLog.engine.stateHash() == V1.finalStateHash)
        }
    }

    /// Writes the fixtures of the current format version. Run only by hand, when a new version is released:
    /// `BIDLINE_WRITE_FIXTURES=1 swift test --filter GoldenFixtureTests/writeFixtures`; it refuses to overwrite.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["BIDLINE_WRITE_FIXTURES"] == "1"))
    func writeFixtures() async throws {
        let version = WALSegment.formatVersion
        #expect(version == SnapshotHeader.formatVersion && version == UInt32(WALRecordFormat.version))
        let root = Self.fixturesRoot.appending("v\(version)/data")
        guard !FileManager.default.fileExists(atPath: root.string) else {
            Issue.record("\(root) exists: fixtures of a released version are never rewritten")
            return
        }
        var scenario = Scenario(seed: V1.seed)
        scenario.run(steps: V1.records)
        let data = DataDirectory(root)
        try FileManager.default.createDirectory(atPath: data.snapshots.string, withIntermediateDirectories: true)
        try await writeLog(scenario.journal[...], firstSequence: 1, to: data.wal)
        var replay = Engine()
        for entry in scenario.journal.prefix(Int(V1.snapshotSequence)) {
            _ = replay.apply(entry.command, at: entry.atMillis)
        }
        try writeSnapshot(replay.state, sequence: V1.snapshotSequence, to: data.snapshots)
        let state = scenario.engine.state
        print(
            """
            fixture v\(version) written to \(root)
            finalStateHash = "\(scenario.engine.stateHash())"
            snapshotStateHash = "\(replay.stateHash())"
            users = \(state.users.count), listings = \(state.listings.count), bids = \(state.bids.count)
            engineTimeMillis = \(state.clockMillis)
            tags missing = \(Set(Command.Tag.allCases).subtracting(scenario.journal.map(\.command.tag)))
            """)
    }
}
