import BidlineCore

/// A topic of `SUBSCRIBE`.
public enum Topic: UInt8, Sendable, CaseIterable {
    /// Listing events: `loan.open`, `loan.full`, `loan.failed`, `loan.repaying`, `loan.settled`, `repayment`, ...
    case loans
    /// Balance changes of the subscriber (admins: of everyone).
    case account

    public var wireText: String { self == .loans ? "loans" : "account" }
}

/// A parsed request: arguments are validated for syntax; users are still names (the engine resolves them).
public enum Request: Sendable, Equatable {
    case ping
    case quit
    case auth(user: String, token: String)
    case whoami
    case help(verb: String?)
    case userAdd(NewUser)
    case userSet(id: String, UserChange)
    case loanApprove(ListingID)
    case loanReject(ListingID)
    case loanCancel(ListingID)
    case loanDisburse(ListingID)
    case feeSet(SettingsChange)
    case clock
    case clockAdvance(millis: Int64)
    case snapshot
    case reconcile
    case stats
    case metrics
    case deposit(user: String, amount: Money, ref: Ref?)
    case withdraw(user: String, amount: Money, ref: Ref?)
    case loanNew(ListingTerms)
    case loanRepay(ListingID)
    case loanPayoff(ListingID)
    case bid(listing: ListingID, amount: Money, ref: Ref?, allOrNone: Bool)
    case autoSet(AutoBidRule)
    case autoOff
    case autoGet
    case claimSell(ClaimID, principal: Money, price: Money)
    case claimBuy(OfferID, principal: Money)
    case claimWithdraw(OfferID)
    case balance(user: String?)
    case loanGet(ListingID)
    case loanList(ListingQuery)
    case loanBids(ListingID, limit: Int, after: BidID?)
    case loanPlan(ListingID)
    case holdings(user: String?)
    case ledger(user: String?, limit: Int)
    case subscribe([Topic])
}
