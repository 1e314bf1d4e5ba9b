/// An investor's auto-bid rule (自动投标). Omitted fields mean no restriction.
public struct AutoBidRule: Sendable, Equatable {
    public static let none = UInt32.max

    /// Inclusive annual-rate range.
    public var rateMin: BasisPoints = BasisPoints(0)
    public var rateMax: BasisPoints = BasisPoints(Int32.max)
    /// Inclusive term range in months.
    public var termMin: UInt8 = 1
    public var termMax: UInt8 = 255
    /// Allowed grades as bits (`Grade.bit`); all by default.
    public var grades: UInt8 = 0b1_1111
    /// Allowed methods as bits (`RepaymentMethod.bit`); all by default.
    public var methods: UInt8 = 0b1111
    /// Largest auto-bid per listing; `nil` means no limit.
    public var maxPerListing: Money? = nil
    /// Balance to keep untouched (保留金额).
    public var reserve: Money = .zero
    public var enabled: Bool = true

    public init() {}

    /// Whether the rule's filters accept `terms` (rate, term, grade, method).
    @inlinable
    public func matches(_ terms: ListingTerms) -> Bool {
        terms.rate >= rateMin && terms.rate <= rateMax && terms.termMonths >= termMin
            && terms.termMonths <= termMax && grades & terms.grade.bit != 0 && methods & terms.method.bit != 0
    }
}

/// Run-time settings: fee rates and engine policies. Changed only through journaled commands.
public struct Settings: Sendable, Equatable {
    /// Borrower service fee (借款服务费), percent of principal, taken at disbursement.
    public var serviceFee = BasisPoints(200)
    /// Interest management fee (利息管理费), percent of each interest share.
    public var interestFee = BasisPoints(1000)
    /// Debt transfer fee, percent of the price, paid by the seller.
    public var transferFee = BasisPoints(50)
    /// Penalty interest (罚息) per day overdue, percent of the overdue amount.
    public var penaltyRate = BasisPoints(5)
    /// Share of a listing that auto-bids may take (default 80 %).
    public var autoBidShare = BasisPoints(8000)
    /// Minimum holding period before a claim may be offered for transfer (default 30 days).
    public var transferHoldingMillis: Int64 = 30 * 86_400_000
    /// Most queued investors one auto-bid walk visits (bounds the work of one approval).
    public var autoBidMaxVisits: UInt32 = 100_000

    public init() {}
}

/// Changes to ``Settings``; `nil` fields are left as they are.
public struct SettingsChange: Sendable, Equatable {
    public var serviceFee: BasisPoints?
    public var interestFee: BasisPoints?
    public var transferFee: BasisPoints?
    public var penaltyRate: BasisPoints?
    public var autoBidShare: BasisPoints?
    public var transferHoldingMillis: Int64?
    public var autoBidMaxVisits: UInt32?

    public init(
        serviceFee: BasisPoints? = nil, interestFee: BasisPoints? = nil, transferFee: BasisPoints? = nil,
        penaltyRate: BasisPoints? = nil, autoBidShare: BasisPoints? = nil, transferHoldingMillis: Int64? = nil,
        autoBidMaxVisits: UInt32? = nil
    ) {
        self.serviceFee = serviceFee
        self.interestFee = interestFee
        self.transferFee = transferFee
        self.penaltyRate = penaltyRate
        self.autoBidShare = autoBidShare
        self.transferHoldingMillis = transferHoldingMillis
        self.autoBidMaxVisits = autoBidMaxVisits
    }
}
