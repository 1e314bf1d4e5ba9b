/// What a successful command reports; the protocol layer formats it (`OK key=value ...`).
public enum Reply: Sendable, Equatable {
    case user(UserIndex)
    /// DEPOSIT / WITHDRAW: the amount moved and the available balance after it.
    case funds(user: UserIndex, amount: Money, available: Money)
    case listing(ListingID, ListingStatus)
    /// An approval: the listing is open (or already full) after `autoBids` auto-bids.
    case approved(ListingID, ListingStatus, autoBids: UInt32)
    case bid(BidReply)
    case autoBid(UserIndex, enabled: Bool)
    case settings(Settings)
    /// A tick: how many listings failed and installments became overdue.
    case tick(failedListings: UInt32, overdueInstallments: UInt32)
    case repayment(RepaymentReply)
    case offer(OfferID, claim: ClaimID, principal: Money, price: Money)
    /// CLAIM.BUY: the new claim, principal bought and price paid.
    case bought(OfferID, claim: ClaimID, principal: Money, paid: Money)
    case offerWithdrawn(OfferID)
}

/// The reply to an accepted bid: `OK bid=B… listing=L… amount=… remaining=… full=0|1`.
public struct BidReply: Sendable, Hashable {
    public var bid: BidID
    public var listing: ListingID
    /// The accepted (possibly trimmed) amount.
    public var amount: Money
    public var remaining: Money
    public var full: Bool

    @inlinable
    public init(bid: BidID, listing: ListingID, amount: Money, remaining: Money, full: Bool) {
        self.bid = bid
        self.listing = listing
        self.amount = amount
        self.remaining = remaining
        self.full = full
    }
}

/// The reply to `LOAN.REPAY` / `LOAN.PAYOFF`.
public struct RepaymentReply: Sendable, Equatable {
    public var listing: ListingID
    /// 1-based number of the (last) installment paid.
    public var installment: UInt8
    public var principal: Money
    public var interest: Money
    public var penalty: Money
    public var status: ListingStatus

    public init(
        listing: ListingID, installment: UInt8, principal: Money, interest: Money, penalty: Money,
        status: ListingStatus
    ) {
        self.listing = listing
        self.installment = installment
        self.principal = principal
        self.interest = interest
        self.penalty = penalty
        self.status = status
    }
}

/// The result of applying a command.
public enum Outcome: Sendable, Equatable {
    /// The state changed: the command must be journaled before the reply is released.
    case applied(Reply)
    /// An idempotent retry (`ref=` seen before with the same arguments): the original reply, nothing changed.
    case replayed(Reply)
    /// Refused; nothing changed.
    case rejected(RejectCode)

    /// True when the command changed state (and so belongs in the write-ahead log).
    @inlinable public var changedState: Bool {
        if case .applied = self { return true }
        return false
    }

    public var reply: Reply? {
        switch self {
        case .applied(let reply), .replayed(let reply): reply
        case .rejected: nil
        }
    }

    public var rejection: RejectCode? {
        if case .rejected(let code) = self { return code }
        return nil
    }
}

/// Something subscribers hear about (`EVENT loan.full listing=L7 …`). Fixed size: no allocation to emit.
public struct Event: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        case listingOpened
        case listingFull
        case listingFailed
        case listingRepaying
        case listingSettled
        /// An installment (or payoff) was paid: `amountCents` in total, `installment` its number.
        case repayment
        case installmentOverdue
        /// A user's balances changed (`account` topic).
        case accountChanged
    }

    public var kind: Kind
    public var listing: ListingID
    public var user: UserIndex
    public var amountCents: Int64
    public var atMillis: Int64
    public var installment: UInt8
    /// `accountChanged` only: the user's available and frozen balances right after this change (later changes
    /// of the same command or batch do not show in it).
    public var availableCents: Int64 = 0
    public var frozenCents: Int64 = 0

    @inlinable
    public init(
        kind: Kind, listing: ListingID = ListingID(0), user: UserIndex = UserIndex(UInt32.max),
        amountCents: Int64 = 0, atMillis: Int64, installment: UInt8 = 0
    ) {
        self.kind = kind
        self.listing = listing
        self.user = user
        self.amountCents = amountCents
        self.atMillis = atMillis
        self.installment = installment
    }
}
