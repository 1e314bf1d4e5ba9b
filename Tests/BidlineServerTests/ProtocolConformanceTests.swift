import BidlineCore
import BidlineProtocol
import BidlineServer
import BidlineTestSupport
import Foundation
import Testing

/// The wire contract over TCP: the auth matrix from the command table, malformed input of every kind,
/// pipelining, and a client that never reads.
@Suite(.serialized) struct ProtocolConformanceTests {
    /// A syntactically valid line for every verb (the auth matrix needs the role check, not success).
    static func sampleLine(_ verb: Verb) -> String {
        switch verb {
        case .ping: "PING"
        case .quit: "QUIT"
        case .auth: "AUTH nobody nothing"
        case .whoami: "WHOAMI"
        case .help: "HELP"
        case .userAdd: "USER.ADD zed roles=investor"
        case .userSet: "USER.SET inv verified=1"
        case .loanApprove: "LOAN.APPROVE L99"
        case .loanReject: "LOAN.REJECT L99"
        case .loanCancel: "LOAN.CANCEL L99"
        case .loanDisburse: "LOAN.DISBURSE L99"
        case .feeSet: "FEE.SET service=2"
        case .clock: "CLOCK"
        case .clockAdvance: "CLOCK.ADVANCE 1s"
        case .snapshot: "SNAPSHOT"
        case .reconcile: "RECONCILE"
        case .stats: "STATS"
        case .metrics: "METRICS"
        case .deposit: "DEPOSIT inv 1"
        case .withdraw: "WITHDRAW inv 1"
        case .loanNew: "LOAN.NEW amount=1000 rate=12 term=12 method=epi grade=A"
        case .loanRepay: "LOAN.REPAY L99"
        case .loanPayoff: "LOAN.PAYOFF L99"
        case .bid: "BID L99 100"
        case .autoSet: "AUTO.SET max=100"
        case .autoOff: "AUTO.OFF"
        case .autoGet: "AUTO.GET"
        case .claimSell: "CLAIM.SELL C99 principal=100 price=100"
        case .claimBuy: "CLAIM.BUY T99 100"
        case .claimWithdraw: "CLAIM.WITHDRAW T99"
        case .balance: "BALANCE"
        case .loanGet: "LOAN.GET L99"
        case .loanList: "LOAN.LIST"
        case .loanBids: "LOAN.BIDS L99"
        case .loanPlan: "LOAN.PLAN L99"
        case .holdings: "HOLDINGS"
        case .ledger: "LEDGER"
        case .subscribe: "SUBSCRIBE loans"
        }
    }

    /// Reads a reply that may have rows, returning its first line.
    static func firstLine(_ client: LineClient, _ line: String) async throws -> String {
        try await client.rows(line).first ?? ""
    }

    @Test func authMatrixFollowsTheCommandTable() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        let admin = try await server.connect(admin: true)
        var tokens: [String: String] = ["admin": server.adminToken]
        for (id, roles) in [("inv", "investor"), ("bor", "borrower"), ("gw", "gateway")] {
            tokens[id] = fields(try await admin.call("USER.ADD \(id) roles=\(roles) verified=1 risk=5"))["token"]!
        }
        let sessions: [(name: String, user: String?, roles: Roles)] = [
            ("unauthenticated", nil, []), ("admin", "admin", .admin), ("investor", "inv", .investor),
            ("borrower", "bor", .borrower), ("gateway", "gw", .gateway),
        ]
        for session in sessions {
            for spec in CommandTable.specs {
                // A fresh connection per verb: QUIT closes, SUBSCRIBE switches to push mode.
                let client = try await server.connect()
                if let user = session.user { #expect(try await client.call("AUTH \(user) \(tokens[user]!)").hasPrefix("OK")) }
                let reply = try await Self.firstLine(client, Self.sampleLine(spec.verb))
                let allowed = spec.roles.contains(.unauthenticated) || (session.user != nil && spec.roles.allows(session.roles))
                if allowed {
                    #expect(!reply.hasPrefix("ERR FORBIDDEN") && !reply.hasPrefix("ERR NOT_AUTHENTICATED"),
                            "\(session.name) \(spec.name): \(reply)")
                } else if session.user == nil {
                    #expect(reply.hasPrefix("ERR NOT_AUTHENTICATED"), "\(session.name) \(spec.name): \(reply)")
                } else {
                    #expect(reply.hasPrefix("ERR FORBIDDEN"), "\(session.name) \(spec.name): \(reply)")
                }
            }
        }
        // Acting on another user: investors and borrowers see their own data only.
        let investor = try await server.connect()
        _ = try await investor.call("AUTH inv \(tokens["inv"]!)")
        #expect(try await investor.call("BALANCE bor").hasPrefix("ERR FORBIDDEN"))
        #expect(try await investor.call("LEDGER bor").hasPrefix("ERR FORBIDDEN"))
        #expect(try await investor.call("HOLDINGS bor").hasPrefix("ERR FORBIDDEN"))
        #expect(try await investor.call("BALANCE bank").hasPrefix("ERR FORBIDDEN"))
        #expect(try await investor.call("BALANCE inv").hasPrefix("OK available="))
        #expect(try await admin.call("BALANCE bank").hasPrefix("OK account=bank balance="))
        #expect(try await server.connect().call("AUTH inv wrong-token").hasPrefix("ERR AUTH_FAILED"))
        #expect(try await server.connect().call("AUTH nobody wrong-token").hasPrefix("ERR AUTH_FAILED"))
        await server.stop()
    }

    @Test func malformedLinesGetErrorsAndTheConnectionKeepsWorking() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        let client = try await server.connect(admin: true)
        // Too long: discarded up to its newline, answered once.
        try await client.send(String(repeating: "A", count: 5_000) + "\n")
        #expect(try await client.readLine().hasPrefix("ERR LINE_TOO_LONG"))
        #expect(try await client.call("PING") == "OK pong")
        // Exactly 4096 bytes is allowed (and is then an unknown verb here).
        #expect(try await client.call(String(repeating: "B", count: 4096)).hasPrefix("ERR "))
        #expect(!(try await client.call(String(repeating: "B", count: 4096)).hasPrefix("ERR LINE_TOO_LONG")))
        // Binary garbage, including NUL and high bytes.
        try await client.sendBytes([0x00, 0xFF, 0xFE, 0x01, 0x20, 0x80, 0x0A])
        #expect(try await client.readLine().hasPrefix("ERR UNKNOWN_VERB"))
        try await client.sendBytes((0..<200).map { UInt8(($0 * 37) % 256) }.filter { $0 != 0x0A } + [0x0A])
        #expect(try await client.readLine().hasPrefix("ERR "))
        for (line, code) in [
            ("FROB", "UNKNOWN_VERB"), ("DEPOSIT admin 1e3", "BAD_AMOUNT"), ("DEPOSIT admin -1", "BAD_AMOUNT"),
            ("DEPOSIT admin 1.234", "BAD_AMOUNT"), ("DEPOSIT admin 100000000000.01", "BAD_AMOUNT"),
            ("DEPOSIT admin", "BAD_ARGUMENT"), ("LOAN.GET L0", "BAD_ARGUMENT"), ("LOAN.GET L99", "NO_SUCH_LISTING"),
            ("DEPOSIT nobody 5", "NO_SUCH_USER"), ("LOAN.LIST limit=10001", "BAD_ARGUMENT"),
            ("USER.ADD BAD roles=investor", "BAD_ARGUMENT"), ("DEPOSIT admin 5 color=red", "BAD_ARGUMENT"),
        ] {
            #expect(try await client.call(line).hasPrefix("ERR \(code) "), "\(line)")
        }
        // Blank and whitespace-only lines get no reply; CRLF and tabs are fine; verbs are case-insensitive.
        try await client.send("\n   \n\t\nping\r\nPiNg\t\n")
        #expect(try await client.readLine() == "OK pong")
        #expect(try await client.readLine() == "OK pong")
        #expect(try await client.call("RECONCILE").hasPrefix("OK balanced=1"))
        await server.stop()
    }

    @Test func aClientThatClosesItsSendingSideGetsEveryReplyThenEOF() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        let client = try await server.connect()
        try await client.send("AUTH admin \(server.adminToken)\nUSER.ADD zed roles=investor\nPING\nBALANCE\n")
        client.shutdownWrite()
        #expect(try await client.readLine() == "OK user=admin roles=admin")
        #expect(try await client.readLine().hasPrefix("OK user=zed token="))
        #expect(try await client.readLine() == "OK pong")
        #expect(try await client.readLine().hasPrefix("OK available="))
        #expect(await client.isClosed())
        await server.stop()
    }

    @Test func pipelinesTenThousandRequestsInOrder() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        let admin = try await server.connect(admin: true)
        let token = fields(try await admin.call("USER.ADD inv roles=investor verified=1 risk=5"))["token"]!
        let borrowerToken = fields(try await admin.call("USER.ADD bor roles=borrower verified=1"))["token"]!
        _ = try await admin.call("DEPOSIT inv 1000000")
        let borrower = try await server.connect()
        _ = try await borrower.call("AUTH bor \(borrowerToken)")
        _ = try await borrower.call("LOAN.NEW amount=200000 rate=10 term=12 method=epi grade=A")
        _ = try await admin.call("LOAN.APPROVE L1")
        let client = try await server.connect()
        _ = try await client.call("AUTH inv \(token)")
        var requests = ""
        for i in 0..<10_000 {
            switch i % 4 {
            case 0: requests += "BID L1 50 ref=p\(i)\n"
            case 1: requests += "PING\n"
            case 2: requests += "BID L1 50 ref=p\(i - 2)\n"  // a retry of the previous bid: same reply
            default: requests += "BALANCE\n"
            }
        }
        try await client.send(requests)
        var lastBidReply = ""
        var bidNumber = 0
        for i in 0..<10_000 {
            let reply = try await client.readLine()
            switch i % 4 {
            case 0:
                bidNumber += 1
                #expect(reply.hasPrefix("OK bid=B\(bidNumber) "), "\(i): \(reply)")
                lastBidReply = reply
            case 1: #expect(reply == "OK pong")
            case 2: #expect(reply == lastBidReply)
            default: #expect(reply.hasPrefix("OK available="))
            }
        }
        #expect(fields(try await client.call("BALANCE"))["frozen"] == "125000.00")
        await server.stop()
    }

    @Test func aClientThatNeverReadsIsCutOffWhileOthersAreServed() async throws {
        let server = try await TestServer.start { configuration in
            configuration.maxOutboundBytes = 64 << 10
            configuration.slowClientMillis = 200
        }
        defer { server.removeData() }
        let admin = try await server.connect(admin: true)
        let hog = try await server.connect(admin: true)
        // Each HELP reply is a few KiB; never read them.
        let burst = String(repeating: "HELP\n", count: 2_000)
        var cut = false
        for _ in 0..<200 {
            do {
                try await hog.send(burst)
            } catch {
                cut = true
                break
            }
            #expect(try await admin.call("PING") == "OK pong")
        }
        let closed = await hog.isClosed()
        #expect(cut || closed)
        #expect(try await admin.call("PING") == "OK pong")
        await server.stop()
    }

    @Test func subscribersReceiveEvents() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        let admin = try await server.connect(admin: true)
        let token = fields(try await admin.call("USER.ADD inv roles=investor verified=1 risk=5"))["token"]!
        let borrowerToken = fields(try await admin.call("USER.ADD bor roles=borrower verified=1"))["token"]!
        _ = try await admin.call("DEPOSIT inv 5000")
        let watcher = try await server.connect()
        _ = try await watcher.call("AUTH inv \(token)")
        #expect(try await watcher.call("SUBSCRIBE loans account") == "OK subscribed=loans,account")
        #expect(try await watcher.call("BALANCE").hasPrefix("ERR BAD_STATE"))
        let borrower = try await server.connect()
        _ = try await borrower.call("AUTH bor \(borrowerToken)")
        _ = try await borrower.call("LOAN.NEW amount=1000 rate=10 term=12 method=epi grade=A")
        _ = try await admin.call("LOAN.APPROVE L1")
        let investor = try await server.connect()
        _ = try await investor.call("AUTH inv \(token)")
        // Three bids in one write: one batch. Each account event shows the balance its own change left.
        try await investor.send("BID L1 300\nBID L1 200\nBID L1 500\n")
        for _ in 0..<2 { #expect(try await investor.readLine().hasSuffix("full=0")) }
        #expect(try await investor.readLine().hasSuffix("full=1"))
        var events: [String] = []
        while !events.contains(where: { $0.hasPrefix("EVENT loan.full listing=L1") }) {
            events.append(try await watcher.readLine())
        }
        #expect(events.contains { $0.hasPrefix("EVENT loan.open listing=L1") })
        let accountEvents = events.filter { $0.hasPrefix("EVENT account user=inv") }.map { $0.split(separator: " ").dropLast().joined(separator: " ") }
        #expect(
            accountEvents == [
                "EVENT account user=inv listing=L1 change=-300.00 available=4700.00 frozen=300.00",
                "EVENT account user=inv listing=L1 change=-200.00 available=4500.00 frozen=500.00",
                "EVENT account user=inv listing=L1 change=-500.00 available=4000.00 frozen=1000.00",
            ])
        try await watcher.send("QUIT\n")
        var last = ""
        while last != "OK bye" { last = try await watcher.readLine() }
        #expect(await watcher.isClosed())
        await server.stop()
    }
}
