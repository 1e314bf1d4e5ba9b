import Testing

@testable import BidlineCore

/// Every listing transition: pending → open → full → repaying, and → failed from pending, open and full,
/// with refunds, the borrowing cap and the fee capture.
@Suite struct ListingLifecycleTests {
    @Test func pendingToOpenToFullToRepaying() {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower)
        let alice = f.user("alice", deposit: 10_000)
        let bob = f.user("bob", deposit: 10_000)
        let id = f.listing(by: borrower, amount: 10_000, approve: false)
        #expect(f.listingState(id).status == .pending)
        #expect(f.engine.state.users[borrower.int].pendingBorrowCents == 1_000_000)
        #expect(f.ok(.approve(id)) == .approved(id, .open, autoBids: 0))
        #expect(f.listingState(id).closesAtMillis == f.now + ListingTerms.defaultWindowMillis)
        #expect(f.run(.approve(id)) == .rejected(.badState))
        #expect(f.run(.disburse(id)) == .rejected(.badState))
        #expect(f.bid(alice, id, 600_000).bidReply?.full == false)
        #expect(f.bid(bob, id, 400_000).bidReply?.full == true)
        #expect(f.listingState(id).status == .full)
        f.expectBalanced()

        #expect(f.ok(.disburse(id)) == .listing(id, .repaying))
        // 2.00 % service fee: 200.00 to the platform, 9,800.00 to the borrower.
        #expect(f.available(borrower) == 980_000)
        #expect(f.engine.balance(of: .platform) == 20_000)
        #expect(f.frozen(alice) == 0)
        #expect(f.frozen(bob) == 0)
        #expect(f.engine.state.users[alice.int].receivablePrincipalCents == 600_000)
        #expect(f.engine.state.users[borrower.int].borrowedCents == 1_000_000)
        #expect(f.engine.state.users[borrower.int].pendingBorrowCents == 0)
        #expect(f.listingState(id).claimCount == 2)
        #expect(f.engine.state.claims.map(\.principalCents) == [600_000, 400_000])
        #expect(f.engine.state.stats.disbursedCents == 1_000_000)
        #expect(f.engine.state.stats.loansRepaying == 1)
        #expect(f.engine.state.stats.frozenCents == 0)
        #expect(f.run(.cancel(id)) == .rejected(.badState))
        f.expectBalanced()
        f.expectReplayMatches()
    }

    @Test func rejectPendingFails() {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower)
        let id = f.listing(by: borrower, amount: 1_000, approve: false)
        #expect(f.ok(.reject(id)) == .listing(id, .failed))
        #expect(f.engine.state.users[borrower.int].pendingBorrowCents == 0)
        #expect(f.run(.reject(id)) == .rejected(.badState))
        #expect(f.run(.approve(id)) == .rejected(.badState))
        f.expectBalanced()
    }

    @Test func rejectOnlyAppliesToPending() {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower)
        let id = f.listing(by: borrower, amount: 1_000)
        #expect(f.run(.reject(id)) == .rejected(.badState))
    }

    @Test(arguments: [false, true])
    func cancelRefundsEveryBid(whenFull: Bool) {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower)
        let alice = f.user("alice", deposit: 1_000)
        let bob = f.user("bob", deposit: 1_000)
        let id = f.listing(by: borrower, amount: 1_000)
        f.bid(alice, id, 30_000)
        f.bid(alice, id, 20_000)
        f.bid(bob, id, whenFull ? 50_000 : 10_000)
        #expect(f.listingState(id).status == (whenFull ? .full : .open))
        f.engine.events.removeAll()
        #expect(f.ok(.cancel(id)) == .listing(id, .failed))
        #expect(f.available(alice) == 100_000)
        #expect(f.available(bob) == 100_000)
        #expect(f.frozen(alice) == 0)
        #expect(f.engine.state.stats.frozenCents == 0)
        #expect(f.engine.state.stats.listingsOpen == 0)
        #expect(f.engine.events.contains { $0.kind == .listingFailed && $0.listing == id })
        // Refunded newcomers stay non-newcomers.
        #expect(f.engine.state.accounts[alice.int].newcomer == false)
        // The history shows bid and refund.
        let rows = f.engine.history(of: .available(alice), limit: 10)
        #expect(rows.map(\.kind) == [.refund, .refund, .bid, .bid, .deposit])
        #expect(rows.first?.balanceCents == 100_000)
        f.expectBalanced()
        f.expectReplayMatches()
    }

    @Test func tickFailsExpiredListings() {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower)
        let alice = f.user("alice", deposit: 1_000)
        let id = f.listing(by: borrower, amount: 1_000, window: 3_600_000)
        let other = f.listing(by: borrower, amount: 1_000, window: 7_200_000)
        f.bid(alice, id, 30_000)
        let closes = f.listingState(id).closesAtMillis
        f.now = closes - 1
        #expect(f.ok(.tick) == .tick(failedListings: 0, overdueInstallments: 0))  // at exactly the end: still open
        #expect(f.listingState(id).status == .open)
        #expect(f.ok(.tick) == .tick(failedListings: 1, overdueInstallments: 0))  // strictly after
        #expect(f.listingState(id).status == .failed)
        #expect(f.listingState(other).status == .open)
        #expect(f.available(alice) == 100_000)
        #expect(f.engine.state.users[borrower.int].pendingBorrowCents == 100_000)
        f.expectBalanced()
        f.expectReplayMatches()
    }

    @Test func fullListingsDoNotExpire() {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower)
        let alice = f.user("alice", deposit: 1_000)
        let id = f.listing(by: borrower, amount: 1_000, window: 3_600_000)
        f.bid(alice, id, 100_000)
        f.now += 10 * 3_600_000
        #expect(f.ok(.tick) == .tick(failedListings: 0, overdueInstallments: 0))
        #expect(f.listingState(id).status == .full)
    }

    @Test func borrowingCapPerson() {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower)
        _ = f.listing(by: borrower, amount: 150_000, approve: false)
        _ = f.listing(by: borrower, amount: 50_000)  // exactly 200,000.00 is allowed
        let terms = ListingTerms(amount: Money(cents: 1), rate: BasisPoints(1200), termMonths: 12, method: .epi, grade: .a)
        var over = terms
        over.amount = Money(yuan: 100)
        #expect(f.run(.submitListing(borrower, over)) == .rejected(.borrowCapExceeded))
    }

    @Test func borrowingCapCompanyAndRelease() {
        var f = Fixture()
        let company = f.user("corp", roles: .borrower, kind: .company)
        let id = f.listing(by: company, amount: 1_000_000, approve: false)
        let terms = ListingTerms(amount: Money(yuan: 100), rate: BasisPoints(1200), termMonths: 12, method: .epi, grade: .a)
        #expect(f.run(.submitListing(company, terms)) == .rejected(.borrowCapExceeded))
        f.ok(.reject(id))  // a failed listing no longer counts
        #expect(f.run(.submitListing(company, terms)).changedState)
    }

    @Test func submissionChecks() {
        var f = Fixture()
        let unverified = f.user("u", roles: .borrower, verified: false)
        let investor = f.user("i")
        let borrower = f.user("b", roles: .borrower)
        let ok = ListingTerms(amount: Money(yuan: 1_000), rate: BasisPoints(1200), termMonths: 12, method: .epi, grade: .a)
        #expect(f.run(.submitListing(unverified, ok)) == .rejected(.notVerified))
        #expect(f.run(.submitListing(investor, ok)) == .rejected(.forbidden))
        #expect(f.run(.submitListing(UserIndex(77), ok)) == .rejected(.noSuchUser))
        var bad = ok
        bad.amount = Money(cents: 9_999)
        #expect(f.run(.submitListing(borrower, bad)) == .rejected(.badAmount))
        bad = ok
        bad.amount = Money(cents: 1_000_000_001)
        #expect(f.run(.submitListing(borrower, bad)) == .rejected(.badAmount))
        bad = ok
        bad.termMonths = 37
        #expect(f.run(.submitListing(borrower, bad)) == .rejected(.badArgument))
        bad = ok
        bad.rate = BasisPoints(3601)
        #expect(f.run(.submitListing(borrower, bad)) == .rejected(.badArgument))
        f.ok(.setUser(borrower, UserChange(blacklisted: true)))
        #expect(f.run(.submitListing(borrower, ok)) == .rejected(.blacklisted))
        #expect(f.engine.state.listings.count == 0)
    }

    @Test func feesAreCapturedAtApproval() {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower)
        let alice = f.user("alice", deposit: 10_000)
        let early = f.listing(by: borrower, amount: 1_000)
        let late = f.listing(by: borrower, amount: 1_000, approve: false)
        f.ok(.changeSettings(SettingsChange(serviceFee: BasisPoints(500))))
        f.ok(.approve(late))
        f.bid(alice, early, 100_000)
        f.bid(alice, late, 100_000)
        f.ok(.disburse(early))
        #expect(f.engine.balance(of: .platform) == 2_000)  // 2 % of 1,000.00
        f.ok(.disburse(late))
        #expect(f.engine.balance(of: .platform) == 2_000 + 5_000)  // 5 % of 1,000.00
        f.expectBalanced()
    }

    @Test func depositAndWithdraw() {
        var f = Fixture()
        let alice = f.user("alice")
        #expect(f.ok(.deposit(alice, Money(yuan: 100), ref: Ref("d1"))) == .funds(user: alice, amount: Money(yuan: 100), available: Money(yuan: 100)))
        #expect(f.run(.deposit(alice, Money(yuan: 100), ref: Ref("d1"))) == .replayed(.funds(user: alice, amount: Money(yuan: 100), available: Money(yuan: 100))))
        #expect(f.run(.deposit(alice, Money(yuan: 101), ref: Ref("d1"))) == .rejected(.refReused))
        #expect(f.run(.withdraw(alice, Money(yuan: 101), ref: nil)) == .rejected(.insufficientFunds))
        #expect(f.run(.withdraw(alice, Money(yuan: 0), ref: nil)) == .rejected(.badAmount))
        #expect(f.ok(.withdraw(alice, Money(yuan: 40), ref: nil)) == .funds(user: alice, amount: Money(yuan: 40), available: Money(yuan: 60)))
        #expect(f.engine.balance(of: .bank) == -6_000)
        #expect(f.run(.deposit(UserIndex(9), Money(yuan: 1), ref: nil)) == .rejected(.noSuchUser))
        f.expectBalanced()
    }

    @Test func balanceOverflowIsRefused() {
        var f = Fixture()
        let alice = f.user("alice")
        for _ in 0..<5 { f.ok(.deposit(alice, Money(cents: Money.maxAmountCents), ref: nil)) }
        var outcome = Outcome.rejected(.limitReached)
        for _ in 0..<1_000_000 {
            outcome = f.run(.deposit(alice, Money(cents: Money.maxAmountCents), ref: nil))
            if !outcome.changedState { break }
        }
        #expect(outcome == .rejected(.badAmount))
        f.expectBalanced()
    }

    @Test func usersAreUniqueAndValid() {
        var f = Fixture()
        _ = f.user("alice")
        #expect(f.run(.addUser(NewUser(id: "alice", roles: .investor))) == .rejected(.userExists))
        #expect(f.run(.addUser(NewUser(id: "bank", roles: .investor))) == .rejected(.userExists))
        #expect(f.run(.addUser(NewUser(id: "Bad Id", roles: .investor))) == .rejected(.badArgument))
        #expect(f.run(.addUser(NewUser(id: "x", roles: .investor, riskLevel: 6))) == .rejected(.badArgument))
        #expect(f.run(.addUser(NewUser(id: "y", roles: []))) == .rejected(.badArgument))
        #expect(f.run(.setUser(UserIndex(5), UserChange(verified: true))) == .rejected(.noSuchUser))
        #expect(f.engine.userIndex(of: "alice") == UserIndex(0))
        #expect(f.engine.state.stats.users == 1)
    }
}
