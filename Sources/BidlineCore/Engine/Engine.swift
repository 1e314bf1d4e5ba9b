import Collections

/// A bidding-window or due-date deadline, ordered by time then listing number (deterministic).
struct Deadline: Comparable, Sendable {
    var atMillis: Int64
    var listing: UInt32

    static func < (a: Deadline, b: Deadline) -> Bool {
        a.atMillis != b.atMillis ? a.atMillis < b.atMillis : a.listing < b.listing
    }
}

/// Key of a remembered `ref=`: per user.
struct RefKey: Hashable, Sendable {
    var user: UInt32
    var ref: String
}

/// The deterministic matching core: a synchronous state machine.
///
/// `apply(_:at:)` is the only way state changes. It reads no clock, draws no random numbers and does no I/O:
/// the same commands at the same times always give the same state, byte for byte (compare ``stateHash()``).
/// Not thread-safe by itself: one owner (the engine actor) drives it. Invariants (conservation of money, no
/// negative balance, no over-raised listing) are asserted as it runs; a violated invariant stops the process
/// rather than corrupting the books.
public struct Engine: Sendable {
    /// The canonical state (what snapshots hold and what the state hash covers).
    public internal(set) var state: EngineState

    // Derived indexes, rebuilt from `state` by `init(state:)`.
    var userIDs: [String: UInt32] = [:]
    var refIndex: [RefKey: UInt32] = [:]
    /// Per (listing, investor) accepted total, kept only for listings with a per-investor cap.
    var capTotals: [UInt64: Int64] = [:]
    /// Bidding-window ends of open listings (lazy deletion: stale entries are skipped).
    var closing = Heap<Deadline>()
    /// Next due dates of repaying listings (lazy deletion).
    var dues = Heap<Deadline>()
    /// The indexes of the open listings (what `LOAN.LIST` usually asks for), kept at each open/close transition.
    public internal(set) var openListingIndexes = Set<UInt32>()
    /// The indexes of the open transfer offers (a repayment withdraws those of its loan without scanning every
    /// offer ever made).
    public internal(set) var openOfferIndexes = Set<UInt32>()
    /// Claims by holder, newest first: the newest claim of each holder, and for every claim the previous claim
    /// of its holder (claims are only appended and never change holder: a transfer makes a new claim).
    var newestClaimOfHolder: [UInt32: UInt32] = [:]
    var previousClaimOfHolder = ChunkedArray<UInt32>()
    /// Scratch space for installment splits (reused; no allocation per repayment).
    var splitWeights: [Int64] = []
    var splitShares: [Int64] = []
    var splitClaims: [UInt32] = []

    /// Events produced by applied commands, in order. The owner drains it (`removeAll(keepingCapacity:)`).
    public var events: [Event] = []

    /// Largest number of users (ledger account numbers must stay below the system accounts).
    public static let maxUsers = 1 << 30

    public init() {
        state = EngineState()
        events.reserveCapacity(1024)
    }

    /// Rebuilds an engine from a restored state (a snapshot), re-deriving every index.
    public init(state: EngineState) {
        self.state = state
        events.reserveCapacity(1024)
        userIDs.reserveCapacity(state.users.count)
        for index in 0..<state.users.count {
            userIDs[state.users[index].id] = UInt32(index)
        }
        for index in 0..<state.refs.count {
            let record = state.refs[index]
            refIndex[RefKey(user: record.user.raw, ref: record.ref)] = UInt32(index)
        }
        for index in 0..<state.claims.count { indexClaim(UInt32(index)) }
        for index in 0..<state.offers.count where state.offers[index].status == .open {
            openOfferIndexes.insert(UInt32(index))
        }
        for index in 0..<state.listings.count {
            let listing = state.listings[index]
            let number = UInt32(index + 1)
            switch listing.status {
            case .open:
                closing.insert(Deadline(atMillis: listing.closesAtMillis, listing: number))
                openListingIndexes.insert(UInt32(index))
            case .repaying:
                // The heap holds each repaying loan's first installment not yet marked overdue or paid.
                let first = Int(listing.firstInstallment)
                let end = first + planCount(listing)
                var k = first + Int(listing.nextInstallment)
                while k < end, state.installments[k].status != .due { k += 1 }
                if k < end { dues.insert(Deadline(atMillis: state.installments[k].dueAtMillis, listing: number)) }
            default:
                break
            }
            if listing.terms.cap != nil && listing.status.countsAgainstCap {
                var cursor = listing.lastBid
                while cursor != LedgerEntry.none {
                    let bid = state.bids[Int(cursor)]
                    capTotals[Self.capKey(number, bid.investor), default: 0] += bid.amountCents
                    cursor = bid.prevInListing
                }
            }
        }
    }

    @inline(__always)
    static func capKey(_ listing: UInt32, _ investor: UserIndex) -> UInt64 {
        UInt64(listing) << 32 | UInt64(investor.raw)
    }

    /// Applies one command at engine time `atMillis` (stamped by the sequencer, non-decreasing).
    ///
    /// Returns `.applied` when state changed (journal it), `.replayed` for an idempotent retry and `.rejected`
    /// with the first failing rule's code otherwise; a rejected command changes nothing.
    public mutating func apply(_ command: Command, at atMillis: Int64) -> Outcome {
        if atMillis > state.clockMillis { state.clockMillis = atMillis }
        return switch command {
        case .bid(let request): placeBid(request, at: atMillis)
        case .addUser(let user): addUser(user, at: atMillis)
        case .setUser(let user, let change): setUser(user, change)
        case .deposit(let user, let amount, let ref): deposit(user, amount, ref: ref, at: atMillis)
        case .withdraw(let user, let amount, let ref): withdraw(user, amount, ref: ref, at: atMillis)
        case .submitListing(let borrower, let terms): submitListing(borrower, terms, at: atMillis)
        case .approve(let listing): approve(listing, at: atMillis)
        case .reject(let listing): reject(listing, at: atMillis)
        case .cancel(let listing): cancel(listing, at: atMillis)
        case .disburse(let listing): disburse(listing, at: atMillis)
        case .setAutoBid(let user, let rule): setAutoBid(user, rule)
        case .autoBidOff(let user): autoBidOff(user)
        case .changeSettings(let change): changeSettings(change)
        case .tick: tick(at: atMillis)
        case .repay(let listing, let actor): repay(listing, by: actor, at: atMillis)
        case .payoff(let listing, let actor): payoff(listing, by: actor, at: atMillis)
        case .sellClaim(let claim, let actor, let principal, let price):
            sellClaim(claim, by: actor, principal: principal, price: price, at: atMillis)
        case .buyOffer(let offer, let buyer, let principal): buyOffer(offer, buyer: buyer, principal: principal, at: atMillis)
        case .withdrawOffer(let offer, let actor): withdrawOffer(offer, by: actor)
        }
    }

    /// The earliest pending deadline (a bidding window end or an unpaid due date), if any: a tick strictly after
    /// it has work to do. O(1).
    public var nextDeadlineMillis: Int64? {
        switch (closing.min?.atMillis, dues.min?.atMillis) {
        case (let a?, let b?): min(a, b)
        case (let a?, nil): a
        case (nil, let b?): b
        case (nil, nil): nil
        }
    }

    // MARK: Lookups

    /// The dense index of user `id`, if registered. One hash of the id.
    public func userIndex(of id: String) -> UserIndex? {
        userIDs[id].map(UserIndex.init)
    }

    public func user(_ index: UserIndex) -> User? {
        index.int < state.users.count ? state.users[index.int] : nil
    }

    /// The hot part of a user (balances, roles, flags).
    public func account(_ index: UserIndex) -> Account? {
        index.int < state.accounts.count ? state.accounts[index.int] : nil
    }

    public func listing(_ id: ListingID) -> Listing? {
        id.number >= 1 && id.index < state.listings.count ? state.listings[id.index] : nil
    }

    /// The bid indexes of a listing in bid order (oldest first). O(bids of the listing).
    /// Adds the claim just appended at `index` to its holder's chain (call after every `state.claims.append`).
    @inline(__always)
    mutating func indexClaim(_ index: UInt32) {
        let holder = state.claims[Int(index)].holder.raw
        previousClaimOfHolder.append(newestClaimOfHolder[holder] ?? LedgerEntry.none)
        newestClaimOfHolder[holder] = index
    }

    /// The indexes of the claims `user` holds (also those fully repaid), oldest first: O(their number), not
    /// O(all claims).
    public func claimIndexes(heldBy user: UserIndex) -> [UInt32] {
        var result: [UInt32] = []
        var cursor = newestClaimOfHolder[user.raw] ?? LedgerEntry.none
        while cursor != LedgerEntry.none {
            result.append(cursor)
            cursor = previousClaimOfHolder[Int(cursor)]
        }
        result.reverse()
        return result
    }

    public func bidIndexes(of id: ListingID) -> [UInt32] {
        guard listingExists(id) else { return [] }
        var result: [UInt32] = []
        result.reserveCapacity(Int(state.listings[id.index].bidCount))
        var cursor = state.listings[id.index].lastBid
        while cursor != LedgerEntry.none {
            result.append(cursor)
            cursor = state.bids[Int(cursor)].prevInListing
        }
        result.reverse()
        return result
    }

    /// When a bid was placed: the time of the ledger entry that froze its money.
    public func atMillis(of bid: Bid) -> Int64 { state.entries[Int(bid.entry)].atMillis }

    @inline(__always)
    func userExists(_ index: UserIndex) -> Bool { index.int < state.users.count }

    @inline(__always)
    func listingExists(_ id: ListingID) -> Bool { id.number >= 1 && id.index < state.listings.count }

    // MARK: Users and funds

    mutating func addUser(_ new: NewUser, at atMillis: Int64) -> Outcome {
        var id = new.id
        guard id.withUTF8({ isValidUserID($0) }), !new.roles.isEmpty, (1...5).contains(new.riskLevel) else {
            return .rejected(.badArgument)
        }
        // `bank` and `platform` name the system accounts on the wire.
        guard id != "bank", id != "platform" else { return .rejected(.userExists) }
        guard userIDs[id] == nil else { return .rejected(.userExists) }
        guard state.users.count < Self.maxUsers else { return .rejected(.limitReached) }
        let index = UInt32(state.users.count)
        state.users.append(User(id: id, kind: new.kind, tokenHash: new.tokenHash))
        state.accounts.append(Account(roles: new.roles, verified: new.verified, riskLevel: new.riskLevel))
        userIDs[id] = index
        state.stats.users += 1
        return .applied(.user(UserIndex(index)))
    }

    mutating func setUser(_ user: UserIndex, _ change: UserChange) -> Outcome {
        guard userExists(user) else { return .rejected(.noSuchUser) }
        if let level = change.riskLevel, !(1...5).contains(level) { return .rejected(.badArgument) }
        if let verified = change.verified { state.accounts[user.int].verified = verified }
        if let level = change.riskLevel { state.accounts[user.int].riskLevel = level }
        if let blacklisted = change.blacklisted { state.accounts[user.int].blacklisted = blacklisted }
        if let hash = change.tokenHash { state.users[user.int].tokenHash = hash }
        return .applied(.user(user))
    }

    /// Records an `accountChanged` event for `user` with the balances as they are now: call it after the
    /// change it reports has been posted, so each event shows the balance that change left.
    mutating func recordAccountChange(
        _ user: UserIndex, listing: ListingID = ListingID(0), change: Int64, at atMillis: Int64
    ) {
        var event = Event(kind: .accountChanged, listing: listing, user: user, amountCents: change, atMillis: atMillis)
        let account = state.accounts[user.int]
        event.availableCents = account.availableCents
        event.frozenCents = account.frozenCents
        events.append(event)
    }

    mutating func deposit(_ user: UserIndex, _ amount: Money, ref: Ref?, at atMillis: Int64) -> Outcome {
        guard amount.cents > 0, amount.cents <= Money.maxAmountCents else { return .rejected(.badAmount) }
        guard userExists(user) else { return .rejected(.noSuchUser) }
        if let ref, let seen = lookUpRef(user, ref, kind: .deposit, listing: 0, amount: amount, allOrNone: false) {
            return seen
        }
        let available = state.accounts[user.int].availableCents
        guard available.addingReportingOverflow(amount.cents).overflow == false,
            state.bank.balanceCents.subtractingReportingOverflow(amount.cents).overflow == false
        else { return .rejected(.badAmount) }
        post(.deposit, from: .bank, to: .available(user), cents: amount.cents, at: atMillis)
        let reply = Reply.funds(user: user, amount: amount, available: Money(cents: available + amount.cents))
        if let ref { remember(user, ref, kind: .deposit, listing: 0, amount: amount, allOrNone: false, reply: reply) }
        recordAccountChange(user, change: amount.cents, at: atMillis)
        return .applied(reply)
    }

    mutating func withdraw(_ user: UserIndex, _ amount: Money, ref: Ref?, at atMillis: Int64) -> Outcome {
        guard amount.cents > 0, amount.cents <= Money.maxAmountCents else { return .rejected(.badAmount) }
        guard userExists(user) else { return .rejected(.noSuchUser) }
        if let ref, let seen = lookUpRef(user, ref, kind: .withdraw, listing: 0, amount: amount, allOrNone: false) {
            return seen
        }
        let available = state.accounts[user.int].availableCents
        guard amount.cents <= available else { return .rejected(.insufficientFunds) }
        post(.withdraw, from: .available(user), to: .bank, cents: amount.cents, at: atMillis)
        let reply = Reply.funds(user: user, amount: amount, available: Money(cents: available - amount.cents))
        if let ref { remember(user, ref, kind: .withdraw, listing: 0, amount: amount, allOrNone: false, reply: reply) }
        recordAccountChange(user, change: -amount.cents, at: atMillis)
        return .applied(reply)
    }

    mutating func changeSettings(_ change: SettingsChange) -> Outcome {
        let percent100 = BasisPoints(percent: 100)
        for fee in [change.serviceFee, change.interestFee, change.transferFee, change.penaltyRate, change.autoBidShare] {
            if let fee, fee.value < 0 || fee > percent100 { return .rejected(.badArgument) }
        }
        if let holding = change.transferHoldingMillis, holding < 0 { return .rejected(.badArgument) }
        if let visits = change.autoBidMaxVisits, visits == 0 { return .rejected(.badArgument) }
        var settings = state.settings
        if let value = change.serviceFee { settings.serviceFee = value }
        if let value = change.interestFee { settings.interestFee = value }
        if let value = change.transferFee { settings.transferFee = value }
        if let value = change.penaltyRate { settings.penaltyRate = value }
        if let value = change.autoBidShare { settings.autoBidShare = value }
        if let value = change.transferHoldingMillis { settings.transferHoldingMillis = value }
        if let value = change.autoBidMaxVisits { settings.autoBidMaxVisits = value }
        state.settings = settings
        return .applied(.settings(settings))
    }

    // MARK: Idempotency

    /// The remembered outcome of `ref`, if any: the original reply when the arguments match, `REF_REUSED`
    /// when they differ.
    func lookUpRef(
        _ user: UserIndex, _ ref: Ref, kind: RefRecord.Kind, listing: UInt32, amount: Money, allOrNone: Bool
    ) -> Outcome? {
        guard let index = refIndex[RefKey(user: user.raw, ref: ref.text)] else { return nil }
        let record = state.refs[Int(index)]
        guard record.kind == kind, record.listingNumber == listing, record.amountCents == amount.cents,
            record.allOrNone == allOrNone
        else { return .rejected(.refReused) }
        return .replayed(record.reply)
    }

    mutating func remember(
        _ user: UserIndex, _ ref: Ref, kind: RefRecord.Kind, listing: UInt32, amount: Money, allOrNone: Bool,
        reply: Reply
    ) {
        refIndex[RefKey(user: user.raw, ref: ref.text)] = UInt32(state.refs.count)
        state.refs.append(
            RefRecord(
                user: user, ref: ref.text, kind: kind, listingNumber: listing, amountCents: amount.cents,
                allOrNone: allOrNone, reply: reply))
    }
}
