import BidlineCore
import BidlineProtocol

/// The reply to `BID`: the accepted bid (possibly cut to what the listing had left). The engine's own
/// ``BidlineCore/BidReply``, read from the wire by ``BidlineCore/BidReply/init(replyLine:)-(String)``; this name
/// is kept so code written against earlier clients still builds.
public typealias BidResult = BidReply

/// The reply to `BALANCE` for a user (amounts in yuan, two decimals).
public struct Balance: Sendable, Hashable {
    /// Money free to bid or withdraw.
    public var available: Money
    /// Money held by open bids.
    public var frozen: Money
    /// Principal still owed to the user by borrowers.
    public var receivablePrincipal: Money
    /// Interest still owed to the user by borrowers.
    public var receivableInterest: Money
    /// Principal the user still owes as a borrower.
    public var borrowed: Money

    /// Memberwise.
    public init(available: Money, frozen: Money, receivablePrincipal: Money, receivableInterest: Money, borrowed: Money)
    {
        self.available = available
        self.frozen = frozen
        self.receivablePrincipal = receivablePrincipal
        self.receivableInterest = receivableInterest
        self.borrowed = borrowed
    }
}

/// The reply to `DEPOSIT` and `WITHDRAW`.
public struct FundsResult: Sendable, Hashable {
    /// The user whose account moved.
    public var user: String
    /// The amount moved.
    public var amount: Money
    /// The user's available balance after the move.
    public var available: Money

    /// Memberwise.
    public init(user: String, amount: Money, available: Money) {
        self.user = user
        self.amount = amount
        self.available = available
    }
}

extension BidlineClient {
    /// `PING`: true when the server answers `OK pong`.
    public func ping() async throws -> Bool {
        try await send("PING").line == "OK pong"
    }

    /// `BID listing amount [ref=…] [aon=1]` (investors). With `ref`, the bid is idempotent: a repeat, including
    /// the client's own resend after a reconnect, gets the first reply and freezes money once.
    ///
    /// Throws ``BidlineClientError/rejected(code:message:)`` when the server refuses the bid (for example
    /// `INSUFFICIENT_FUNDS`, `LISTING_NOT_OPEN`, `REF_REUSED`).
    public func bid(listing: ListingID, amount: Money, ref: String? = nil, aon: Bool = false) async throws -> BidReply
    {
        var line = "BID \(listing) \(amount)"
        if let ref {
            try Self.checkToken(ref, "ref")
            line += " ref=\(ref)"
        }
        if aon { line += " aon=1" }
        let reply = try Self.requireOK(try await send(line))
        guard let result = BidReply(replyLine: reply.line) else {
            throw BidlineClientError.unexpectedReply(reply.line)
        }
        return result
    }

    /// `BALANCE [user]`: the authenticated user's balances, or `user`'s (admins only; `bank` and `platform`
    /// have a different reply: use ``send(_:)``).
    public func balance(_ user: String? = nil) async throws -> Balance {
        var line = "BALANCE"
        if let user {
            try Self.checkToken(user, "user")
            line += " \(user)"
        }
        let reply = try Self.requireOK(try await send(line))
        guard let available = ReplyParser.money(reply["available"]), let frozen = ReplyParser.money(reply["frozen"]),
            let principal = ReplyParser.money(reply["receivable_principal"]),
            let interest = ReplyParser.money(reply["receivable_interest"]),
            let borrowed = ReplyParser.money(reply["borrowed"])
        else { throw BidlineClientError.unexpectedReply(reply.line) }
        return Balance(
            available: available, frozen: frozen, receivablePrincipal: principal, receivableInterest: interest,
            borrowed: borrowed)
    }

    /// `DEPOSIT user amount [ref=…]` (gateway, admin). With `ref`, idempotent like ``bid(listing:amount:ref:aon:)``.
    public func deposit(user: String, amount: Money, ref: String? = nil) async throws -> FundsResult {
        try await moveFunds("DEPOSIT", user: user, amount: amount, ref: ref)
    }

    /// `WITHDRAW user amount [ref=…]` (gateway, admin). With `ref`, idempotent.
    public func withdraw(user: String, amount: Money, ref: String? = nil) async throws -> FundsResult {
        try await moveFunds("WITHDRAW", user: user, amount: amount, ref: ref)
    }

    func moveFunds(_ verb: String, user: String, amount: Money, ref: String?) async throws -> FundsResult {
        try Self.checkToken(user, "user")
        var line = "\(verb) \(user) \(amount)"
        if let ref {
            try Self.checkToken(ref, "ref")
            line += " ref=\(ref)"
        }
        let reply = try Self.requireOK(try await send(line))
        guard let id = reply["user"], let moved = ReplyParser.money(reply["amount"]),
            let available = ReplyParser.money(reply["available"])
        else { throw BidlineClientError.unexpectedReply(reply.line) }
        return FundsResult(user: id, amount: moved, available: available)
    }
}
