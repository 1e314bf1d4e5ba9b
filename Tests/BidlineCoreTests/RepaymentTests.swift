import Testing

@testable import BidlineCore

/// Repayment (还款), overdue (逾期) with penalty interest (罚息), early payoff (提前还款), settlement and debt
/// transfer (债权转让), checked against computations made independently in the tests.
@Suite struct RepaymentTests {
    /// An independent largest-remainder split (ties to the lower index), written separately from the engine's.
    static func split(_ total: Int64, _ weights: [Int64]) -> [Int64] {
        let sum = weights.reduce(0, +)
        guard total > 0, sum > 0 else { return weights.map { _ in 0 } }
        var shares = weights.map { Int64(Int128(total) * Int128($0) / Int128(sum)) }
        let remainders = weights.map { Int128(total) * Int128($0) % Int128(sum) }
        var left = total - shares.reduce(0, +)
        let order = weights.indices.sorted { remainders[$0] != remainders[$1] ? remainders[$0] > remainders[$1] : $0 < $1 }
        for index in order where left > 0 {
            shares[index] += 1
            left -= 1
        }
        return shares
    }

    static func halfUp(_ numerator: Int128, _ denominator: Int128) -> Int64 { Int64((numerator + denominator / 2) / denominator) }

    @Test func twelveMonthEpiRepaidToTheEnd() {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower, deposit: 2_000)
        let alice = f.user("alice", deposit: 10_000)
        let bob = f.user("bob", deposit: 10_000)
        let id = f.listing(by: borrower, amount: 10_000)
        f.bid(alice, id, 700_000)
        f.bid(bob, id, 300_000)
        f.ok(.disburse(id))
        let plan = f.engine.state.installments.map { ($0.principalCents, $0.interestCents) }
        #expect(plan.count == 12)
        #expect(plan[0] == (78_849, 10_000))  // 888.49 = 788.49 + 100.00
        #expect(f.engine.state.users[alice.int].receivablePrincipalCents == 700_000)
        #expect(f.engine.state.users[alice.int].receivableInterestCents + f.engine.state.users[bob.int].receivableInterestCents
                == plan.reduce(0) { $0 + $1.1 })
        var expectedAlice: Int64 = 300_000
        var expectedPlatform: Int64 = 20_000
        var weights: [Int64] = [700_000, 300_000]
        for (k, (principal, interest)) in plan.enumerated() {
            f.now = f.engine.state.installments[k].dueAtMillis - 1000  // pay just before it is due
            guard case .repayment(let reply) = f.ok(.repay(id, by: borrower)) else { return }
            #expect(reply.installment == UInt8(k + 1))
            #expect(reply.penalty == .zero)
            let interestShares = Self.split(interest, weights)
            let principalShares = Self.split(principal, weights)
            let fees = interestShares.map { Self.halfUp(Int128($0) * 1000, 10_000) }
            expectedAlice += principalShares[0] + interestShares[0] - fees[0]
            expectedPlatform += fees.reduce(0, +)
            weights = zip(weights, principalShares).map { $0 - $1 }
            #expect(f.available(alice) == expectedAlice)
            #expect(f.engine.balance(of: .platform) == expectedPlatform)
            f.expectBalanced()
        }
        #expect(f.listingState(id).status == .settled)
        #expect(f.engine.state.users[borrower.int].borrowedCents == 0)
        #expect(f.engine.state.users[alice.int].receivablePrincipalCents == 0)
        #expect(f.engine.state.users[alice.int].receivableInterestCents == 0)
        #expect(f.engine.state.stats.loansRepaying == 0)
        #expect(f.run(.repay(id, by: borrower)) == .rejected(.badState))
        f.expectReplayMatches()
    }

    @Test func repayNeedsFundsAndTheBorrower() {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower)
        let alice = f.user("alice", deposit: 10_000)
        let id = f.listing(by: borrower, amount: 1_000, term: 1)
        f.bid(alice, id, 100_000)
        f.ok(.disburse(id))
        f.ok(.withdraw(borrower, Money(yuan: 980), ref: nil))
        #expect(f.run(.repay(id, by: borrower)) == .rejected(.insufficientFunds))
        #expect(f.run(.repay(id, by: alice)) == .rejected(.forbidden))
        #expect(f.run(.repay(ListingID(9), by: nil)) == .rejected(.noSuchListing))
        f.expectBalanced()
    }

    @Test func overdueInstallmentCarriesPenalty() {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower, deposit: 1_000)
        let alice = f.user("alice", deposit: 10_000)
        let id = f.listing(by: borrower, amount: 10_000, term: 3)
        f.bid(alice, id, 1_000_000)
        f.ok(.disburse(id))
        let first = f.engine.state.installments[0]
        f.now = first.dueAtMillis - 1  // the tick runs at exactly the due time: not overdue yet
        #expect(f.ok(.tick) == .tick(failedListings: 0, overdueInstallments: 0))
        f.now = first.dueAtMillis + 2 * EngineTime.monthMillis - 10
        // Strictly after: installments 1 and 2 are both overdue now.
        #expect(f.ok(.tick) == .tick(failedListings: 0, overdueInstallments: 2))
        #expect(f.engine.state.installments.map(\.status) == [.overdue, .overdue, .due])
        #expect(f.engine.events.contains { $0.kind == .installmentOverdue })
        f.now = first.dueAtMillis + 10 * EngineTime.dayMillis + 5_000 - 1
        guard case .repayment(let reply) = f.ok(.repay(id, by: nil)) else { return }
        // 10 whole days at 0.05 % a day on principal + interest, rounded half up once.
        let expected = Self.halfUp(Int128(first.principalCents + first.interestCents) * 5 * 10, 10_000)
        #expect(reply.penalty == Money(cents: expected))
        #expect(f.engine.state.installments[0].penaltyCents == expected)
        // The penalty goes to the investor without the interest management fee.
        #expect(f.engine.state.stats.interestPaidCents == first.interestCents + expected)
        // Transfer is refused while the loan is overdue.
        f.ok(.changeSettings(SettingsChange(transferHoldingMillis: 0)))
        #expect(f.run(.sellClaim(ClaimID(1), by: alice, principal: Money(yuan: 100), price: Money(yuan: 100))) == .rejected(.notTransferable))
        f.expectBalanced()
        f.expectReplayMatches()
    }

    @Test func earlyPayoffPaysAccruedInterestAndCancelsTheRest() {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower, deposit: 2_000)
        let alice = f.user("alice", deposit: 10_000)
        let id = f.listing(by: borrower, amount: 10_000, term: 12)
        f.bid(alice, id, 1_000_000)
        f.ok(.disburse(id))
        let disbursedAt = f.listingState(id).endedAtMillis
        f.now = f.engine.state.installments[0].dueAtMillis - 10
        f.ok(.repay(id, by: nil))
        let remaining = f.listingState(id).outstandingPrincipalCents
        // 12 whole days (and a bit) after the first due date.
        f.now = disbursedAt + EngineTime.monthMillis + 12 * EngineTime.dayMillis + 3_600_000 - 1
        guard case .repayment(let reply) = f.ok(.payoff(id, by: borrower)) else { return }
        let accrued = Self.halfUp(Int128(remaining) * 1200 * 12, 120_000 * 30)
        #expect(reply.principal == Money(cents: remaining))
        #expect(reply.interest == Money(cents: accrued))
        #expect(reply.status == .settled)
        #expect(f.engine.state.installments[1...].allSatisfy { $0.status == .cancelled })
        #expect(f.listingState(id).status == .settled)
        #expect(f.engine.state.users[alice.int].receivableInterestCents == 0)
        #expect(f.run(.payoff(id, by: borrower)) == .rejected(.badState))
        f.expectBalanced()
        f.expectReplayMatches()
    }

    @Test func payoffFirstPaysOverdueInstallments() {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower, deposit: 5_000)
        let alice = f.user("alice", deposit: 10_000)
        let id = f.listing(by: borrower, amount: 10_000, term: 6, method: .ep)
        f.bid(alice, id, 1_000_000)
        f.ok(.disburse(id))
        let due1 = f.engine.state.installments[0]
        f.now = due1.dueAtMillis + 3 * EngineTime.dayMillis + 1
        f.ok(.tick)
        guard case .repayment(let reply) = f.ok(.payoff(id, by: nil)) else { return }
        let penalty = Self.halfUp(Int128(due1.principalCents + due1.interestCents) * 5 * 3, 10_000)
        #expect(reply.penalty == Money(cents: penalty))
        #expect(reply.principal == Money(yuan: 10_000))
        // Interest: the overdue installment's plus 3 days accrued on what remained after it.
        let accrued = Self.halfUp(Int128(1_000_000 - due1.principalCents) * 1200 * 3, 120_000 * 30)
        #expect(reply.interest == Money(cents: due1.interestCents + accrued))
        #expect(f.engine.state.installments.map(\.status) == [.paid, .cancelled, .cancelled, .cancelled, .cancelled, .cancelled])
        f.expectBalanced()
    }

    @Test func everyMethodSettles() {
        for method in RepaymentMethod.allCases {
            var f = Fixture()
            let borrower = f.user("b", roles: .borrower, deposit: 5_000)
            let alice = f.user("alice", deposit: 10_000)
            let bob = f.user("bob", deposit: 10_000)
            let id = f.listing(by: borrower, amount: 3_000, rate: 1850, term: 7, method: method)
            f.bid(alice, id, 100_050 + 50 * 0)
            f.bid(bob, id, 500_000)
            f.ok(.disburse(id))
            var guardCount = 0
            while f.listingState(id).status == .repaying && guardCount < 10 {
                f.ok(.repay(id, by: nil))
                guardCount += 1
            }
            #expect(guardCount == (method == .bullet ? 1 : 7), "\(method)")
            #expect(f.listingState(id).status == .settled)
            #expect(f.engine.state.claims.allSatisfy { $0.principalCents == 0 && $0.receivableInterestCents == 0 })
            f.expectBalanced()
        }
    }

    /// A 36-month epi loan with 200 investors repaid to the end, with overdue months and a debt transfer in the
    /// middle: every investor's received total equals an independent computation, and the books balance after
    /// every step.
    @Test func thirtySixMonthsTwoHundredInvestorsWithOverdueAndTransfer() {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower, kind: .company, deposit: 300_000)
        var investors: [UserIndex] = []
        for i in 0..<200 { investors.append(f.user("inv\(i)", deposit: 5_000)) }
        let buyer = f.user("buyer", deposit: 50_000)
        let id = f.listing(by: borrower, amount: 500_000, rate: 1375, term: 36, minBid: 50, step: 50)
        // Uneven bids: 2,000.00 to 3,000.00, the last one takes the rest.
        var bidAmounts: [Int64] = []
        for (i, investor) in investors.enumerated() {
            let amount = i == 199 ? f.listingState(id).remainingCents : Int64(200_000 + (i * 37 % 21) * 5_000)
            let reply = f.bid(investor, id, amount).bidReply
            bidAmounts.append(reply?.amount.cents ?? 0)
        }
        #expect(f.listingState(id).status == .full)
        f.ok(.disburse(id))
        let plan = f.engine.state.installments.map { ($0.principalCents, $0.interestCents, $0.dueAtMillis) }
        #expect(plan.count == 36)

        // The independent model: claims as (holder index, principal), in tie order.
        var claims: [(holder: Int, principal: Int64)] = bidAmounts.enumerated().map { ($0.offset, $0.element) }
        var received = [Int64](repeating: 0, count: 201)  // index 200 = buyer
        var platform = f.engine.balance(of: .platform)
        let overdueMonths: Set<Int> = [4, 5, 17, 30]
        for k in 0..<36 {
            let (principal, interest, due) = plan[k]
            var penalty: Int64 = 0
            if overdueMonths.contains(k) {
                f.now = due + 7 * EngineTime.dayMillis + 123
                f.ok(.tick)
                penalty = Self.halfUp(Int128(principal + interest) * 5 * 7, 10_000)
            } else {
                f.now = max(f.now, due - EngineTime.dayMillis)
            }
            if k == 12 {
                // Investor 3 sells 1,000.00 of principal at 99 %; the buyer takes 600.00 of it.
                f.ok(.changeSettings(SettingsChange(transferHoldingMillis: 400 * EngineTime.dayMillis)))
                let holder = investors[3]
                let before = claims[3].principal
                #expect(f.run(.sellClaim(ClaimID(4), by: holder, principal: Money(yuan: 1_000), price: Money(yuan: 990))) == .rejected(.notTransferable))
                f.ok(.changeSettings(SettingsChange(transferHoldingMillis: 30 * EngineTime.dayMillis)))
                #expect(f.run(.sellClaim(ClaimID(4), by: holder, principal: Money(yuan: 1_000), price: Money(yuan: 700))) == .rejected(.badPrice))
                #expect(f.run(.sellClaim(ClaimID(4), by: investors[4], principal: Money(yuan: 1_000), price: Money(yuan: 990))) == .rejected(.forbidden))
                #expect(f.run(.sellClaim(ClaimID(4), by: holder, principal: Money(cents: before + 1), price: Money(cents: before))) == .rejected(.notTransferable))
                guard case .offer(let offer, _, _, _) = f.ok(.sellClaim(ClaimID(4), by: holder, principal: Money(yuan: 1_000), price: Money(yuan: 990)))
                else { return }
                #expect(f.run(.buyOffer(offer, buyer: holder, principal: Money(yuan: 100))) == .rejected(.ownOffer))
                #expect(f.run(.buyOffer(offer, buyer: buyer, principal: Money(yuan: 1_001))) == .rejected(.badAmount))
                guard case .bought(_, let newClaim, _, let paid) = f.ok(.buyOffer(offer, buyer: buyer, principal: Money(yuan: 600))) else { return }
                #expect(paid == Money(yuan: 594))
                #expect(newClaim == ClaimID(201))
                let fee = Self.halfUp(Int128(59_400) * 50, 10_000)  // 0.50 % of the price
                received[3] += 59_400 - fee
                received[200] -= 59_400
                platform += fee
                claims[3].principal -= 60_000
                claims.append((200, 60_000))
                #expect(f.engine.state.offers[offer.index].remainingCents == 40_000)
                f.expectBalanced()
            }
            guard case .repayment(let reply) = f.ok(.repay(id, by: borrower)) else { return }
            #expect(reply.penalty == Money(cents: penalty), "month \(k + 1)")
            let weights = claims.map(\.principal)
            let interestShares = Self.split(interest, weights)
            let penaltyShares = Self.split(penalty, weights)
            let principalShares = Self.split(principal, weights)
            for (c, claim) in claims.enumerated() {
                let fee = Self.halfUp(Int128(interestShares[c]) * 1000, 10_000)
                received[claim.holder] += interestShares[c] - fee + penaltyShares[c] + principalShares[c]
                platform += fee
                claims[c].principal -= principalShares[c]
            }
            if k == 12 {
                // The repayment withdrew the rest of the open offer.
                #expect(f.engine.state.offers[0].status == .withdrawn)
                #expect(f.engine.state.claims[3].offeredCents == 0)
            }
            f.expectBalanced()
        }
        #expect(f.listingState(id).status == .settled)
        for (i, investor) in investors.enumerated() {
            #expect(f.available(investor) == 500_000 - bidAmounts[i] + received[i], "investor \(i)")
        }
        #expect(f.available(buyer) == 5_000_000 + received[200])
        #expect(f.engine.balance(of: .platform) == platform)
        #expect(claims.allSatisfy { $0.principal == 0 })
        f.expectReplayMatches()
    }

    @Test func transferRules() {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower, deposit: 1_000)
        let alice = f.user("alice", deposit: 10_000)
        let bob = f.user("bob", deposit: 10_000)
        let id = f.listing(by: borrower, amount: 1_000, term: 6)
        f.bid(alice, id, 100_000)
        #expect(f.run(.sellClaim(ClaimID(1), by: alice, principal: Money(yuan: 100), price: Money(yuan: 100))) == .rejected(.noSuchClaim))
        f.ok(.disburse(id))
        // Holding period (30 days by default) not reached.
        #expect(f.run(.sellClaim(ClaimID(1), by: alice, principal: Money(yuan: 100), price: Money(yuan: 100))) == .rejected(.notTransferable))
        f.now += 30 * EngineTime.dayMillis
        f.ok(.repay(id, by: nil))
        // Price bounds are inclusive: 80 % and 105 %.
        #expect(f.run(.sellClaim(ClaimID(1), by: alice, principal: Money(yuan: 100), price: Money(cents: 7_999))) == .rejected(.badPrice))
        #expect(f.run(.sellClaim(ClaimID(1), by: alice, principal: Money(yuan: 100), price: Money(cents: 10_501))) == .rejected(.badPrice))
        guard case .offer(let low, _, _, _) = f.ok(.sellClaim(ClaimID(1), by: alice, principal: Money(yuan: 100), price: Money(yuan: 80))) else { return }
        guard case .offer(let high, _, _, _) = f.ok(.sellClaim(ClaimID(1), by: alice, principal: Money(yuan: 100), price: Money(yuan: 105))) else { return }
        #expect(f.ok(.withdrawOffer(high, by: alice)) == .offerWithdrawn(high))
        #expect(f.run(.withdrawOffer(high, by: alice)) == .rejected(.offerNotOpen))
        #expect(f.run(.buyOffer(high, buyer: bob, principal: Money(yuan: 10))) == .rejected(.offerNotOpen))
        #expect(f.run(.withdrawOffer(low, by: bob)) == .rejected(.forbidden))
        #expect(f.run(.buyOffer(OfferID(9), buyer: bob, principal: Money(yuan: 10))) == .rejected(.noSuchOffer))
        // Buy all of it: the offer is sold; the buyer receives later installments.
        #expect(f.ok(.buyOffer(low, buyer: bob, principal: Money(yuan: 100))) == .bought(low, claim: ClaimID(2), principal: Money(yuan: 100), paid: Money(yuan: 80)))
        #expect(f.engine.state.offers[low.index].status == .sold)
        #expect(f.run(.buyOffer(low, buyer: bob, principal: Money(yuan: 1))) == .rejected(.offerNotOpen))
        #expect(f.engine.state.users[bob.int].receivablePrincipalCents == 10_000)
        let bobBefore = f.available(bob)
        f.ok(.repay(id, by: nil))
        #expect(f.available(bob) > bobBefore)
        f.expectBalanced()
        f.expectReplayMatches()
    }

    @Test func feeChangesApplyToLaterOffers() {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower, deposit: 1_000)
        let alice = f.user("alice", deposit: 10_000)
        let bob = f.user("bob", deposit: 10_000)
        let id = f.listing(by: borrower, amount: 1_000, term: 6)
        f.bid(alice, id, 100_000)
        f.ok(.disburse(id))
        f.ok(.changeSettings(SettingsChange(transferHoldingMillis: 0)))
        guard case .offer(let early, _, _, _) = f.ok(.sellClaim(ClaimID(1), by: alice, principal: Money(yuan: 100), price: Money(yuan: 100))) else { return }
        f.ok(.changeSettings(SettingsChange(transferFee: BasisPoints(percent: 10))))
        guard case .offer(let late, _, _, _) = f.ok(.sellClaim(ClaimID(1), by: alice, principal: Money(yuan: 100), price: Money(yuan: 100))) else { return }
        let platform0 = f.engine.balance(of: .platform)
        f.ok(.buyOffer(early, buyer: bob, principal: Money(yuan: 100)))
        #expect(f.engine.balance(of: .platform) - platform0 == 50)  // 0.50 % of 100.00
        f.ok(.buyOffer(late, buyer: bob, principal: Money(yuan: 100)))
        #expect(f.engine.balance(of: .platform) - platform0 == 50 + 1_000)  // 10 % of 100.00
        f.expectBalanced()
    }

    @Test func statsAreMaintainedIncrementally() {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower, deposit: 1_000)
        let alice = f.user("alice", deposit: 10_000)
        let id = f.listing(by: borrower, amount: 1_000, term: 1)
        _ = f.listing(by: borrower, amount: 1_000)
        f.bid(alice, id, 100_000)
        #expect(f.engine.state.stats.listingsOpen == 1)
        #expect(f.engine.state.stats.frozenCents == 100_000)
        f.ok(.disburse(id))
        #expect(f.engine.state.stats.loansRepaying == 1)
        f.ok(.repay(id, by: nil))
        #expect(f.engine.state.stats.disbursedCents == 100_000)
        #expect(f.engine.state.stats.interestPaidCents == 1_000)
        #expect(f.engine.state.stats.loansRepaying == 0)
        #expect(f.engine.state.stats.users == 2)
    }
}
