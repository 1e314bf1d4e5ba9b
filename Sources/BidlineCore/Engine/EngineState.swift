/// An idempotent outcome remembered for a `ref=` (domain.md "Idempotency").
public struct RefRecord: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        case bid = 0
        case deposit
        case withdraw
    }

    public var user: UserIndex
    public var ref: String
    public var kind: Kind
    /// The arguments of the original request: listing number (bids), amount and all-or-none flag.
    public var listingNumber: UInt32
    public var amountCents: Int64
    public var allOrNone: Bool
    /// The original reply, returned byte for byte on a retry.
    public var reply: Reply

    public init(
        user: UserIndex, ref: String, kind: Kind, listingNumber: UInt32, amountCents: Int64, allOrNone: Bool,
        reply: Reply
    ) {
        self.user = user
        self.ref = ref
        self.kind = kind
        self.listingNumber = listingNumber
        self.amountCents = amountCents
        self.allOrNone = allOrNone
        self.reply = reply
    }
}

/// Dashboard figures (首页数据), maintained incrementally so reading them is O(1).
public struct Stats: Sendable, Equatable {
    public var disbursedCents: Int64 = 0
    public var interestPaidCents: Int64 = 0
    public var loansRepaying: Int64 = 0
    public var users: Int64 = 0
    public var listingsOpen: Int64 = 0
    public var frozenCents: Int64 = 0
    public var bidsAccepted: Int64 = 0
    public init() {}
}

/// The whole persistent state of the engine as one value.
///
/// Copying it is O(number of chunks) and the copy is immutable from then on (copy-on-write per chunk), which is
/// how a snapshot is captured without stopping matching. Everything here is canonical: the state hash and the
/// snapshot encode exactly these fields, in this order. Indexes that can be rebuilt (user id lookup, ref
/// lookup, deadline heaps, per-investor cap totals) live in ``Engine`` instead.
public struct EngineState: Sendable, Equatable {
    /// Hot per-user data (balances, flags), parallel to `users`.
    public internal(set) var accounts = ChunkedArray<Account>()
    public internal(set) var users = ChunkedArray<User>()
    public internal(set) var autoRules = ChunkedArray<AutoBidRule>()
    public internal(set) var listings = ChunkedArray<Listing>()
    public internal(set) var bids = ChunkedArray<Bid>()
    public internal(set) var entries = ChunkedArray<LedgerEntry>()
    public internal(set) var claims = ChunkedArray<Claim>()
    public internal(set) var installments = ChunkedArray<Installment>()
    public internal(set) var offers = ChunkedArray<TransferOffer>()
    public internal(set) var refs = ChunkedArray<RefRecord>()
    public internal(set) var bank = SystemAccount()
    public internal(set) var platform = SystemAccount()
    public internal(set) var settings = Settings()
    /// The auto-bid queue: a doubly linked list through `User.autoPrev/autoNext` (`AutoBidRule.none` = empty).
    public internal(set) var autoQueueHead: UInt32 = AutoBidRule.none
    public internal(set) var autoQueueTail: UInt32 = AutoBidRule.none
    public internal(set) var autoQueueCount: UInt32 = 0
    public internal(set) var stats = Stats()
    /// The latest engine time any command was applied at (the manual clock resumes from it after a restart).
    public internal(set) var clockMillis: Int64 = 0

    public init() {}
}
