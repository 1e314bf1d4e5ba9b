/// Why a request was refused. Maps 1:1 to the wire codes of `ERR CODE text` (protocol v1 and its extensions);
/// the codes only the protocol layer produces (unknown verb, line too long, busy) are BidlineProtocol's
/// `ProtocolError.Code`. Raw values are dense from 1 (in declaration order).
///
/// A rejected command changes nothing in the engine.
public enum RejectCode: UInt8, Sendable, CaseIterable, Error, CustomStringConvertible {
    // Bid rules, in the order they are checked (domain.md "Rules a bid must pass").
    case notVerified = 1
    case blacklisted
    case ownListing
    case listingNotOpen
    case riskLevelTooLow
    case newcomerOnly
    case belowMinBid
    case notStepMultiple
    case aonNotFillable
    case overInvestorCap
    case insufficientFunds
    case refReused
    // Existence.
    case noSuchUser
    case noSuchListing
    case noSuchClaim
    case noSuchOffer
    // Arguments and state.
    case badAmount
    case badArgument
    case badState
    case borrowCapExceeded
    case userExists
    case forbidden
    // Debt transfer.
    case badPrice
    case notTransferable
    case offerNotOpen
    case ownOffer
    // Sessions (the protocol layer checks them; codes only it produces are `ProtocolError.Code`'s).
    case notAuthenticated
    case authFailed
    case unavailable
    /// An engine limit (users, listings, bids, ...) has been reached.
    case limitReached

    /// The upper-snake-case code sent on the wire.
    public var code: String {
        switch self {
        case .notVerified: "NOT_VERIFIED"
        case .blacklisted: "BLACKLISTED"
        case .ownListing: "OWN_LISTING"
        case .listingNotOpen: "LISTING_NOT_OPEN"
        case .riskLevelTooLow: "RISK_LEVEL_TOO_LOW"
        case .newcomerOnly: "NEWCOMER_ONLY"
        case .belowMinBid: "BELOW_MIN_BID"
        case .notStepMultiple: "NOT_STEP_MULTIPLE"
        case .aonNotFillable: "AON_NOT_FILLABLE"
        case .overInvestorCap: "OVER_INVESTOR_CAP"
        case .insufficientFunds: "INSUFFICIENT_FUNDS"
        case .refReused: "REF_REUSED"
        case .noSuchUser: "NO_SUCH_USER"
        case .noSuchListing: "NO_SUCH_LISTING"
        case .noSuchClaim: "NO_SUCH_CLAIM"
        case .noSuchOffer: "NO_SUCH_OFFER"
        case .badAmount: "BAD_AMOUNT"
        case .badArgument: "BAD_ARGUMENT"
        case .badState: "BAD_STATE"
        case .borrowCapExceeded: "BORROW_CAP_EXCEEDED"
        case .userExists: "USER_EXISTS"
        case .forbidden: "FORBIDDEN"
        case .badPrice: "BAD_PRICE"
        case .notTransferable: "NOT_TRANSFERABLE"
        case .offerNotOpen: "OFFER_NOT_OPEN"
        case .ownOffer: "OWN_OFFER"
        case .notAuthenticated: "NOT_AUTHENTICATED"
        case .authFailed: "AUTH_FAILED"
        case .unavailable: "UNAVAILABLE"
        case .limitReached: "LIMIT_REACHED"
        }
    }

    /// A short human-readable explanation, the text after the code.
    public var message: String {
        switch self {
        case .notVerified: "user is not real-name verified"
        case .blacklisted: "user is blacklisted"
        case .ownListing: "an investor cannot bid on their own listing"
        case .listingNotOpen: "listing is not open for bids"
        case .riskLevelTooLow: "risk assessment level too low for this grade"
        case .newcomerOnly: "listing is for newcomers only"
        case .belowMinBid: "amount is below the minimum bid"
        case .notStepMultiple: "amount is not the minimum plus a whole number of steps"
        case .aonNotFillable: "all-or-none bid does not fit the remaining amount"
        case .overInvestorCap: "amount exceeds the per-investor cap"
        case .insufficientFunds: "available balance too low"
        case .refReused: "ref already used with different arguments"
        case .noSuchUser: "no such user"
        case .noSuchListing: "no such listing"
        case .noSuchClaim: "no such claim"
        case .noSuchOffer: "no such transfer offer"
        case .badAmount: "bad amount"
        case .badArgument: "bad argument"
        case .badState: "not allowed in the current state"
        case .borrowCapExceeded: "borrowing cap exceeded"
        case .userExists: "user already exists"
        case .forbidden: "not allowed for this role or user"
        case .badPrice: "price must be 80% to 105% of the principal"
        case .notTransferable: "claim cannot be transferred now"
        case .offerNotOpen: "transfer offer is not open"
        case .ownOffer: "cannot buy your own offer"
        case .notAuthenticated: "authenticate first with AUTH user token"
        case .authFailed: "authentication failed"
        case .unavailable: "storage cannot make the change durable"
        case .limitReached: "engine limit reached"
        }
    }

    public var description: String { code }
}
