import BidlineClient
import BidlineServer
import Foundation
import SystemPackage
import Testing

/// An in-process Bidline server on a loopback port with its own data directory (the idea of
/// `Tests/BidlineServerTests/TestServer.swift`): start, stop, and restart on the same port and data.
final class InProcessServer: Sendable {
    let directory: FilePath
    let server: BidlineServer
    let port: Int
    let adminToken: String

    private init(directory: FilePath, server: BidlineServer, port: Int, adminToken: String) {
        self.directory = directory
        self.server = server
        self.port = port
        self.adminToken = adminToken
    }

    /// Starts a server; `port` 0 picks an ephemeral one. Manual clock, so tests decide when time moves.
    static func start(directory: FilePath? = nil, port: Int = 0) async throws -> InProcessServer {
        let directory =
            directory ?? FilePath(NSTemporaryDirectory()).appending("bidline-client-test-\(UUID().uuidString)")
        var hostConfiguration = HostConfiguration(dataDirectory: directory)
        hostConfiguration.clock = .manual
        let host = try await EngineHost(configuration: hostConfiguration)
        var configuration = ServerConfiguration()
        configuration.port = port
        let server = BidlineServer(host: host, configuration: configuration)
        let bound = try await server.start()
        let token = try String(contentsOfFile: directory.appending("admin.token").string, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return InProcessServer(directory: directory, server: server, port: bound, adminToken: token)
    }

    func stop() async { await server.stop() }

    /// Stops this server and starts a new one on the same port and data directory.
    func restart() async throws -> InProcessServer {
        await stop()
        return try await InProcessServer.start(directory: directory, port: port)
    }

    func removeData() { try? FileManager.default.removeItem(atPath: directory.string) }

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
