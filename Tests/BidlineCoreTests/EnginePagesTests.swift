import Testing

@testable import BidlineCore

/// The row sets of `LOAN.BIDS`, `LOAN.PLAN`, `HOLDINGS` and `LEDGER` (`Engine+Pages.swift`).
@Suite struct EnginePagesTests {
    @Test func bidPagesFollowTheCursor() throws {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower)
        let alice = f.user("alice", deposit: 10_000)
        let bob = f.user("bob", deposit: 10_000)
        let other = f.listing(by: borrower)
        let id = f.listing(by: borrower)
        for round in 0..<4 {
            f.bid(alice, id, 10_000)
            f.bid(bob, other, 10_000)
            f.bid(round % 2 == 0 ? bob : alice, id, 5_000)
        }
        let all = try f.engine.bidPage(of: id, limit: 1_000, after: nil)
        #expect(all.count == 8)
        #expect(all.allSatisfy { f.engine.state.bids[Int($0)].listing == id })
        #expect(Array(all) == all.sorted())
        #expect(Array(try f.engine.bidPage(of: id, limit: 3, after: nil)) == Array(all.prefix(3)))
        // `after=B<n>` is bid index n - 1: the page starts after it.
        let cursor = BidID(all[2] + 1)
        #expect(Array(try f.engine.bidPage(of: id, limit: 1_000, after: cursor)) == Array(all.dropFirst(3)))
        #expect(try f.engine.bidPage(of: id, limit: 1_000, after: BidID(all.last! + 1)).isEmpty)
        #expect(throws: RejectCode.noSuchListing) { try f.engine.bidPage(of: ListingID(99), limit: 10, after: nil) }
        #expect(throws: RejectCode.noSuchListing) { try f.engine.bidPage(of: ListingID(0), limit: 10, after: nil) }
    }

    @Test func planRowsExistAfterDisbursement() throws {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower, deposit: 1_000)
        let alice = f.user("alice", deposit: 30_000)
        let monthly = f.listing(by: borrower, amount: 10_000, term: 6)
        let bullet = f.listing(by: borrower, amount: 10_000, term: 6, method: .bullet)
        #expect(try f.engine.planInstallments(of: monthly).isEmpty)
        f.bid(alice, monthly, 1_000_000)
        f.bid(alice, bullet, 1_000_000)
        f.ok(.disburse(monthly))
        f.ok(.disburse(bullet))
        let plan = try f.engine.planInstallments(of: monthly)
        #expect(plan.count == 6)
        #expect(try f.engine.planInstallments(of: bullet).count == 1)
        let principal = plan.reduce(0) { $0 + f.engine.state.installments[$1].principalCents }
        #expect(principal == 1_000_000)
        #expect(throws: RejectCode.noSuchListing) { try f.engine.planInstallments(of: ListingID(9)) }
    }

    @Test func holdingsSkipClaimsRepaidInFull() throws {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower, deposit: 5_000)
        let alice = f.user("alice", deposit: 30_000)
        let first = f.listing(by: borrower, amount: 1_000)
        let second = f.listing(by: borrower, amount: 1_000)
        f.bid(alice, first, 100_000)
        f.bid(alice, second, 100_000)
        f.ok(.disburse(first))
        f.ok(.disburse(second))
        #expect(f.engine.heldClaims(of: alice).count == 2)
        f.ok(.payoff(first, by: nil))
        let held = f.engine.heldClaims(of: alice)
        #expect(held.count == 1)
        #expect(held.allSatisfy { f.engine.state.claims[$0].listing == second })
        #expect(f.engine.heldClaims(of: borrower).isEmpty)
    }

    @Test func statementsMergeBothAccountsNewestFirst() {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower)
        let alice = f.user("alice", deposit: 1_000)
        let id = f.listing(by: borrower)
        f.bid(alice, id, 10_000)
        f.bid(alice, id, 20_000)
        let rows = f.engine.statement(of: .available(alice), limit: 100)
        // A deposit and two bids, each a move from available to frozen.
        #expect(rows.count == 5)
        #expect(rows.map(\.entry) == rows.map(\.entry).sorted(by: >))
        #expect(Set(rows.map(\.account)) == [.available(alice), .frozen(alice)])
        #expect(f.engine.statement(of: .available(alice), limit: 2) == Array(rows.prefix(2)))
        let bank = f.engine.statement(of: .bank, limit: 100)
        #expect(bank.count == 1 && bank.allSatisfy { $0.account == .bank })
    }
}
