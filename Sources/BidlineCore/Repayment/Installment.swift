/// The state of one installment of a repayment plan (还款计划).
public enum InstallmentStatus: UInt8, Sendable, CaseIterable {
    case due = 0
    case paid
    case overdue
    /// Cancelled by an early payoff (提前还款).
    case cancelled

    public var wireText: String {
        switch self {
        case .due: "due"
        case .paid: "paid"
        case .overdue: "overdue"
        case .cancelled: "cancelled"
        }
    }
}

/// One installment of a loan's repayment plan, as planned at disbursement (and as paid).
public struct Installment: Sendable, Equatable {
    public var dueAtMillis: Int64
    public var principalCents: Int64
    public var interestCents: Int64
    /// Penalty interest paid with it (罚息), 0 until paid.
    public var penaltyCents: Int64 = 0
    public var paidAtMillis: Int64 = 0
    public var status: InstallmentStatus = .due

    public init(dueAtMillis: Int64, principalCents: Int64, interestCents: Int64) {
        self.dueAtMillis = dueAtMillis
        self.principalCents = principalCents
        self.interestCents = interestCents
    }
}

/// The state of a debt-transfer offer.
public enum OfferStatus: UInt8, Sendable, CaseIterable {
    case open = 0
    /// Everything offered was bought.
    case sold
    case withdrawn

    public var wireText: String {
        switch self {
        case .open: "open"
        case .sold: "sold"
        case .withdrawn: "withdrawn"
        }
    }
}

/// A debt-transfer offer (债权转让): `principalCents` of a claim for `priceCents`, bought in parts.
public struct TransferOffer: Sendable, Equatable {
    public var claim: ClaimID
    public var seller: UserIndex
    public var listing: ListingID
    /// Principal offered (X) and its price (Y); buyers pay round_half_up(Y·x/X) for x.
    public var principalCents: Int64
    public var priceCents: Int64
    /// Principal not yet bought.
    public var remainingCents: Int64
    /// Transfer fee rate captured when the offer was made.
    public var feeRate: BasisPoints
    public var createdAtMillis: Int64
    public var status: OfferStatus = .open

    public init(
        claim: ClaimID, seller: UserIndex, listing: ListingID, principalCents: Int64, priceCents: Int64,
        feeRate: BasisPoints, createdAtMillis: Int64
    ) {
        self.claim = claim
        self.seller = seller
        self.listing = listing
        self.principalCents = principalCents
        self.priceCents = priceCents
        self.remainingCents = principalCents
        self.feeRate = feeRate
        self.createdAtMillis = createdAtMillis
    }
}
