import BidlineCore

/// The reply to `BID`: the accepted bid (possibly cut to what the listing had left).
public struct BidResult: Sendable, Hashable {
    /// The bid's id (`B…`); a repeated `ref=` returns the first bid's id.
    public var bid: BidID
    /// The listing bid on.
    public var listing: ListingID
    /// The amount accepted (at most what was asked).
    public var amount: Money
    /// What the listing still needs after this bid.
    public var remaining: Money
    /// True when this bid filled the listing.
    public var full: Bool

    /// Memberwise.
    public init(bid: BidID, listing: ListingID, amount: Money, remaining: Money, full: Bool) {
        self.bid = bid
        self.listing = listing
        self.amount = amount
        self.remaining = remaining
        self.full = full
    }
}

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
    public func bid(listing: ListingID, amount: Money, ref: String? = nil, aon: Bool = false) async throws -> BidResult
    {
        var line = "BID \(listing) \(amount)"
        if let ref {
            try Self.checkToken(ref, "ref")
            line += " ref=\(ref)"
        }
        if aon { line += " aon=1" }
        let reply = try Self.requireOK(try await send(line))
        guard let bid = reply["bid"].flatMap({ parsePrefixedNumber($0.utf8, prefix: UInt8(ascii: "B")) }),
            let listingNumber = reply["listing"].flatMap({ parsePrefixedNumber($0.utf8, prefix: UInt8(ascii: "L")) }),
            let accepted = Self.money(reply["amount"]), let remaining = Self.money(reply["remaining"]),
            let full = reply["full"]
        else { throw BidlineClientError.unexpectedReply(reply.line) }
        return BidResult(
            bid: BidID(bid), listing: ListingID(listingNumber), amount: accepted, remaining: remaining,
            full: full == "1")
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
        guard let available = Self.money(reply["available"]), let frozen = Self.money(reply["frozen"]),
            let principal = Self.money(reply["receivable_principal"]),
            let interest = Self.money(reply["receivable_interest"]), let borrowed = Self.money(reply["borrowed"])
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
        guard let id = reply["user"], let moved = Self.money(reply["amount"]),
            let available = Self.money(reply["available"])
        else { throw BidlineClientError.unexpectedReply(reply.line) }
        return FundsResult(user: id, amount: moved, available: available)
    }

    /// Parses a two-decimal amount, negative ones too (`-3.07`).
    static func money(_ text: String?) -> Money? {
        guard let text else { return nil }
        if text.hasPrefix("-") { return Money.parse(String(text.dropFirst())).map { Money(cents: -$0.cents) } }
        return Money.parse(text)
    }
}
