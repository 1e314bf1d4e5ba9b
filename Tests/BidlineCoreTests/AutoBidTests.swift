import Testing

@testable import BidlineCore

/// Auto-bid (自动投标): queue order, rotation, the share limit, reserve, newcomer exclusion, eligibility.
@Suite struct AutoBidTests {
    struct Setup {
        var f = Fixture()
        var borrower: UserIndex
        var investors: [UserIndex] = []

        init(count: Int, deposit: Int64 = 10_000, rule: AutoBidRule = AutoBidRule()) {
            borrower = f.user("borrower", roles: .borrower)
            for i in 0..<count {
                let investor = f.user("auto\(i)", deposit: deposit)
                investors.append(investor)
                f.ok(.setAutoBid(investor, rule))
            }
        }

        func autoBids(on id: ListingID) -> [(UserIndex, Int64)] {
            var result: [(UserIndex, Int64)] = []
            for index in f.engine.bidIndexes(of: id) {
                let bid = f.engine.state.bids[Int(index)]
                if bid.source == .auto { result.append((bid.investor, bid.amountCents)) }
            }
            return result
        }
    }

    static func rule(max: Int64? = nil, reserve: Int64 = 0) -> AutoBidRule {
        var rule = AutoBidRule()
        rule.maxPerListing = max.map { Money(yuan: $0) }
        rule.reserve = Money(yuan: reserve)
        return rule
    }

    @Test func walksInQueueOrderAndRotates() {
        var s = Setup(count: 4, rule: Self.rule(max: 1_000))
        #expect(s.f.engine.autoBidQueue() == s.investors)
        // 2,500.00 listing: share 2,000.00 → two investors at 1,000.00 each.
        let first = s.f.listing(by: s.borrower, amount: 2_500)
        #expect(s.autoBids(on: first).map(\.0) == [s.investors[0], s.investors[1]])
        #expect(s.autoBids(on: first).map(\.1) == [100_000, 100_000])
        #expect(s.f.engine.autoBidQueue() == [s.investors[2], s.investors[3], s.investors[0], s.investors[1]])
        let second = s.f.listing(by: s.borrower, amount: 2_500)
        #expect(s.autoBids(on: second).map(\.0) == [s.investors[2], s.investors[3]])
        #expect(s.f.engine.autoBidQueue() == s.investors)
        #expect(s.f.listingState(second).autoRaisedCents == 200_000)
        s.f.expectBalanced()
        s.f.expectReplayMatches()
    }

    @Test func shareLimitLeavesRoomForManualBids() {
        var s = Setup(count: 3, rule: Self.rule())
        let id = s.f.listing(by: s.borrower, amount: 10_000)
        // Share 80 %: 8,000.00; the first investor's whole 10,000.00 balance is capped by the share.
        #expect(s.autoBids(on: id).map(\.1) == [800_000])
        #expect(s.f.listingState(id).status == .open)
        #expect(s.f.listingState(id).remainingCents == 200_000)
        s.f.expectBalanced()
    }

    @Test func shareIsConfigurable() {
        var s = Setup(count: 2, rule: Self.rule(max: 600))
        s.f.ok(.changeSettings(SettingsChange(autoBidShare: BasisPoints(percent: 100))))
        let id = s.f.listing(by: s.borrower, amount: 1_200)
        #expect(s.autoBids(on: id).map(\.1) == [60_000, 60_000])
        #expect(s.f.listingState(id).status == .full)
        #expect(s.f.engine.state.stats.listingsOpen == 0)
        s.f.expectBalanced()
    }

    @Test func amountIsFlooredToSteps() {
        var s = Setup(count: 1, deposit: 1_234, rule: Self.rule())
        let id = s.f.listing(by: s.borrower, amount: 10_000, minBid: 100, step: 100)
        // available 1,234.00 → 1,200.00 (min 100 + 11 steps of 100).
        #expect(s.autoBids(on: id).map(\.1) == [120_000])
    }

    @Test func reserveIsKept() {
        var s = Setup(count: 2, deposit: 1_000, rule: Self.rule(reserve: 700))
        let id = s.f.listing(by: s.borrower, amount: 10_000)
        #expect(s.autoBids(on: id).map(\.1) == [30_000, 30_000])
        #expect(s.f.available(s.investors[0]) == 70_000)
        // With the reserve above the balance the investor is skipped and keeps its place.
        let next = s.f.listing(by: s.borrower, amount: 10_000)
        #expect(s.autoBids(on: next).isEmpty)
        #expect(s.f.engine.autoBidQueue() == s.investors)
    }

    @Test func ineligibleInvestorsKeepTheirPlace() {
        var s = Setup(count: 3, rule: Self.rule(max: 500))
        s.f.ok(.setUser(s.investors[0], UserChange(riskLevel: 1)))
        var strict = Self.rule(max: 500)
        strict.rateMin = BasisPoints(percent: 15)
        s.f.ok(.setAutoBid(s.investors[1], strict))  // a changed rule keeps its place
        let id = s.f.listing(by: s.borrower, amount: 10_000, rate: 1200, grade: .c)
        #expect(s.autoBids(on: id).map(\.0) == [s.investors[2]])
        #expect(s.f.engine.autoBidQueue() == [s.investors[0], s.investors[1], s.investors[2]])
    }

    @Test func ruleFiltersRateTermGradeMethod() {
        var rule = AutoBidRule()
        rule.rateMin = BasisPoints(800)
        rule.rateMax = BasisPoints(1500)
        rule.termMin = 1
        rule.termMax = 12
        rule.grades = Grade.a.bit | Grade.b.bit
        rule.methods = RepaymentMethod.epi.bit
        let base = ListingTerms(amount: Money(yuan: 1_000), rate: BasisPoints(1200), termMonths: 12, method: .epi, grade: .b)
        #expect(rule.matches(base))
        var terms = base
        terms.rate = BasisPoints(1501)
        #expect(!rule.matches(terms))
        terms = base
        terms.termMonths = 13
        #expect(!rule.matches(terms))
        terms = base
        terms.grade = .c
        #expect(!rule.matches(terms))
        terms = base
        terms.method = .ep
        #expect(!rule.matches(terms))
    }

    @Test func newcomerListingsGetNoAutoBids() {
        var s = Setup(count: 2, rule: Self.rule())
        let id = s.f.listing(by: s.borrower, amount: 1_000, newcomer: true)
        #expect(s.autoBids(on: id).isEmpty)
        #expect(s.f.engine.autoBidQueue() == s.investors)
    }

    @Test func offThenOnGoesToTheTail() {
        var s = Setup(count: 3, rule: Self.rule())
        s.f.ok(.autoBidOff(s.investors[0]))
        #expect(s.f.engine.autoBidQueue() == [s.investors[1], s.investors[2]])
        s.f.ok(.setAutoBid(s.investors[0], Self.rule()))
        #expect(s.f.engine.autoBidQueue() == [s.investors[1], s.investors[2], s.investors[0]])
        #expect(s.f.engine.state.autoQueueCount == 3)
        let offAgain = s.f.ok(.autoBidOff(s.investors[0]))
        #expect(offAgain == .autoBid(s.investors[0], enabled: false))
        #expect(s.f.engine.autoBidRule(of: s.investors[0])?.enabled == false)
    }

    @Test func oneAutoBidPerInvestorPerListing() {
        var s = Setup(count: 1, deposit: 100_000, rule: Self.rule(max: 100))
        let id = s.f.listing(by: s.borrower, amount: 10_000)
        #expect(s.autoBids(on: id).count == 1)
    }

    @Test func walkIsBoundedByMaxVisits() {
        var s = Setup(count: 5, deposit: 0, rule: Self.rule())
        s.f.ok(.changeSettings(SettingsChange(autoBidMaxVisits: 2)))
        s.f.ok(.deposit(s.investors[3], Money(yuan: 100), ref: nil))
        let id = s.f.listing(by: s.borrower, amount: 1_000)
        #expect(s.autoBids(on: id).isEmpty)  // investor 3 is beyond the first two visits
        s.f.ok(.changeSettings(SettingsChange(autoBidMaxVisits: 100)))
        let next = s.f.listing(by: s.borrower, amount: 1_000)
        #expect(s.autoBids(on: next).map(\.0) == [s.investors[3]])
    }

    @Test func capAppliesToAutoBids() {
        var s = Setup(count: 1, rule: Self.rule())
        let id = s.f.listing(by: s.borrower, amount: 10_000, cap: 300)
        #expect(s.autoBids(on: id).map(\.1) == [30_000])
        #expect(s.f.bid(s.investors[0], id, 5_000) == .rejected(.overInvestorCap))
    }

    @Test func autoBidEndsNewcomerStatus() {
        var s = Setup(count: 1, rule: Self.rule(max: 100))
        _ = s.f.listing(by: s.borrower, amount: 10_000)
        #expect(s.f.engine.state.accounts[s.investors[0].int].newcomer == false)
        let newcomerListing = s.f.listing(by: s.borrower, amount: 1_000, newcomer: true)
        #expect(s.f.bid(s.investors[0], newcomerListing, 5_000) == .rejected(.newcomerOnly))
    }

    @Test func ruleValidation() {
        var s = Setup(count: 1)
        var bad = AutoBidRule()
        bad.rateMin = BasisPoints(1500)
        bad.rateMax = BasisPoints(800)
        #expect(s.f.run(.setAutoBid(s.investors[0], bad)) == .rejected(.badArgument))
        bad = AutoBidRule()
        bad.grades = 0
        #expect(s.f.run(.setAutoBid(s.investors[0], bad)) == .rejected(.badArgument))
        bad = AutoBidRule()
        bad.maxPerListing = Money(cents: 0)
        #expect(s.f.run(.setAutoBid(s.investors[0], bad)) == .rejected(.badAmount))
        #expect(s.f.run(.setAutoBid(s.borrower, AutoBidRule())) == .rejected(.forbidden))
    }
}
