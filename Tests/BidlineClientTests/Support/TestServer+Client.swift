import BidlineClient
import BidlineServer
import BidlineTestSupport
import Foundation
import SystemPackage
import Testing

extension TestServer {
    /// A client authenticated as `admin`.
    func admin(port: Int? = nil) async throws -> BidlineClient {
        let client = try await BidlineClient.connect(port: port ?? self.port)
        try await client.auth(user: "admin", token: adminToken)
        return client
    }
}

/// A market to bid in: a verified borrower with listing L1 open (`amount`, min 50, step 50 unless `options` say
/// otherwise) and investors with money. Returns the investors' tokens.
@discardableResult
func openMarket(
    _ admin: BidlineClient, amount: Int = 100_000, investors: [String] = ["inv"], deposit: Int = 100_000,
    options: String = ""
) async throws -> [String: String] {
    let borrower = try await admin.send("USER.ADD bor roles=borrower verified=1")
    let borrowerToken = try token(of: borrower)
    var tokens: [String: String] = [:]
    for investor in investors {
        let added = try await admin.send("USER.ADD \(investor) roles=investor verified=1 risk=5")
        tokens[investor] = try token(of: added)
        _ = try await admin.send("DEPOSIT \(investor) \(deposit)")
    }
    let borrowerClient = try await BidlineClient.connect(port: admin.port)
    try await borrowerClient.auth(user: "bor", token: borrowerToken)
    let terms = "amount=\(amount) rate=12 term=6 method=epi grade=A" + (options.isEmpty ? "" : " " + options)
    #expect(try await borrowerClient.send("LOAN.NEW " + terms).line == "OK listing=L1 status=pending")
    await borrowerClient.close()
    #expect(try await admin.send("LOAN.APPROVE L1").isOK)
    return tokens
}

struct TimedOut: Error {}

struct NoToken: Error { let reply: String }

/// The `token=` of a `USER.ADD` reply.
func token(of reply: BidlineClient.Reply) throws -> String {
    guard let token = reply["token"] else { throw NoToken(reply: reply.line) }
    return token
}

/// Runs `body`, failing with ``TimedOut`` if it has not finished after `seconds` (a guard against a hang, not a
/// measurement: no test asserts on how long anything took).
func withTimeout<T: Sendable>(seconds: Int = 120, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw TimedOut()
        }
        let result = try await group.next()!
        group.cancelAll()
        return result
    }
}
