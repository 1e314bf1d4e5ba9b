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

extension Request {
    /// The verb this request was parsed from (its command-table row is `CommandTable.spec(request.verb)`).
    /// Exhaustive: a new `Request` case does not compile until it names its verb.
    public var verb: Verb {
        switch self {
        case .ping: .ping
        case .quit: .quit
        case .auth: .auth
        case .whoami: .whoami
        case .help: .help
        case .userAdd: .userAdd
        case .userSet: .userSet
        case .loanApprove: .loanApprove
        case .loanReject: .loanReject
        case .loanCancel: .loanCancel
        case .loanDisburse: .loanDisburse
        case .feeSet: .feeSet
        case .clock: .clock
        case .clockAdvance: .clockAdvance
        case .snapshot: .snapshot
        case .reconcile: .reconcile
        case .stats: .stats
        case .metrics: .metrics
        case .deposit: .deposit
        case .withdraw: .withdraw
        case .loanNew: .loanNew
        case .loanRepay: .loanRepay
        case .loanPayoff: .loanPayoff
        case .bid: .bid
        case .autoSet: .autoSet
        case .autoOff: .autoOff
        case .autoGet: .autoGet
        case .claimSell: .claimSell
        case .claimBuy: .claimBuy
        case .claimWithdraw: .claimWithdraw
        case .balance: .balance
        case .loanGet: .loanGet
        case .loanList: .loanList
        case .loanBids: .loanBids
        case .loanPlan: .loanPlan
        case .holdings: .holdings
        case .ledger: .ledger
        case .subscribe: .subscribe
        }
    }
}
