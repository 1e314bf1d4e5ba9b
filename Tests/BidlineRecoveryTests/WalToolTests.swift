import BidlineCore
import BidlineServer
import BidlineStorage
import BidlineTestSupport
import Foundation
import SystemPackage
import Testing

/// `bidline wal …` and `bidline snapshot …`, run as the built executable on data directories written by the
/// real log writer and snapshot writer.
@Suite struct WalToolTests {
    static let seed: UInt64 = 21
    static let steps = 400

    /// A data directory with records 1…400 and a snapshot at 150.
    func withData(
        snapshotsAt: [UInt64] = [150], segmentBytes: Int = 64 << 20,
        _ body: (DataDirectory, Scenario) async throws -> Void
    ) async throws {
        var scenario = Scenario(seed: Self.seed)
        scenario.run(steps: Self.steps)
        try await withTemporaryDirectory { root in
            let data = DataDirectory(root)
            try await writeDataDirectory(data, scenario: scenario, snapshotsAt: snapshotsAt, segmentBytes: segmentBytes)
            try await body(data, scenario)
        }
    }

    // MARK: inspect

    @Test func inspectPrintsEveryRecordWithNamesAndOutcomes() async throws {
        try await withData { data, scenario in
            let run = try runBidline(["wal", "inspect", "--data-dir", data.root.string])
            #expect(run.status == 0, "\(run.stderr)")
            let lines = run.lines
            #expect(lines.count == Self.steps)
            for (index, line) in lines.enumerated() {
                let fields = line.split(separator: " ")
                #expect(fields.first.flatMap { UInt64($0) } == UInt64(index + 1))
                #expect(fields.count >= 3 && fields[2] == scenario.journal[index].command.tag.verb)
            }
            // The first record's time, in UTC.
            #expect(lines[0].hasPrefix("1 2023-11-14T22:13:2"))
            #expect(lines.contains { $0.contains(" USER.ADD id=u") && $0.contains("-> ok user=u") })
            #expect(lines.contains { $0.contains(" BID investor=u") && $0.contains("-> ok bid=B") })
            #expect(lines.contains { $0.contains("-> rejected ") })
            #expect(!lines.contains { $0.contains("investor=#") && $0.contains("-> ok") }, "every bidder is named")
        }
    }

    @Test func inspectFromASnapshotPrintsTheSameLinesAsFromTheStart() async throws {
        try await withData { data, _ in
            let all = try runBidline(["wal", "inspect", "--data-dir", data.root.string]).lines
            // From 200 on, the shadow engine starts from the snapshot at 150 instead of an empty state.
            let range = try runBidline([
                "wal", "inspect", "--data-dir", data.root.string, "--from-seq", "200", "--to-seq", "260",
            ])
            #expect(range.status == 0)
            #expect(range.stderr.contains("snapshot"))
            #expect(range.lines == Array(all[199..<260]))
        }
    }

    @Test func inspectFilters() async throws {
        try await withData { data, scenario in
            let root = data.root.string
            let bids = try runBidline(["wal", "inspect", "--data-dir", root, "--verb", "bid"]).lines
            let bidCount = scenario.journal.filter { $0.command.tag == .bid }.count
            #expect(bids.count == bidCount && bidCount > 0)
            #expect(bids.allSatisfy { $0.split(separator: " ")[2] == "BID" })

            let twoVerbs = try runBidline([
                "wal", "inspect", "--data-dir", root, "--verb", "BID", "--verb", "DEPOSIT",
            ]).lines
            #expect(twoVerbs.count == bidCount + scenario.journal.filter { $0.command.tag == .deposit }.count)

            let listing = try runBidline(["wal", "inspect", "--data-dir", root, "--listing", "L1"]).lines
            #expect(!listing.isEmpty)
            // Claims and offers name their listing only through the state (C…, T…).
            let throughClaims: Set<Substring> = ["CLAIM.SELL", "CLAIM.BUY", "CLAIM.WITHDRAW"]
            #expect(
                listing.allSatisfy {
                    $0.contains("listing=L1 ") || $0.hasSuffix("listing=L1")
                        || throughClaims.contains($0.split(separator: " ")[2])
                })
            #expect(listing.contains { $0.contains("LOAN.NEW") }, "the record that created L1")

            let user = scenario.engine.state.users[1].id
            let userLines = try runBidline(["wal", "inspect", "--data-dir", root, "--user", user]).lines
            #expect(!userLines.isEmpty)
            #expect(userLines.allSatisfy { $0.contains("=\(user) ") || $0.hasSuffix("=\(user)") })
            #expect(try runBidline(["wal", "inspect", "--data-dir", root, "--user", "#1"]).lines == userLines)

            let limited = try runBidline([
                "wal", "inspect", "--data-dir", root, "--verb", "BID", "--limit", "3",
            ]).lines
            #expect(limited == Array(bids.prefix(3)))

            let unknown = try runBidline(["wal", "inspect", "--data-dir", root, "--verb", "NOPE"])
            #expect(unknown.status != 0)
            #expect(unknown.stderr.contains("unknown verb"))
        }
    }

    @Test func inspectRawNeedsNoSnapshot() async throws {
        try await withData { data, _ in
            let raw = try runBidline(["wal", "inspect", "--data-dir", data.root.string, "--raw", "--verb", "BID"])
            #expect(raw.status == 0)
            #expect(raw.lines.allSatisfy { $0.contains("investor=#") && !$0.contains("->") })
        }
    }

    // MARK: verify

    @Test func verifyPassesAGoodDirectory() async throws {
        try await withData(snapshotsAt: [150, 300], segmentBytes: 4_096) { data, _ in
            let run = try runBidline(["wal", "verify", "--data-dir", data.root.string])
            #expect(run.status == 0, "\(run.stdout)")
            #expect(run.stdout.contains("result: OK"))
            #expect(run.stdout.contains("replay records 301-400"))
        }
    }

    /// A segment still open (as on a running server, or after kill -9) ends in preallocated zeros: verify passes,
    /// says what the zeros are, and changes nothing; inspect shows every record.
    /// The positional directory of earlier versions still works, with a deprecation warning.
    @Test func verifyAcceptsTheDeprecatedPositionalDirectory() async throws {
        try await withData(snapshotsAt: [150]) { data, _ in
            let run = try runBidline(["wal", "verify", data.root.string])
            #expect(run.status == 0, "\(run.stdout)")
            #expect(run.stdout.contains("result: OK"))
            #expect(run.stderr.contains("deprecated; use --data-dir"))
        }
    }

    @Test func verifyAndInspectReadAnOpenPreallocatedSegment() async throws {
        var scenario = Scenario(seed: Self.seed)
        scenario.run(steps: 120)
        try await withTemporaryDirectory { root in
            let data = DataDirectory(root)
            let writer = try WALWriter(
                directory: data.wal, nextSequence: 1, options: .init(durability: .fsync, segmentSizeLimit: 1 << 20))
            let records = scenario.journal.enumerated().map { index, entry in
                WALRecord(sequence: UInt64(index + 1), engineTimeMillis: entry.atMillis, payload: entry.command.encoded)
            }
            try await writer.append(batch: records)
            let segment = data.wal.appending(WALSegment.fileName(firstSequence: 1))
            let sizeBefore = try FileManager.default.attributesOfItem(atPath: segment.string)[.size] as? Int
            #expect(sizeBefore == 1 << 20)

            let verify = try runBidline(["wal", "verify", "--data-dir", root.string])
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            #expect(verify.stdout.contains("result: OK"))
            #expect(verify.stdout.contains("preallocated zeros, not yet used"))
            #expect(!verify.stdout.contains("torn"))
            let inspect = try runBidline(["wal", "inspect", "--data-dir", root.string])
            #expect(inspect.status == 0)
            #expect(inspect.lines.count == 120)
            // Read-only tools leave the open segment as it is.
            #expect(try FileManager.default.attributesOfItem(atPath: segment.string)[.size] as? Int == sizeBefore)
            try await writer.close()
        }
    }

    @Test func verifyNamesTheFileAndOffsetOfAFlippedBit() async throws {
        try await withData(snapshotsAt: [], segmentBytes: 4_096) { data, _ in
            let segments = try WALSegment.list(in: data.wal)
            let target = segments[1].path
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: target.string)))
            // The third record of the segment.
            var offset = WALSegment.headerSize
            for _ in 0..<2 {
                let length = bytes.withUnsafeBytes {
                    Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)))
                }
                offset += WALRecordFormat.headerSize + length
            }
            try flipBit(in: target, at: Int64(offset + WALRecordFormat.headerSize), bit: 5)
            let before = try Data(contentsOf: URL(fileURLWithPath: target.string))
            let run = try runBidline(["wal", "verify", "--data-dir", data.root.string])
            #expect(run.status == 1)
            #expect(run.stdout.contains("corrupt log \(target.string) at offset \(offset)"), "\(run.stdout)")
            #expect(run.stdout.contains("--truncate-corrupt-log"))
            #expect(run.stdout.contains("result: BAD"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: target.string)) == before, "verify is read-only")
        }
    }

    @Test func verifyWarnsAboutATornTailButPasses() async throws {
        try await withData(snapshotsAt: []) { data, _ in
            let segment = try WALSegment.list(in: data.wal).last!.path
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: segment.string))
            try handle.seekToEnd()
            try handle.write(contentsOf: [UInt8](repeating: 0xAB, count: 19))
            try handle.close()
            let run = try runBidline(["wal", "verify", "--data-dir", data.root.string])
            #expect(run.status == 0, "\(run.stdout)")
            #expect(run.stdout.contains("warning: torn tail in \(segment.string)"))
        }
    }

    @Test func verifyRejectsADamagedSnapshot() async throws {
        try await withData { data, _ in
            let snapshot = data.snapshots.appending(SnapshotFile.fileName(sequence: 150))
            try flipBit(in: snapshot, at: Int64(SnapshotHeader.size) + 7)
            let run = try runBidline(["wal", "verify", "--data-dir", data.root.string])
            #expect(run.status == 1)
            #expect(run.stdout.contains("PROBLEM: snapshot \(snapshot.string)"))
        }
    }

    @Test func verifyFindsALogThatDoesNotReachTheSnapshot() async throws {
        try await withData { data, _ in
            try FileManager.default.removeItem(atPath: data.wal.appending(WALSegment.fileName(firstSequence: 1)).string)
            try FileManager.default.removeItem(
                atPath: data.snapshots.appending(SnapshotFile.fileName(sequence: 150)).string)
            let run = try runBidline(["wal", "verify", "--data-dir", data.root.string])
            #expect(run.status == 1)
            #expect(run.stdout.contains("records 1-150 are missing"), "\(run.stdout)")
        }
    }

    // MARK: replay

    @Test func replayPrintsTheLiveStateHash() async throws {
        try await withData { data, scenario in
            let run = try runBidline(["wal", "replay", "--data-dir", data.root.string])
            #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
            let fields = summary(run)
            #expect(fields["state hash"] == scenario.engine.stateHash())
            #expect(fields["sequence"] == "\(Self.steps)")
            #expect(fields["users"] == "\(scenario.engine.state.users.count)")
            #expect(fields["bids"] == "\(scenario.engine.state.bids.count)")
            #expect(fields["reconcile"]?.hasPrefix("balanced") == true)
            #expect(fields["snapshot"] == "sequence 150")

            let early = try runBidline(["wal", "replay", "--data-dir", data.root.string, "--to-seq", "120"])
            #expect(summary(early)["state hash"] == Scenario.hash(seed: Self.seed, after: 120))
            #expect(summary(early)["snapshot"]?.hasPrefix("none") == true)
        }
    }

    // MARK: snapshot

    @Test func snapshotTakeListAndInspect() async throws {
        try await withData(snapshotsAt: []) { data, scenario in
            let root = data.root.string
            let take = try runBidline(["snapshot", "take", "--data-dir", root])
            #expect(take.status == 0, "\(take.stdout)\(take.stderr)")
            #expect(summary(take)["state hash"] == scenario.engine.stateHash())
            let file = data.snapshots.appending(SnapshotFile.fileName(sequence: UInt64(Self.steps)))
            #expect(FileManager.default.fileExists(atPath: file.string))
            #expect(try runBidline(["snapshot", "take", "--data-dir", root]).stdout.contains("up to date"))

            let list = try runBidline(["snapshot", "list", "--data-dir", root, "--verify"])
            #expect(list.status == 0)
            #expect(
                list.lines.count == 1 && list.lines[0].contains("seq \(Self.steps)") && list.lines[0].hasSuffix("OK"))

            let inspect = try runBidline(["snapshot", "inspect", "--data-dir", root])
            #expect(inspect.status == 0, "\(inspect.stdout)")
            let fields = summary(inspect)
            #expect(fields["sequence"] == "\(Self.steps)")
            #expect(fields["state hash"]?.hasPrefix(scenario.engine.stateHash()) == true)
            #expect(fields["verify"]?.hasPrefix("OK") == true)
            #expect(fields["users"] == "\(scenario.engine.state.users.count)")

            let recovered = try Recovery.recover(data, readOnly: true)
            #expect(recovered.snapshotSequence == UInt64(Self.steps))
            #expect(recovered.engine.stateHash() == scenario.engine.stateHash())

            try flipBit(in: file, at: 30)
            #expect(try runBidline(["snapshot", "list", "--data-dir", root]).status == 1)
            #expect(try runBidline(["snapshot", "inspect", "--file", file.string]).status == 1)
        }
    }
}
