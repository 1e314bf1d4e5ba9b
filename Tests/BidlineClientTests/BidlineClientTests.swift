import BidlineClient
import BidlineCore
import BidlineProtocol
import BidlineTestSupport
import Foundation
import Testing

/// The client against a real in-process server: pipelining, typed helpers, reconnect with idempotent retry,
/// subscriptions.
@Suite(.serialized) struct BidlineClientTests {
    @Test func pipelinesTenThousandRequestsInOrder() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        let admin = try await server.admin()
        _ = try await admin.send("USER.ADD alice roles=investor verified=1")
        // 9,900 deposits of 1.00, each reply carrying the running balance, with a multi-row reply every 100th
        // line: any reordering or mis-framed row shows up as a wrong balance.
        let lines = (0..<10_000).map { $0 % 100 == 99 ? "LEDGER alice limit=2" : "DEPOSIT alice 1" }
        let replies = try await withTimeout { try await admin.pipeline(lines) }
        #expect(replies.count == 10_000)
        var deposits = 0
        for (i, reply) in replies.enumerated() {
            if i % 100 == 99 {
                #expect(reply.line == "OK rows=2", "\(i): \(reply.line)")
                #expect(reply.rows.count == 2)
                #expect(reply.rows.first?["balance"] == "\(deposits).00", "\(i): \(reply.rows)")
            } else {
                deposits += 1
                #expect(reply.line == "OK user=alice amount=1.00 available=\(deposits).00", "\(i): \(reply.line)")
            }
        }
        #expect(try await admin.balance("alice").available == Money(yuan: 9_900))
        await admin.close()
        await server.stop()
    }

    @Test func concurrentSendersShareOneConnection() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        let admin = try await server.admin()
        _ = try await admin.send("USER.ADD alice roles=investor verified=1")
        let tasks = 8
        let perTask = 250
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<tasks {
                group.addTask {
                    for k in 0..<perTask {
                        let result = try await admin.deposit(user: "alice", amount: Money(cents: 1), ref: "t\(t)-\(k)")
                        #expect(result.amount == Money(cents: 1))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await admin.balance("alice").available == Money(cents: Int64(tasks * perTask)))
        await server.stop()
    }

    @Test func typedHelpersAndErrors() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        let admin = try await server.admin()
        let tokens = try await openMarket(admin, amount: 1_000, deposit: 700)
        let investor = try await BidlineClient.connect(port: server.port)
        let auth = try await investor.auth(user: "inv", token: tokens["inv"]!)
        #expect(auth.line == "OK user=inv roles=investor")
        #expect(try await investor.ping())

        let first = try await investor.bid(listing: ListingID(1), amount: Money(yuan: 500), ref: "a")
        #expect(
            first
                == BidResult(
                    bid: BidID(1), listing: ListingID(1), amount: Money(yuan: 500), remaining: Money(yuan: 500),
                    full: false))
        #expect(try await investor.bid(listing: ListingID(1), amount: Money(yuan: 500), ref: "a") == first)
        await #expect(
            throws: BidlineClientError.rejected(code: "INSUFFICIENT_FUNDS", message: "available balance too low")
        ) {
            try await investor.bid(listing: ListingID(1), amount: Money(yuan: 500))
        }
        await #expect(throws: BidlineClientError.rejected(code: "NO_SUCH_LISTING", message: "no such listing")) {
            try await investor.bid(listing: ListingID(9), amount: Money(yuan: 50))
        }
        let balance = try await investor.balance()
        #expect(balance.available == Money(yuan: 200))
        #expect(balance.frozen == Money(yuan: 500))
        let deposit = try await admin.deposit(user: "inv", amount: Money(yuan: 300), ref: "d1")
        #expect(deposit == FundsResult(user: "inv", amount: Money(yuan: 300), available: Money(yuan: 500)))
        #expect(try await admin.deposit(user: "inv", amount: Money(yuan: 300), ref: "d1") == deposit)

        // An ERR reply is a reply, not an error, for send().
        let forbidden = try await investor.send("BALANCE bor")
        #expect(forbidden.errorCode == "FORBIDDEN")
        #expect(!forbidden.isOK)
        // Lines the protocol cannot frame as one request are refused before they are sent.
        await #expect(throws: BidlineClientError.self) { try await investor.send("PING\nPING") }
        await #expect(throws: BidlineClientError.self) { try await investor.send("   ") }
        await #expect(throws: BidlineClientError.self) { try await investor.send("subscribe loans") }
        // Rows: LOAN.BIDS as the borrower would see it, masked for another investor.
        let bids = try await investor.send("LOAN.BIDS L1")
        #expect(bids.line == "OK rows=1")
        #expect(bids.rows.map { $0["investor"] } == ["inv"])
        #expect(try await investor.send("QUIT").line == "OK bye")
        await #expect(throws: BidlineClientError.closed) { try await investor.send("PING") }
        await server.stop()
    }

    /// The connection drops after the server executed 20 pipelined requests but before the client saw more
    /// than 5 replies. The client reconnects, re-authenticates and resends the unanswered reads and ref'd bids:
    /// each gets its original reply (same bid id) and no bid is executed twice; the bid without ref fails with
    /// `connectionLost` (it was in fact executed once).
    @Test func reconnectResendsRefBidsWithoutDoubleBids() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        let admin = try await server.admin()
        let tokens = try await openMarket(admin)
        let proxy = CuttingProxy(targetPort: server.port, plan: .init(forwardReplies: 5, cutAfterReplies: 20))
        let proxyPort = try await proxy.start()
        var configuration = BidlineClient.Configuration()
        configuration.reconnect = .init(maxAttempts: 50, initialDelayMillis: 10, maxDelayMillis: 200)
        let investor = try await BidlineClient.connect(port: proxyPort, configuration: configuration)
        try await investor.auth(user: "inv", token: tokens["inv"]!)  // reply 1 of the first connection

        let lines = (0..<19).map { i in
            switch i {
            case 10: "BID L1 100"  // a write without ref: not safe to resend
            case 15: "BALANCE"  // a read: safe to resend
            default: "BID L1 100 ref=r\(i)"
            }
        }
        let outcome = try await withTimeout { () -> Result<[BidlineClient.Reply], BidlineClientError> in
            do { return .success(try await investor.pipeline(lines)) } catch let error as BidlineClientError {
                return .failure(error)
            }
        }
        #expect(proxy.cuts.load(ordering: .relaxed) == 1)
        #expect(proxy.accepted.load(ordering: .relaxed) == 2)
        guard case .failure(.pipelineIncomplete(let replies, let errors)) = outcome else {
            Issue.record("expected the bid without ref to fail, got \(outcome)")
            return
        }
        #expect(errors == [10: BidlineClientError.connectionLost(request: "BID L1 100")])
        // AUTH and 4 pipelined replies got through: 15 unanswered, 14 resent, the bid without ref failed.
        let statistics = await investor.statistics
        #expect(statistics.reconnects == 1 && statistics.resent == 14 && statistics.failedUnsafe == 1, "\(statistics)")
        // The server ran all 19 in line order on the first connection: line i made bid B(i+1) (the BALANCE line
        // made none). Resent ref'd bids answer with that same bid.
        var bidNumber = 0
        for (i, reply) in replies.enumerated() where i != 15 {
            bidNumber += 1
            guard i != 10 else { continue }
            let remaining = 100_000 - bidNumber * 100
            #expect(
                reply?.line == "OK bid=B\(bidNumber) listing=L1 amount=100.00 remaining=\(remaining).00 full=0",
                "line \(i)")
        }
        #expect(replies[15]?.isOK == true)
        // Exactly 18 bids exist (17 ref'd + 1 without ref), and the money matches: no double bid.
        #expect(try await admin.send("LOAN.BIDS L1").rows.count == 18)
        let balance = try await investor.balance()
        #expect(balance.frozen == Money(yuan: 1_800))
        #expect(balance.available == Money(yuan: 98_200))
        #expect(try await admin.send("LOAN.GET L1")["raised"] == "1800.00")
        // Asking again with a used ref is still the same bid.
        #expect(try await investor.bid(listing: ListingID(1), amount: Money(yuan: 100), ref: "r3").bid == BidID(4))
        #expect(try await admin.send("RECONCILE").line.hasPrefix("OK balanced=1"))
        await investor.close()
        await proxy.stop()
        await server.stop()
    }

    /// `bidline serve` is killed with SIGKILL while a pipeline of 20,000 ref'd bids is in flight, and started again
    /// on the same port and data directory. The client reconnects and re-authenticates by itself and resends what
    /// was unanswered: every ref ends up as exactly one bid (acknowledged ones survive the crash and answer with
    /// their original reply; lost ones are executed once), and the money matches.
    @Test func reconnectAcrossServerCrashAndRestart() async throws {
        let directory = temporaryPath("bidline-client-crash").string
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = try ServerProcess.freePort()
        var server = try await ServerProcess.start(directory: directory, port: port)
        defer { server.kill() }
        var once = BidlineClient.Configuration()
        once.reconnect = .never
        let admin = try await BidlineClient.connect(port: port, configuration: once)
        try await admin.auth(user: "admin", token: try server.adminToken)
        let tokens = try await openMarket(admin, amount: 100_000, deposit: 100_000, options: "min=1 step=1")
        var patient = BidlineClient.Configuration()
        patient.reconnect = .init(maxAttempts: 400, initialDelayMillis: 10, maxDelayMillis: 100)
        let investor = try await BidlineClient.connect(port: port, configuration: patient)
        try await investor.auth(user: "inv", token: tokens["inv"]!)
        let first = try await investor.bid(listing: ListingID(1), amount: Money(yuan: 100), ref: "k-0")

        let count = 20_000
        let lines = (1...count).map { "BID L1 1 ref=k-\($0)" }
        let inFlight = Task { try await investor.pipeline(lines) }
        // Kill once the server has taken some of them (or all: the checks below hold either way).
        while Int(try await admin.send("LOAN.GET L1")["bids"] ?? "0") ?? 0 < 2 {
            try await Task.sleep(for: .milliseconds(1))
        }
        server.kill()
        await admin.close()
        server = try await ServerProcess.start(directory: directory, port: port)

        let replies = try await withTimeout { try await inFlight.value }
        let refused = replies.filter { !$0.isOK }
        #expect(refused.isEmpty, "\(refused)")
        #expect(Set(replies.compactMap { $0["bid"] }).count == count)
        #expect(try await investor.bid(listing: ListingID(1), amount: Money(yuan: 100), ref: "k-0") == first)
        #expect(await investor.isConnected)
        let statistics = await investor.statistics
        #expect(statistics.reconnects >= 1 && statistics.failedUnsafe == 0, "\(statistics)")
        let checker = try await BidlineClient.connect(port: port, configuration: once)
        try await checker.auth(user: "admin", token: try server.adminToken)
        #expect(try await checker.send("LOAN.GET L1")["bids"] == "\(count + 1)")
        #expect(try await checker.send("LOAN.GET L1")["raised"] == "\(count + 100).00")
        #expect(try await investor.balance().frozen == Money(yuan: Int64(count + 100)))
        #expect(try await checker.send("RECONCILE").line.hasPrefix("OK balanced=1"))
        await checker.close()
        await investor.close()
    }

    @Test func connectionLossWithoutReconnectFailsUnansweredRequests() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        let admin = try await server.admin()
        try await openMarket(admin)
        let proxy = CuttingProxy(targetPort: server.port, plan: .init(forwardReplies: 1, cutAfterReplies: 3))
        var configuration = BidlineClient.Configuration()
        configuration.reconnect = .never
        let client = try await BidlineClient.connect(port: try await proxy.start(), configuration: configuration)
        try await client.auth(user: "admin", token: server.adminToken)  // the one forwarded reply
        let outcome = try await withTimeout { () -> BidlineClientError? in
            do {
                _ = try await client.pipeline(["BALANCE inv", "DEPOSIT inv 5"])
                return nil
            } catch let error as BidlineClientError { return error }
        }
        guard case .pipelineIncomplete(_, let errors) = outcome else {
            Issue.record("expected a failure, got \(String(describing: outcome))")
            return
        }
        #expect(errors[1] == .connectionLost(request: "DEPOSIT inv 5"))
        if case .reconnectFailed = errors[0] {} else { Issue.record("the read fails as not reconnected: \(errors)") }
        await proxy.stop()
        await server.stop()
    }

    /// A reply over the client's limits is a protocol violation: the connection is dropped, not buffered.
    @Test func replyOverTheRowLimitDropsTheConnection() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        var configuration = BidlineClient.Configuration()
        configuration.maxRowsPerReply = 10
        configuration.reconnect = .never
        let client = try await BidlineClient.connect(port: server.port, configuration: configuration)
        try await client.auth(user: "admin", token: server.adminToken)
        #expect(try await client.send("HELP BID").rows.count == 2)
        await #expect(throws: BidlineClientError.self) { try await client.send("HELP") }
        #expect(await !client.isConnected)
        await server.stop()
    }

    @Test func subscriptionDeliversLoanFull() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        let admin = try await server.admin()
        let tokens = try await openMarket(admin, amount: 1_000)
        let investor = try await BidlineClient.connect(port: server.port)
        try await investor.auth(user: "inv", token: tokens["inv"]!)
        let loans = try await investor.subscribe(topics: [.loans])
        #expect(loans.reply.line == "OK subscribed=loans")
        let account = try await investor.subscribe(topics: [.account])
        // The request connection stays usable while the subscriptions are open.
        #expect(try await investor.bid(listing: ListingID(1), amount: Money(yuan: 1_000)).full)

        let full = try await withTimeout {
            for try await event in loans where event.name == "loan.full" { return event }
            throw TimedOut()
        }
        #expect(full.line.hasPrefix("EVENT loan.full listing=L1 "))
        #expect(full["listing"] == "L1")
        let change = try await withTimeout {
            for try await event in account where event.name == "account" { return event }
            throw TimedOut()
        }
        #expect(change["user"] == "inv")
        #expect(change["frozen"] == "1000.00")

        // After cancel the sequence ends (normally, not with an error).
        await loans.cancel()
        try await withTimeout { for try await _ in loans {} }
        await account.cancel()
        await investor.close()
        await server.stop()
    }
}
