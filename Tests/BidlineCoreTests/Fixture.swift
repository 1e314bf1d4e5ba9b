import Testing

@testable import BidlineCore

/// A small driver around ``Engine`` for tests: a manual clock, helpers to create users and listings, and the
/// conservation check every scenario ends with.
struct Fixture {
    var engine = Engine()
    var now: Int64 = 1_700_000_000_000
    /// Every command with its time, as the server journals them (rejected ones too), for replay checks.
    var journal: [(Command, Int64)] = []

    @discardableResult
    mutating func run(_ command: Command, advance: Int64 = 1) -> Outcome {
        now += advance
        let outcome = engine.apply(command, at: now)
        journal.append((command, now))
        return outcome
    }

    /// Runs `command` and expects it to be applied; returns the reply.
    @discardableResult
    mutating func ok(_ command: Command, sourceLocation: SourceLocation = #_sourceLocation) -> Reply? {
        let outcome = run(command)
        guard case .applied(let reply) = outcome else {
            Issue.record("expected \(command) to be applied, got \(outcome)", sourceLocation: sourceLocation)
            return nil
        }
        return reply
    }

    mutating func user(
        _ id: String, roles: Roles = .investor, kind: UserKind = .person, verified: Bool = true, risk: UInt8 = 5,
        deposit: Int64 = 0
    ) -> UserIndex {
        guard case .user(let index) = ok(.addUser(NewUser(id: id, roles: roles, kind: kind, verified: verified, riskLevel: risk)))
        else { fatalError("user \(id) not created") }
        if deposit > 0 { ok(.deposit(index, Money(yuan: deposit), ref: nil)) }
        return index
    }

    mutating func listing(
        by borrower: UserIndex, amount: Int64 = 10_000, amountCents: Int64? = nil, rate: Int32 = 1200, term: UInt8 = 12,
        method: RepaymentMethod = .epi, grade: Grade = .a, minBid: Int64 = 50, step: Int64 = 50, cap: Int64? = nil,
        newcomer: Bool = false, window: Int64 = ListingTerms.defaultWindowMillis, approve: Bool = true
    ) -> ListingID {
        let terms = ListingTerms(
            amount: Money(cents: amountCents ?? amount * 100), rate: BasisPoints(rate), termMonths: term, method: method, grade: grade,
            minBid: Money(yuan: minBid), step: Money(yuan: step), cap: cap.map { Money(yuan: $0) }, newcomerOnly: newcomer,
            windowMillis: window)
        guard case .listing(let id, .pending) = ok(.submitListing(borrower, terms)) else { fatalError("listing not created") }
        if approve { ok(.approve(id)) }
        return id
    }

    @discardableResult
    mutating func bid(
        _ investor: UserIndex, _ listing: ListingID, _ cents: Int64, aon: Bool = false, ref: String? = nil
    ) -> Outcome {
        run(.bid(BidRequest(investor: investor, listing: listing, amount: Money(cents: cents), allOrNone: aon, ref: ref.flatMap(Ref.init))))
    }

    func available(_ user: UserIndex) -> Int64 { engine.state.accounts[user.int].availableCents }
    func frozen(_ user: UserIndex) -> Int64 { engine.state.accounts[user.int].frozenCents }
    func listingState(_ id: ListingID) -> Listing { engine.state.listings[id.index] }

    /// The ledger sums to zero, no balance is negative, and every history replays to its balance.
    func expectBalanced(sourceLocation: SourceLocation = #_sourceLocation) {
        let report = engine.reconcile()
        #expect(report.problems == [], sourceLocation: sourceLocation)
        #expect(report.totalCents == 0, sourceLocation: sourceLocation)
    }

    /// Replays the journal into a fresh engine and compares state hashes.
    func expectReplayMatches(sourceLocation: SourceLocation = #_sourceLocation) {
        var replay = Engine()
        for (command, at) in journal {
            _ = replay.apply(command, at: at)
        }
        #expect(replay.stateHash() == engine.stateHash(), sourceLocation: sourceLocation)
        expectClaimIndexMatchesTheClaims(engine, sourceLocation: sourceLocation)
        expectClaimIndexMatchesTheClaims(replay, sourceLocation: sourceLocation)
        expectClaimIndexMatchesTheClaims(Engine(state: engine.state), sourceLocation: sourceLocation)
    }
}

/// The derived indexes (open listings, `Engine.claimIndexes(heldBy:)`) against a scan of the state.
func expectClaimIndexMatchesTheClaims(_ engine: Engine, sourceLocation: SourceLocation = #_sourceLocation) {
    var expected: [UInt32: [UInt32]] = [:]
    for index in 0..<engine.state.claims.count {
        expected[engine.state.claims[index].holder.raw, default: []].append(UInt32(index))
    }
    var open = Set<UInt32>()
    for index in 0..<engine.state.listings.count where engine.state.listings[index].status == .open {
        open.insert(UInt32(index))
    }
    #expect(engine.openListingIndexes == open, "open listings index", sourceLocation: sourceLocation)
    var openOffers = Set<UInt32>()
    for index in 0..<engine.state.offers.count where engine.state.offers[index].status == .open {
        openOffers.insert(UInt32(index))
    }
    #expect(engine.openOfferIndexes == openOffers, "open offers index", sourceLocation: sourceLocation)
    for user in 0..<engine.state.users.count {
        let holder = UserIndex(UInt32(user))
        #expect(
            engine.claimIndexes(heldBy: holder) == expected[holder.raw, default: []], "user \(user)",
            sourceLocation: sourceLocation)
    }
}

extension Outcome {
    var bidReply: BidReply? {
        if case .applied(.bid(let reply)) = self { return reply }
        if case .replayed(.bid(let reply)) = self { return reply }
        return nil
    }
}

extension EngineState {
    /// This state with `clockMillis` taken from `other`: every command advances the engine clock, even one that
    /// is rejected, so "changed nothing" compares everything else.
    func withClock(of other: EngineState) -> EngineState {
        var copy = self
        copy.clockMillis = other.clockMillis
        return copy
    }
}
