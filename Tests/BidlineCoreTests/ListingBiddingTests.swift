import Testing

@testable import BidlineCore

/// One test per bid rule (domain.md "Rules a bid must pass" and "Precise rules") and per error code.
/// Every rejection is also checked to change nothing.
@Suite struct ListingBiddingTests {
    /// A borrower with an open 10,000.00 listing (min 50, step 50) and a funded investor.
    struct Setup {
        var f = Fixture()
        var borrower: UserIndex
        var investor: UserIndex
        var listing: ListingID

        init(
            amount: Int64 = 10_000, grade: Grade = .a, minBid: Int64 = 50, step: Int64 = 50, cap: Int64? = nil,
            newcomer: Bool = false, investorRisk: UInt8 = 5, investorVerified: Bool = true, deposit: Int64 = 100_000
        ) {
            borrower = f.user("borrower", roles: [.borrower, .investor], deposit: 1_000)
            investor = f.user("inv", verified: investorVerified, risk: investorRisk, deposit: deposit)
            listing = f.listing(by: borrower, amount: amount, grade: grade, minBid: minBid, step: step, cap: cap, newcomer: newcomer)
        }

        /// Expects `code` and that the state did not change.
        mutating func expectRejected(
            _ code: RejectCode, _ cents: Int64, by investor: UserIndex? = nil, aon: Bool = false, ref: String? = nil,
            listing: ListingID? = nil, sourceLocation: SourceLocation = #_sourceLocation
        ) {
            let before = f.engine.state
            let outcome = f.bid(investor ?? self.investor, listing ?? self.listing, cents, aon: aon, ref: ref)
            #expect(outcome == .rejected(code), sourceLocation: sourceLocation)
            #expect(f.engine.state.withClock(of: before) == before, "a rejected bid changed the state", sourceLocation: sourceLocation)
            f.expectBalanced(sourceLocation: sourceLocation)
        }
    }

    @Test func acceptedBidFreezesMoney() {
        var s = Setup()
        let reply = s.f.bid(s.investor, s.listing, 50_000).bidReply
        #expect(reply == BidReply(bid: BidID(1), listing: s.listing, amount: Money(yuan: 500), remaining: Money(yuan: 9_500), full: false))
        #expect(s.f.available(s.investor) == 9_950_000)
        #expect(s.f.frozen(s.investor) == 50_000)
        #expect(s.f.listingState(s.listing).raisedCents == 50_000)
        #expect(s.f.engine.state.accounts[s.investor.int].newcomer == false)
        s.f.expectBalanced()
    }

    // Rule 1.
    @Test func rule1NotVerified() {
        var s = Setup(investorVerified: false)
        s.expectRejected(.notVerified, 5_000)
    }

    @Test func rule1Blacklisted() {
        var s = Setup()
        s.f.ok(.setUser(s.investor, UserChange(blacklisted: true)))
        s.expectRejected(.blacklisted, 5_000)
    }

    @Test func rule1OwnListing() {
        var s = Setup()
        s.expectRejected(.ownListing, 5_000, by: s.borrower)
    }

    @Test func investorRoleRequired() {
        var s = Setup()
        let gateway = s.f.user("gw", roles: .gateway, deposit: 1_000)
        s.expectRejected(.forbidden, 5_000, by: gateway)
    }

    // Rule 2.
    @Test func rule2ListingNotOpen() {
        var s = Setup()
        let pending = s.f.listing(by: s.borrower, amount: 1_000, approve: false)
        s.expectRejected(.listingNotOpen, 5_000, listing: pending)
    }

    @Test func rule2WindowEndIsInclusive() {
        var s = Setup()
        let closes = s.f.listingState(s.listing).closesAtMillis
        s.f.now = closes - 1
        #expect(s.f.bid(s.investor, s.listing, 5_000).bidReply != nil)  // at exactly `closes`
        s.f.now = closes
        s.expectRejected(.listingNotOpen, 5_000)  // one millisecond after
    }

    // Rule 3.
    @Test func rule3RiskLevelTooLow() {
        var s = Setup(grade: .c, investorRisk: 2)
        s.expectRejected(.riskLevelTooLow, 5_000)
        s.f.ok(.setUser(s.investor, UserChange(riskLevel: 3)))
        #expect(s.f.bid(s.investor, s.listing, 5_000).bidReply != nil)
    }

    // Rule 4.
    @Test func rule4NewcomerOnly() {
        var s = Setup(newcomer: true)
        let veteran = s.f.user("veteran", deposit: 100_000)
        let other = s.f.listing(by: s.borrower, amount: 1_000)
        #expect(s.f.bid(veteran, other, 5_000).bidReply != nil)
        s.expectRejected(.newcomerOnly, 5_000, by: veteran)
        #expect(s.f.bid(s.investor, s.listing, 5_000).bidReply != nil)
        s.expectRejected(.newcomerOnly, 5_000)  // no longer a newcomer after the first accepted bid
    }

    @Test func rule4NewcomerLimitCountsAcceptedAmount() {
        var s = Setup(amount: 20_000, newcomer: true)
        s.expectRejected(.overInvestorCap, 1_005_000)
        #expect(s.f.bid(s.investor, s.listing, 1_000_000).bidReply?.amount == Money(yuan: 10_000))
    }

    // Rule 5.
    @Test func rule5BelowMinBid() {
        var s = Setup(minBid: 100, step: 50)
        s.expectRejected(.belowMinBid, 9_999)
    }

    @Test func rule5NotStepMultiple() {
        var s = Setup(minBid: 100, step: 50)
        s.expectRejected(.notStepMultiple, 12_000)
        #expect(s.f.bid(s.investor, s.listing, 15_000).bidReply != nil)
    }

    @Test func rule5TrimsToRemaining() {
        var s = Setup(amount: 1_000)
        let reply = s.f.bid(s.investor, s.listing, 500_000).bidReply
        #expect(reply?.amount == Money(yuan: 1_000))
        #expect(reply?.full == true)
        #expect(reply?.remaining == .zero)
        #expect(s.f.frozen(s.investor) == 100_000)
        s.f.expectBalanced()
    }

    @Test func rule5WholeRemainingNeedsNoStep() {
        var s = Setup(amount: 1_000, minBid: 100, step: 100)
        let other = s.f.user("other", deposit: 10_000)
        let listing = s.f.listing(by: s.borrower, amountCents: 103_333, minBid: 100, step: 100)
        #expect(s.f.bid(other, listing, 90_000).bidReply?.remaining == Money(cents: 13_333))
        s.expectRejected(.notStepMultiple, 12_000, listing: listing)
        // The whole remaining amount (133.33) is accepted without being a step multiple.
        #expect(s.f.bid(s.investor, listing, 13_333).bidReply?.full == true)
        s.f.expectBalanced()
    }

    @Test func rule5RemainingBelowMinimumAcceptsAtLeastRemaining() {
        var s = Setup(amount: 100, minBid: 100, step: 100)
        let other = s.f.user("other", deposit: 10_000)
        // 100.00 listing, min 100: a 70.00 bid is below the minimum...
        s.expectRejected(.belowMinBid, 7_000)
        // ...but with a smaller listing remaining, e.g. after another bid:
        let listing = s.f.listing(by: s.borrower, amount: 150, minBid: 100, step: 50)
        #expect(s.f.bid(other, listing, 10_000).bidReply?.remaining == Money(yuan: 50))
        let reply = s.f.bid(s.investor, listing, 6_000).bidReply  // 60.00 ≥ remaining 50.00
        #expect(reply?.amount == Money(yuan: 50))
        #expect(reply?.full == true)
    }

    @Test func rule5AllOrNone() {
        var s = Setup(amount: 1_000)
        s.expectRejected(.aonNotFillable, 100_050, aon: true)
        #expect(s.f.bid(s.investor, s.listing, 100_000, aon: true).bidReply?.full == true)
    }

    // Rule 6.
    @Test func rule6PerInvestorCap() {
        var s = Setup(cap: 1_000)
        #expect(s.f.bid(s.investor, s.listing, 60_000).bidReply != nil)
        s.expectRejected(.overInvestorCap, 50_000)
        #expect(s.f.bid(s.investor, s.listing, 40_000).bidReply != nil)
        s.expectRejected(.overInvestorCap, 5_000)
        let other = s.f.user("other", deposit: 10_000)
        #expect(s.f.bid(other, s.listing, 100_000).bidReply != nil)
    }

    // Rule 7.
    @Test func rule7InsufficientFunds() {
        var s = Setup(deposit: 100)
        s.expectRejected(.insufficientFunds, 15_000)
        #expect(s.f.bid(s.investor, s.listing, 10_000).bidReply != nil)
        #expect(s.f.available(s.investor) == 0)
    }

    // Rule 8.
    @Test func rule8RefIsIdempotent() {
        var s = Setup()
        let first = s.f.bid(s.investor, s.listing, 50_000, ref: "bot-7:1")
        let before = s.f.engine.state
        let retry = s.f.bid(s.investor, s.listing, 50_000, ref: "bot-7:1")
        #expect(first.bidReply != nil)
        #expect(retry == .replayed(first.reply!))
        #expect(s.f.engine.state.withClock(of: before) == before)
        #expect(s.f.frozen(s.investor) == 50_000)
        s.f.expectBalanced()
    }

    @Test func rule8RefReusedWithOtherArguments() {
        var s = Setup()
        #expect(s.f.bid(s.investor, s.listing, 50_000, ref: "r1").bidReply != nil)
        s.expectRejected(.refReused, 60_000, ref: "r1")
        s.expectRejected(.refReused, 50_000, aon: true, ref: "r1")
    }

    @Test func rule8RejectedRefCanBeRetried() {
        var s = Setup(deposit: 100)
        s.expectRejected(.insufficientFunds, 50_000, ref: "r2")
        s.f.ok(.deposit(s.investor, Money(yuan: 1_000), ref: nil))
        #expect(s.f.bid(s.investor, s.listing, 50_000, ref: "r2").bidReply != nil)
    }

    @Test func refsArePerInvestor() {
        var s = Setup()
        let other = s.f.user("other", deposit: 10_000)
        #expect(s.f.bid(s.investor, s.listing, 5_000, ref: "same").bidReply?.bid == BidID(1))
        #expect(s.f.bid(other, s.listing, 5_000, ref: "same").bidReply?.bid == BidID(2))
    }

    @Test func rulesAreCheckedInOrder() {
        // Not verified (1) and risk too low (3) and below minimum (5): the first failing rule wins.
        var s = Setup(grade: .e, investorRisk: 1, investorVerified: false)
        s.expectRejected(.notVerified, 1)
        s.f.ok(.setUser(s.investor, UserChange(verified: true)))
        s.expectRejected(.riskLevelTooLow, 1)
        s.f.ok(.setUser(s.investor, UserChange(riskLevel: 5)))
        s.expectRejected(.belowMinBid, 1)
    }

    @Test func fullBidDetectionInTheFillingStep() {
        var s = Setup(amount: 1_000)
        let other = s.f.user("other", deposit: 10_000)
        s.f.engine.events.removeAll()
        #expect(s.f.bid(other, s.listing, 60_000).bidReply?.full == false)
        #expect(!s.f.engine.events.contains { $0.kind == .listingFull })
        let filling = s.f.bid(s.investor, s.listing, 40_000).bidReply
        #expect(filling?.full == true)
        #expect(s.f.listingState(s.listing).status == .full)
        #expect(s.f.engine.events.filter { $0.kind == .listingFull }.map(\.listing) == [s.listing])
        s.expectRejected(.listingNotOpen, 5_000, by: other)
        #expect(s.f.engine.state.stats.listingsOpen == 0)
    }

    @Test func existenceAndAmountErrors() {
        var s = Setup()
        s.expectRejected(.noSuchListing, 5_000, listing: ListingID(99))
        s.expectRejected(.noSuchUser, 5_000, by: UserIndex(99))
        s.expectRejected(.badAmount, 0)
        s.expectRejected(.badAmount, Money.maxAmountCents + 1)
    }
}
