import BidlineCore

/// A seeded, scripted run of the engine: plausible commands (mostly valid, some deliberately refused: unknown
/// ids, short balances, wrong states) against what exists so far, applied to a live engine and journaled with
/// their engine times exactly as the server journals them (rejected commands too). The same seed always gives
/// the same commands, times and states. Used by the property tests (invariants after every command), the
/// recovery tests (snapshot + log equals the live run) and the golden fixtures.
public struct CommandScenario {
    public var rng: SplitMix64
    /// The engine that never crashed: the reference state.
    public var engine = Engine()
    public var now: Int64 = 1_700_000_000_000
    /// Every command with its engine time, in sequence order (sequence = index + 1).
    public var journal: [(command: Command, atMillis: Int64)] = []
    public var investors: [UserIndex] = []
    public var borrowers: [UserIndex] = []
    /// Outcome counts: applied commands by kind, rejections by code.
    public var appliedByTag: [Command.Tag: Int] = [:]
    public var rejectionsByCode: [RejectCode: Int] = [:]

    public var applied: Int { appliedByTag.values.reduce(0, +) }
    public var rejected: Int { rejectionsByCode.values.reduce(0, +) }

    public init(seed: UInt64) { rng = SplitMix64(state: seed) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(rng.next() % UInt64(range.count)) }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    mutating func pick<T>(_ items: [T]) -> T? { items.isEmpty ? nil : items[int(0...(items.count - 1))] }

    mutating func money(_ maxYuan: Int) -> Money {
        chance(80) ? Money(yuan: Int64(int(1...maxYuan / 50)) * 50) : Money(cents: Int64(int(0...maxYuan * 100)))
    }

    var listingCount: Int { engine.state.listings.count }
    mutating func anyListing() -> ListingID { ListingID(UInt32(int(1...max(1, listingCount + 1)))) }
    mutating func anyUser() -> UserIndex { UserIndex(UInt32(int(0...max(0, engine.state.users.count)))) }

    func listings(in status: ListingStatus) -> [ListingID] {
        (0..<listingCount).filter { engine.state.listings[$0].status == status }.map { ListingID(UInt32($0 + 1)) }
    }

    /// The next plausible command for the current state (mostly valid, some deliberately not).
    public mutating func nextCommand() -> Command {
        switch int(0...99) {
        case 0..<6:
            let borrower = chance(40)
            let n = engine.state.users.count
            return .addUser(
                NewUser(
                    id: chance(3) ? "u0" : "u\(n)", roles: borrower ? [.borrower, .investor] : .investor,
                    kind: chance(20) ? .company : .person, verified: chance(95),
                    riskLevel: chance(75) ? 5 : UInt8(int(1...5))))
        case 6..<15:
            return .deposit(
                chance(70) ? (pick(investors) ?? anyUser()) : anyUser(), money(20_000),
                ref: chance(20) ? Ref("d\(int(0...30))") : nil)
        case 15..<17:
            return .withdraw(anyUser(), money(5_000), ref: chance(20) ? Ref("w\(int(0...30))") : nil)
        case 17..<22:
            let terms = ListingTerms(
                amount: Money(yuan: Int64(int(2...400)) * 50), rate: BasisPoints(Int32(int(0...2400))),
                termMonths: UInt8(int(1...36)), method: pick(RepaymentMethod.allCases)!, grade: pick(Grade.allCases)!,
                minBid: Money(yuan: chance(70) ? 50 : 100), step: Money(yuan: chance(70) ? 50 : 25),
                cap: chance(20) ? Money(yuan: 2_000) : nil, newcomerOnly: chance(10),
                windowMillis: Int64(int(1...96)) * 3_600_000)
            return .submitListing(pick(borrowers) ?? anyUser(), terms)
        case 22..<27:
            return .approve(pick(listings(in: .pending)) ?? anyListing())
        case 27..<55:
            let listing = chance(90) ? (pick(listings(in: .open)) ?? anyListing()) : anyListing()
            return .bid(
                BidRequest(
                    investor: pick(investors) ?? anyUser(), listing: listing, amount: money(3_000),
                    allOrNone: chance(10), ref: chance(15) ? Ref("b\(int(0...40))") : nil))
        case 55..<59:
            var rule = AutoBidRule()
            if chance(50) { rule.maxPerListing = Money(yuan: Int64(int(1...40)) * 50) }
            if chance(30) { rule.reserve = Money(yuan: Int64(int(0...500))) }
            if chance(30) { rule.rateMin = BasisPoints(Int32(int(0...1500))) }
            if chance(20) { rule.termMax = UInt8(int(1...36)) }
            return .setAutoBid(pick(investors) ?? anyUser(), rule)
        case 59..<61:
            return .autoBidOff(pick(investors) ?? anyUser())
        case 61..<64:
            return .cancel(
                chance(80) ? (pick(listings(in: .open) + listings(in: .full)) ?? anyListing()) : anyListing())
        case 64..<65:
            return .reject(pick(listings(in: .pending)) ?? anyListing())
        case 65..<71:
            return .disburse(pick(listings(in: .full)) ?? anyListing())
        case 71..<79:
            let listing = pick(listings(in: .repaying)) ?? anyListing()
            if chance(10) { return .payoff(listing, by: nil) }
            return .repay(listing, by: chance(10) ? anyUser() : nil)
        case 79..<83:
            let claims = engine.state.claims.count
            guard claims > 0 else { return .tick }
            let claim = ClaimID(UInt32(int(1...claims)))
            let principal = engine.state.claims[claim.index].principalCents
            let x = max(1, principal / Int64(int(1...3)))
            let price = x * Int64(int(75...110)) / 100
            return .sellClaim(
                claim, by: chance(90) ? engine.state.claims[claim.index].holder : anyUser(),
                principal: Money(cents: x), price: Money(cents: max(1, price)))
        case 83..<87:
            let offers = engine.state.offers.count
            guard offers > 0 else { return .tick }
            let open = (0..<offers).filter { engine.state.offers[$0].status == .open }
            let offer = OfferID(UInt32((pick(open) ?? int(0...(offers - 1))) + 1))
            let left = engine.state.offers[offer.index].remainingCents
            return .buyOffer(
                offer, buyer: pick(investors) ?? anyUser(), principal: Money(cents: max(1, left / Int64(int(1...2)))))
        case 87..<88:
            let offers = engine.state.offers.count
            guard offers > 0 else { return .tick }
            let open = (0..<offers).filter { engine.state.offers[$0].status == .open }
            return .withdrawOffer(OfferID(UInt32((pick(open) ?? int(0...(offers - 1))) + 1)), by: nil)
        case 88..<89:
            return .setUser(
                anyUser(),
                UserChange(
                    verified: chance(95), riskLevel: chance(50) ? nil : UInt8(int(1...5)), blacklisted: chance(5)))
        case 89..<90:
            return .changeSettings(
                SettingsChange(
                    serviceFee: BasisPoints(Int32(int(0...500))), interestFee: BasisPoints(Int32(int(0...2000))),
                    transferHoldingMillis: Int64(int(0...40)) * EngineTime.dayMillis))
        default:
            // Clock movement: minutes to weeks, sometimes a whole month, then a tick.
            now += chance(8) ? EngineTime.monthMillis : Int64(int(1...240)) * 60_000
            return .tick
        }
    }

    /// One step: generates a command, advances the clock, applies and journals it. Returns the command, its
    /// outcome and the state just before it (a copy costs O(chunks)), so callers can check what changed.
    @discardableResult
    public mutating func step() -> (command: Command, outcome: Outcome, before: EngineState) {
        let command = nextCommand()
        now += Int64(int(1...5_000))
        let before = engine.state
        let outcome = engine.apply(command, at: now)
        engine.events.removeAll(keepingCapacity: true)
        journal.append((command, now))
        switch outcome {
        case .applied(let reply):
            appliedByTag[command.tag, default: 0] += 1
            if case .user(let user) = reply, case .addUser(let new) = command {
                if new.roles.contains(.borrower) { borrowers.append(user) } else { investors.append(user) }
            }
        case .replayed:
            break
        case .rejected(let code):
            rejectionsByCode[code, default: 0] += 1
        }
        return (command, outcome, before)
    }

    /// Generates and applies `steps` more commands, journaling each.
    public mutating func run(steps: Int) {
        for _ in 0..<steps { step() }
    }
}
