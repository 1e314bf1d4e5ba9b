/// An idempotency reference (`ref=`): 1–64 bytes of `[A-Za-z0-9_.:-]`, remembered per user.
public struct Ref: Hashable, Sendable, CustomStringConvertible {
    public let text: String

    /// Nil when `text` is not a valid reference.
    public init?(_ text: String) {
        var copy = text
        guard copy.withUTF8({ isValidRef($0) }) else { return nil }
        self.text = text
    }

    public var description: String { text }
}

/// A new user, as `USER.ADD` creates it. The server generates the token; only its hash enters the engine.
public struct NewUser: Sendable, Equatable {
    public var id: String
    public var roles: Roles
    public var kind: UserKind
    public var verified: Bool
    public var riskLevel: UInt8
    public var tokenHash: TokenHash

    public init(
        id: String, roles: Roles, kind: UserKind = .person, verified: Bool = false, riskLevel: UInt8 = 1,
        tokenHash: TokenHash = .none
    ) {
        self.id = id
        self.roles = roles
        self.kind = kind
        self.verified = verified
        self.riskLevel = riskLevel
        self.tokenHash = tokenHash
    }
}

/// Changes to a user (`USER.SET`); `nil` fields stay as they are.
public struct UserChange: Sendable, Equatable {
    public var verified: Bool?
    public var riskLevel: UInt8?
    public var blacklisted: Bool?
    /// A new token hash (token rotation).
    public var tokenHash: TokenHash?

    public init(verified: Bool? = nil, riskLevel: UInt8? = nil, blacklisted: Bool? = nil, tokenHash: TokenHash? = nil) {
        self.verified = verified
        self.riskLevel = riskLevel
        self.blacklisted = blacklisted
        self.tokenHash = tokenHash
    }
}

/// A bid request (`BID L7 500 [ref=…] [aon=1]`), placed by `investor` on `listing`.
public struct BidRequest: Sendable, Equatable {
    public var investor: UserIndex
    public var listing: ListingID
    public var amount: Money
    public var allOrNone: Bool
    public var ref: Ref?

    @inlinable
    public init(investor: UserIndex, listing: ListingID, amount: Money, allOrNone: Bool = false, ref: Ref? = nil) {
        self.investor = investor
        self.listing = listing
        self.amount = amount
        self.allOrNone = allOrNone
        self.ref = ref
    }
}

/// Every state-changing request the engine accepts. A value type with a compact binary encoding
/// (`Command+Binary.swift`): this is what the write-ahead log stores.
public enum Command: Sendable, Equatable {
    case addUser(NewUser)
    case setUser(UserIndex, UserChange)
    /// Money in from the payment rail (`bank` → user available).
    case deposit(UserIndex, Money, ref: Ref?)
    /// Money out to the payment rail (user available → `bank`).
    case withdraw(UserIndex, Money, ref: Ref?)
    /// `LOAN.NEW` by a borrower.
    case submitListing(UserIndex, ListingTerms)
    /// pending → open; runs the auto-bid walk.
    case approve(ListingID)
    /// pending → failed.
    case reject(ListingID)
    /// pending, open or full → failed, refunding every bid.
    case cancel(ListingID)
    /// full → repaying: money to the borrower less the service fee; bids become claims; the plan is made.
    case disburse(ListingID)
    case bid(BidRequest)
    case setAutoBid(UserIndex, AutoBidRule)
    case autoBidOff(UserIndex)
    case changeSettings(SettingsChange)
    /// Processes deadlines (expired bidding windows, overdue installments) up to the command's time.
    case tick
    /// `LOAN.REPAY`: the oldest unpaid installment with its penalty. `by` is the acting borrower (nil: admin).
    case repay(ListingID, by: UserIndex?)
    /// `LOAN.PAYOFF`: early full repayment.
    case payoff(ListingID, by: UserIndex?)
    /// `CLAIM.SELL`: offer `principal` of a claim for `price`.
    case sellClaim(ClaimID, by: UserIndex?, principal: Money, price: Money)
    /// `CLAIM.BUY`: buy `principal` of an offer.
    case buyOffer(OfferID, buyer: UserIndex, principal: Money)
    /// `CLAIM.WITHDRAW`.
    case withdrawOffer(OfferID, by: UserIndex?)
}
