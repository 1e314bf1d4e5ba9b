/// Where a listing (标的) is in its life: pending → open → full → repaying → settled, or → failed.
public enum ListingStatus: UInt8, Sendable, CaseIterable {
    case pending = 0
    case open
    case full
    case repaying
    case settled
    case failed

    public var wireText: String {
        switch self {
        case .pending: "pending"
        case .open: "open"
        case .full: "full"
        case .repaying: "repaying"
        case .settled: "settled"
        case .failed: "failed"
        }
    }

    public static func parse(_ text: Substring) -> ListingStatus? {
        allCases.first { $0.wireText == text }
    }

    /// Pending, open and full listings count against the borrower's cap.
    @inlinable public var countsAgainstCap: Bool { rawValue <= ListingStatus.full.rawValue }
}

/// Repayment method (还款方式).
public enum RepaymentMethod: UInt8, Sendable, CaseIterable {
    /// 等额本息: equal installments.
    case epi = 0
    /// 等额本金: equal principal.
    case ep
    /// 先息后本: interest first, principal at the end.
    case ifo
    /// 到期还本付息: everything at the end.
    case bullet

    public var wireText: String {
        switch self {
        case .epi: "epi"
        case .ep: "ep"
        case .ifo: "ifo"
        case .bullet: "bullet"
        }
    }

    public static func parse(_ text: Substring) -> RepaymentMethod? {
        allCases.first { $0.wireText == text }
    }

    @inlinable public var bit: UInt8 { 1 << rawValue }
}

/// Risk grade A–E; grade A needs risk level ≥ 1, ..., E needs ≥ 5.
public enum Grade: UInt8, Sendable, CaseIterable {
    case a = 1, b, c, d, e

    public var wireText: String { String(UnicodeScalar(UInt8(ascii: "A") + rawValue - 1)) }

    public static func parse(_ text: Substring) -> Grade? {
        guard text.utf8.count == 1, let byte = text.utf8.first else { return nil }
        let upper = byte & ~0x20
        guard upper >= UInt8(ascii: "A"), upper <= UInt8(ascii: "E") else { return nil }
        return Grade(rawValue: upper - UInt8(ascii: "A") + 1)
    }

    /// The minimum investor risk level (适当性).
    @inlinable public var requiredRiskLevel: UInt8 { rawValue }
    @inlinable public var bit: UInt8 { 1 << (rawValue - 1) }
}

/// Loan type: credit 信用贷, consumer 消费分期, auto 车贷.
public enum LoanType: UInt8, Sendable, CaseIterable {
    case credit = 0
    case consumer
    case auto

    public var wireText: String {
        switch self {
        case .credit: "credit"
        case .consumer: "consumer"
        case .auto: "auto"
        }
    }

    public static func parse(_ text: Substring) -> LoanType? {
        allCases.first { $0.wireText == text }
    }
}

/// The terms a borrower submits with `LOAN.NEW`.
public struct ListingTerms: Sendable, Equatable {
    public var amount: Money
    public var rate: BasisPoints
    public var termMonths: UInt8
    public var method: RepaymentMethod
    public var grade: Grade
    public var type: LoanType
    public var minBid: Money
    public var step: Money
    /// Per-investor cap; `nil` means none.
    public var cap: Money?
    public var newcomerOnly: Bool
    public var windowMillis: Int64

    public static let defaultMinBid = Money(yuan: 50)
    public static let defaultStep = Money(yuan: 50)
    public static let defaultWindowMillis: Int64 = 72 * 3_600_000
    /// Listing amounts: 100.00 to 10,000,000.00.
    public static let amountRange = Money(yuan: 100)...Money(yuan: 10_000_000)
    /// Annual rate 0–36.00 % (the judicial protection ceiling for private lending).
    public static let maxRate = BasisPoints(percent: 36)
    /// Bidding window 1 minute to 30 days.
    public static let windowRange: ClosedRange<Int64> = 60_000...(30 * 86_400_000)

    public init(
        amount: Money, rate: BasisPoints, termMonths: UInt8, method: RepaymentMethod, grade: Grade,
        type: LoanType = .credit, minBid: Money = ListingTerms.defaultMinBid,
        step: Money = ListingTerms.defaultStep, cap: Money? = nil, newcomerOnly: Bool = false,
        windowMillis: Int64 = ListingTerms.defaultWindowMillis
    ) {
        self.amount = amount
        self.rate = rate
        self.termMonths = termMonths
        self.method = method
        self.grade = grade
        self.type = type
        self.minBid = minBid
        self.step = step
        self.cap = cap
        self.newcomerOnly = newcomerOnly
        self.windowMillis = windowMillis
    }
}

/// A loan listing and its bidding state.
public struct Listing: Sendable, Equatable {
    public var borrower: UserIndex
    public var terms: ListingTerms
    public var status: ListingStatus
    public var raisedCents: Int64 = 0
    /// Raised by auto-bids (自动投标), bounded by the auto-bid share.
    public var autoRaisedCents: Int64 = 0
    public var createdAtMillis: Int64
    public var approvedAtMillis: Int64 = 0
    /// The last instant a bid is accepted (approval + window).
    public var closesAtMillis: Int64 = 0
    public var fullAtMillis: Int64 = 0
    public var endedAtMillis: Int64 = 0
    /// The newest bid; bids of this listing form a chain, newest first, through `Bid.prevInListing` (appending
    /// a bid never touches an older one: no cache miss on the hot path).
    public var lastBid: UInt32 = LedgerEntry.none
    public var bidCount: UInt32 = 0
    /// Fee rates captured at approval (domain.md: FEE.SET applies to listings approved after it).
    public var serviceFee: BasisPoints = BasisPoints(0)
    public var interestFee: BasisPoints = BasisPoints(0)
    public var penaltyRate: BasisPoints = BasisPoints(0)
    /// Claims (债权) created at disbursement: a chain through `Claim.nextInListing`.
    public var firstClaim: UInt32 = LedgerEntry.none
    public var lastClaim: UInt32 = LedgerEntry.none
    public var claimCount: UInt32 = 0
    /// Repayment plan: `termMonths` installments from `firstInstallment` in `EngineState.installments`.
    public var firstInstallment: UInt32 = LedgerEntry.none
    /// The oldest unpaid installment (0-based within the plan); `termMonths` when all are paid.
    public var nextInstallment: UInt8 = 0
    /// Principal still owed by the borrower.
    public var outstandingPrincipalCents: Int64 = 0
    /// Number of open transfer offers on this loan's claims.
    public var openOffers: UInt32 = 0

    @inlinable public var remainingCents: Int64 { terms.amount.cents - raisedCents }

    public init(borrower: UserIndex, terms: ListingTerms, createdAtMillis: Int64) {
        self.borrower = borrower
        self.terms = terms
        self.status = .pending
        self.createdAtMillis = createdAtMillis
    }
}

/// Whether a bid was placed by the investor or by the auto-bid walk.
public enum BidSource: UInt8, Sendable {
    case manual = 0
    case auto = 1

    public var wireText: String { self == .manual ? "manual" : "auto" }
}

/// One accepted bid. 24 bytes; bids are stored in bid order, so the index is the id number − 1. The bid's time
/// is that of its freeze entry in the ledger (`entry`), so it is not stored twice.
public struct Bid: Sendable, Equatable {
    public var investor: UserIndex
    /// Listing number in the low 31 bits, `BidSource.auto` in the top bit.
    @usableFromInline var listingAndSource: UInt32
    /// The previous (older) bid of the same listing, or `LedgerEntry.none`.
    public var prevInListing: UInt32
    /// The ledger entry that froze the money (its time is the bid's time).
    public var entry: UInt32
    public var amountCents: Int64

    @inlinable
    public init(investor: UserIndex, listing: ListingID, source: BidSource, amountCents: Int64, entry: UInt32) {
        self.investor = investor
        self.listingAndSource = listing.number | (source == .auto ? 0x8000_0000 : 0)
        self.prevInListing = LedgerEntry.none
        self.entry = entry
        self.amountCents = amountCents
    }

    @inlinable public var listing: ListingID { ListingID(listingAndSource & 0x7FFF_FFFF) }
    @inlinable public var source: BidSource { listingAndSource & 0x8000_0000 != 0 ? .auto : .manual }
}

/// A claim (债权): the right to a share of a repaying loan's installments, in proportion to its principal.
public struct Claim: Sendable, Equatable {
    public var listing: ListingID
    public var holder: UserIndex
    /// The bid it came from (its tie order), or for a bought claim the bid of the claim it was bought from.
    public var bid: BidID
    /// Principal still outstanding on this claim.
    public var principalCents: Int64
    /// Interest still to be received under the plan (gross, before the interest management fee).
    public var receivableInterestCents: Int64
    public var acquiredAtMillis: Int64
    /// Principal currently offered for transfer in open offers (≤ `principalCents`).
    public var offeredCents: Int64 = 0
    public var nextInListing: UInt32 = LedgerEntry.none

    public init(
        listing: ListingID, holder: UserIndex, bid: BidID, principalCents: Int64, receivableInterestCents: Int64,
        acquiredAtMillis: Int64
    ) {
        self.listing = listing
        self.holder = holder
        self.bid = bid
        self.principalCents = principalCents
        self.receivableInterestCents = receivableInterestCents
        self.acquiredAtMillis = acquiredAtMillis
    }
}
