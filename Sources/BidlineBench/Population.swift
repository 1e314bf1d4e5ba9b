import NIOCore
import Foundation

/// Creates a benchmark population through the protocol with an admin connection: investors with deposits,
/// company borrowers and their listings. Names carry a run id so runs against one server do not collide.
public struct Population: Sendable {
    public var investors: [(String, String)] = []
    public var listings: [UInt32] = []

    public static func runID() -> String { String(UInt64(Date().timeIntervalSince1970 * 1000) % 100_000_000, radix: 36) }

    /// `count` investors, each with `depositYuan` available.
    public static func investors(
        _ count: Int, depositYuan: Int, admin: LineConnection, runID: String
    ) async throws -> [(String, String)] {
        let names = (0..<count).map { "bi\(runID)_\($0)" }
        let added = try await admin.sendChunked(names.map { "USER.ADD \($0) roles=investor verified=1 risk=5" })
        var credentials: [(String, String)] = []
        for (name, reply) in zip(names, added) {
            guard let token = replyFields(reply)["token"] else { throw BenchError.setup("USER.ADD \(name): \(reply)") }
            credentials.append((name, token))
        }
        let deposits = try await admin.sendChunked(names.map { "DEPOSIT \($0) \(depositYuan)" })
        if let bad = deposits.first(where: { !$0.hasPrefix("OK") }) { throw BenchError.setup("DEPOSIT: \(bad)") }
        return credentials
    }

    /// `count` listings of `amountYuan` (at most 1,000,000.00: one company borrower each, within its cap), with
    /// minimum bid and step `minYuan`. Approved unless `approve` is false. Returns listing numbers.
    public static func listings(
        _ count: Int, amountYuan: Int, minYuan: Int, approve: Bool, admin: LineConnection, runID: String,
        host: String, port: Int, group: any EventLoopGroup
    ) async throws -> [UInt32] {
        let names = (0..<count).map { "bb\(runID)_\($0)" }
        let added = try await admin.sendChunked(names.map { "USER.ADD \($0) roles=borrower kind=company verified=1" })
        let borrower = try await LineConnection.connect(host: host, port: port, group: group)
        defer { Task { await borrower.close() } }
        var lines: [String] = []
        for (name, reply) in zip(names, added) {
            guard let token = replyFields(reply)["token"] else { throw BenchError.setup("USER.ADD \(name): \(reply)") }
            lines.append("AUTH \(name) \(token)")
            lines.append("LOAN.NEW amount=\(amountYuan) rate=12 term=12 method=epi grade=A min=\(minYuan) step=\(minYuan) window=720h")
        }
        let replies = try await borrower.sendChunked(lines)
        var listings: [UInt32] = []
        for reply in replies where reply.hasPrefix("OK listing=") {
            guard let id = replyFields(reply)["listing"], let number = UInt32(id.dropFirst()) else { continue }
            listings.append(number)
        }
        guard listings.count == count else {
            throw BenchError.setup("LOAN.NEW: \(replies.first { $0.hasPrefix("ERR") } ?? "missing replies")")
        }
        if approve {
            let approved = try await admin.sendChunked(listings.map { "LOAN.APPROVE L\($0)" })
            if let bad = approved.first(where: { !$0.hasPrefix("OK") }) { throw BenchError.setup("LOAN.APPROVE: \(bad)") }
        }
        return listings
    }

    /// The server's `raised` of each listing, in cents.
    public static func raised(_ listings: [UInt32], admin: LineConnection) async throws -> [UInt32: Int64] {
        let replies = try await admin.sendChunked(listings.map { "LOAN.GET L\($0)" })
        var result: [UInt32: Int64] = [:]
        for (listing, reply) in zip(listings, replies) {
            let fields = replyFields(reply)
            guard let raised = cents(fields["raised"]) else { throw BenchError.setup("LOAN.GET L\(listing): \(reply)") }
            result[listing] = raised
        }
        return result
    }
}

