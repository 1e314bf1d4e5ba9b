import BidlineCore
import BidlineServer
import BidlineStorage
import BidlineTestSupport
import Foundation
import Testing

/// End to end over TCP: a listing's whole life, balances after each step, restart durability.
@Suite(.serialized) struct ServerEndToEndTests {
    @Test(arguments: LogCommits.allCases)
    func fullLifecycleOverTCP(logCommits: LogCommits) async throws {
        let server = try await TestServer.start(configureHost: { $0.logCommits = logCommits })
        defer { server.removeData() }
        let admin = try await server.connect(admin: true)
        let aliceToken = fields(try await admin.call("USER.ADD alice roles=investor verified=1 risk=5"))["token"]!
        let bobToken = fields(try await admin.call("USER.ADD bob roles=investor verified=1 risk=3"))["token"]!
        let carolToken = fields(try await admin.call("USER.ADD carol roles=borrower verified=1"))["token"]!
        #expect(try await admin.call("DEPOSIT alice 8000") == "OK user=alice amount=8000.00 available=8000.00")
        #expect(try await admin.call("DEPOSIT bob 5000.5 ref=dep-1") == "OK user=bob amount=5000.50 available=5000.50")
        #expect(try await admin.call("DEPOSIT bob 5000.5 ref=dep-1") == "OK user=bob amount=5000.50 available=5000.50")
        #expect(try await admin.call("DEPOSIT carol 2000") == "OK user=carol amount=2000.00 available=2000.00")

        let carol = try await server.connect()
        #expect(try await carol.call("AUTH carol \(carolToken)") == "OK user=carol roles=borrower")
        #expect(try await carol.call("LOAN.NEW amount=10000 rate=12 term=3 method=epi grade=B") == "OK listing=L1 status=pending")
        #expect(try await admin.call("LOAN.APPROVE L1").hasPrefix("OK listing=L1 status=open auto_bids=0"))

        let alice = try await server.connect()
        #expect(try await alice.call("AUTH alice \(aliceToken)") == "OK user=alice roles=investor")
        let bob = try await server.connect()
        #expect(try await bob.call("AUTH bob \(bobToken)") == "OK user=bob roles=investor")
        #expect(try await alice.call("BID L1 6000 ref=a1") == "OK bid=B1 listing=L1 amount=6000.00 remaining=4000.00 full=0")
        #expect(try await alice.call("BID L1 6000 ref=a1") == "OK bid=B1 listing=L1 amount=6000.00 remaining=4000.00 full=0")
        #expect(try await alice.call("BALANCE") == "OK available=2000.00 frozen=6000.00 receivable_principal=0.00 receivable_interest=0.00 borrowed=0.00")
        #expect(try await bob.call("BALANCE alice").hasPrefix("ERR FORBIDDEN"))
        #expect(try await bob.call("BID L1 5000") == "OK bid=B2 listing=L1 amount=4000.00 remaining=0.00 full=1")
        #expect(try await bob.call("BID L1 100").hasPrefix("ERR LISTING_NOT_OPEN"))
        #expect(fields(try await admin.call("LOAN.GET L1"))["status"] == "full")
        let bids = try await carol.rows("LOAN.BIDS L1")
        #expect(bids.count == 2)
        #expect(fields(bids[0])["investor"] == "alice")
        #expect(fields(try await bob.rows("LOAN.BIDS L1")[0])["investor"] == "ali***")

        #expect(try await admin.call("LOAN.DISBURSE L1") == "OK listing=L1 status=repaying")
        #expect(try await carol.call("BALANCE") == "OK available=11800.00 frozen=0.00 receivable_principal=0.00 receivable_interest=0.00 borrowed=10000.00")
        let plan = try await carol.rows("LOAN.PLAN L1")
        #expect(plan.count == 3)
        #expect(fields(plan[0])["principal"] == "3300.22")
        #expect(fields(plan[0])["interest"] == "100.00")
        for k in 1...3 {
            let reply = try await carol.call("LOAN.REPAY L1")
            #expect(fields(reply)["installment"] == "\(k)", "\(reply)")
            #expect(try await admin.call("RECONCILE").hasPrefix("OK balanced=1"))
        }
        #expect(fields(try await carol.call("LOAN.GET L1"))["status"] == "settled")
        #expect(fields(try await carol.call("BALANCE"))["borrowed"] == "0.00")
        let aliceBalance = fields(try await alice.call("BALANCE"))
        #expect(aliceBalance["receivable_principal"] == "0.00")
        #expect(Double(aliceBalance["available"]!)! > 8000)
        let ledger = try await alice.rows("LEDGER limit=3")
        #expect(ledger.count == 3)
        #expect(try await admin.call("STATS").contains("loans_repaying=0"))
        await server.stop()
    }

    @Test(arguments: LogCommits.allCases)
    func restartKeepsEveryAcknowledgedBid(logCommits: LogCommits) async throws {
        let first = try await TestServer.start(configureHost: { $0.logCommits = logCommits })
        defer { first.removeData() }
        let admin = try await first.connect(admin: true)
        _ = try await admin.call("USER.ADD b roles=borrower verified=1")
        var tokens: [String] = []
        for i in 0..<5 {
            tokens.append(fields(try await admin.call("USER.ADD i\(i) roles=investor verified=1 risk=5"))["token"]!)
            _ = try await admin.call("DEPOSIT i\(i) 100000")
        }
        let borrower = try await first.connect(admin: true)
        _ = borrower
        // Admin submits on behalf? No: the borrower submits. Use a borrower session.
        let bToken = fields(try await admin.call("USER.ADD b2 roles=borrower verified=1"))["token"]!
        let b2 = try await first.connect()
        _ = try await b2.call("AUTH b2 \(bToken)")
        _ = try await b2.call("LOAN.NEW amount=100000 rate=10 term=6 method=ep grade=A")
        _ = try await admin.call("LOAN.APPROVE L1")
        var acknowledged: [String] = []
        for (i, token) in tokens.enumerated() {
            let client = try await first.connect()
            _ = try await client.call("AUTH i\(i) \(token)")
            for k in 0..<20 {
                let reply = try await client.call("BID L1 \(50 + k * 50) ref=r\(k)")
                if reply.hasPrefix("OK") { acknowledged.append("i\(i):\(reply)") }
            }
        }
        let hashBefore = await first.server.host.stateHash
        let sequenceBefore = await first.server.host.lastSequence
        await first.stop()

        let second = try await TestServer.start(directory: first.directory, configureHost: { $0.logCommits = logCommits })
        let hashAfter = await second.server.host.stateHash
        #expect(hashAfter == hashBefore)
        #expect(await second.server.host.lastSequence == sequenceBefore)
        // Every acknowledged bid is there: the same ref returns the same reply byte for byte.
        for (i, token) in tokens.enumerated() {
            let client = try await second.connect()
            _ = try await client.call("AUTH i\(i) \(token)")
            for k in 0..<20 {
                let reply = try await client.call("BID L1 \(50 + k * 50) ref=r\(k)")
                #expect(acknowledged.contains("i\(i):\(reply)"), "\(reply)")
            }
        }
        #expect(try await second.connect(admin: true).call("RECONCILE").hasPrefix("OK balanced=1"))
        await second.stop()
    }

    @Test func autoCommitsOnTheLoopForOneRequestBatchesAndOnTheLogThreadForPipelines() async throws {
        let server = try await TestServer.start(configureHost: { $0.logCommits = .adaptive })
        defer { server.removeData() }
        let admin = try await server.connect(admin: true)
        #expect(try await admin.call("USER.ADD inv roles=investor verified=1 risk=5").hasPrefix("OK"))
        for _ in 0..<20 { #expect(try await admin.call("DEPOSIT inv 1").hasPrefix("OK")) }
        #expect(await server.server.host.roundsCommittedOnLoop >= 20)
        #expect(await server.server.host.roundsHandedToLogThread == 0)

        // 200 requests in one write: a batch of many, which goes to the log thread.
        try await admin.send(String(repeating: "DEPOSIT inv 1\n", count: 200))
        for _ in 0..<200 { #expect(try await admin.readLine().hasPrefix("OK user=inv amount=1.00")) }
        #expect(await server.server.host.roundsHandedToLogThread >= 1)
        #expect(try await admin.call("BALANCE inv").hasPrefix("OK available=220.00 "))
        #expect(try await admin.call("STATS").contains(" log_commits=auto "))
        #expect(try await admin.call("RECONCILE").hasPrefix("OK balanced=1"))
        await server.stop()
    }

    @Test func aSecondServerOnTheSameDataDirectoryIsRefusedUntilTheFirstStops() async throws {
        let first = try await TestServer.start()
        defer { first.removeData() }
        await #expect(throws: DataDirectoryLock.InUse.self) {
            _ = try await EngineHost(configuration: HostConfiguration(dataDirectory: first.directory))
        }
        // The refused start changed nothing: the first server still answers, and its log is intact.
        #expect(try await first.connect(admin: true).call("RECONCILE").hasPrefix("OK balanced=1"))
        await first.stop()
        let second = try await TestServer.start(directory: first.directory)
        #expect(try await second.connect(admin: true).call("PING").hasPrefix("OK"))
        await second.stop()
    }

    @Test func archivedLogSegmentsAreOutOfTheWayAndARestartRecoversTheSameState() async throws {
        func retained(_ host: inout HostConfiguration) {
            host.walRetention = .archive
            host.segmentBytes = 4_096
            host.keepSnapshots = 1
        }
        let first = try await TestServer.start(configureHost: retained)
        defer { first.removeData() }
        let admin = try await first.connect(admin: true)
        _ = try await admin.call("USER.ADD alice roles=investor verified=1")
        for _ in 0..<3 {
            for _ in 0..<100 { _ = try await admin.call("DEPOSIT alice 1") }
            #expect(try await admin.call("SNAPSHOT").hasPrefix("OK snapshot="))
        }
        let wal = first.directory.appending("wal")
        let archived = try WALSegment.list(in: wal.appending(WALRetention.archiveDirectoryName))
        let live = try WALSegment.list(in: wal)
        #expect(!archived.isEmpty)
        // What stays in wal/ starts at or before the kept snapshot's next record; nothing archived is needed.
        let kept = try #require(try SnapshotFile.list(in: first.directory.appending("snapshots")).first)
        #expect(try #require(live.first).firstSequence <= kept.sequence + 1)
        #expect(try #require(archived.last).firstSequence <= kept.sequence)
        await first.stop()

        let second = try await TestServer.start(directory: first.directory, configureHost: retained)
        let again = try await second.connect(admin: true)
        #expect(try await again.call("BALANCE alice").hasPrefix("OK available=300.00 "))
        #expect(try await again.call("RECONCILE").hasPrefix("OK balanced=1"))
        await second.stop()
    }
}
