extension Engine {
    /// `LOAN.DISBURSE` (放款): full → repaying. Each bid's frozen money goes to the borrower, the service fee
    /// (captured at approval) goes to `platform`, each bid becomes a claim, the plan is generated, and
    /// receivables and the borrower's outstanding principal rise.
    mutating func disburse(_ id: ListingID, at atMillis: Int64) -> Outcome {
        guard listingExists(id) else { return .rejected(.noSuchListing) }
        let listing = state.listings[id.index]
        guard listing.status == .full else { return .rejected(.badState) }
        let amount = listing.terms.amount.cents
        let fee = listing.terms.amount.percentage(listing.serviceFee).cents
        guard fee <= amount else { return .rejected(.badState) }
        let borrower = listing.borrower
        let plan = RepaymentPlan.installments(
            principalCents: amount, rate: listing.terms.rate, termMonths: Int(listing.terms.termMonths),
            method: listing.terms.method)

        // Money: every bid to the borrower, then the service fee.
        let firstClaim = UInt32(state.claims.count)
        var claimCount: UInt32 = 0
        let bidIndexes = bidIndexes(of: id)
        for (position, cursor) in bidIndexes.enumerated() {
            let bid = state.bids[Int(cursor)]
            post(.disburse, from: .frozen(bid.investor), to: .available(borrower), cents: bid.amountCents, at: atMillis)
            state.stats.frozenCents -= bid.amountCents
            var claim = Claim(
                listing: id, holder: bid.investor, bid: BidID(cursor + 1), principalCents: bid.amountCents,
                receivableInterestCents: 0, acquiredAtMillis: atMillis)
            if position + 1 < bidIndexes.count { claim.nextInListing = UInt32(state.claims.count) + 1 }
            state.claims.append(claim)
            indexClaim(UInt32(state.claims.count - 1))
            state.users[bid.investor.int].receivablePrincipalCents += bid.amountCents
            recordAccountChange(bid.investor, listing: id, change: 0, at: atMillis)
            claimCount += 1
        }
        if fee > 0 { post(.serviceFee, from: .available(borrower), to: .platform, cents: fee, at: atMillis) }

        // The plan, and each claim's share of its interest (simulated with the same splits repayments use).
        let firstInstallment = UInt32(state.installments.count)
        let stride = plan.count == Int(listing.terms.termMonths) ? 1 : Int(listing.terms.termMonths)
        for (k, planned) in plan.enumerated() {
            state.installments.append(
                Installment(
                    dueAtMillis: atMillis + Int64((k + 1) * stride) * EngineTime.monthMillis,
                    principalCents: planned.principalCents, interestCents: planned.interestCents))
        }
        loadClaimWeights(first: firstClaim)
        var principalLeft = splitWeights
        var interestTotals = [Int64](repeating: 0, count: splitWeights.count)
        for planned in plan {
            RepaymentPlan.splitLargestRemainder(totalCents: planned.interestCents, weights: principalLeft, into: &splitShares)
            for i in interestTotals.indices { interestTotals[i] += splitShares[i] }
            RepaymentPlan.splitLargestRemainder(totalCents: planned.principalCents, weights: principalLeft, into: &splitShares)
            for i in principalLeft.indices { principalLeft[i] -= splitShares[i] }
        }
        for (i, claimIndex) in splitClaims.enumerated() {
            state.claims[Int(claimIndex)].receivableInterestCents = interestTotals[i]
            state.users[state.claims[Int(claimIndex)].holder.int].receivableInterestCents += interestTotals[i]
        }

        var updated = state.listings[id.index]
        updated.status = .repaying
        updated.endedAtMillis = atMillis
        updated.firstClaim = claimCount > 0 ? firstClaim : LedgerEntry.none
        updated.lastClaim = claimCount > 0 ? firstClaim + claimCount - 1 : LedgerEntry.none
        updated.claimCount = claimCount
        updated.firstInstallment = firstInstallment
        updated.nextInstallment = 0
        updated.outstandingPrincipalCents = amount
        state.listings[id.index] = updated
        state.users[borrower.int].pendingBorrowCents -= amount
        state.users[borrower.int].borrowedCents += amount
        state.stats.disbursedCents += amount
        state.stats.loansRepaying += 1
        dues.insert(Deadline(atMillis: state.installments[Int(firstInstallment)].dueAtMillis, listing: id.number))
        events.append(Event(kind: .listingRepaying, listing: id, user: borrower, amountCents: amount, atMillis: atMillis))
        recordAccountChange(borrower, listing: id, change: amount - fee, at: atMillis)
        return .applied(.listing(id, .repaying))
    }

    /// Loads the claims of a listing chain (starting at `first`) into `splitClaims` and their current
    /// principal into `splitWeights`, in tie order (creation order).
    mutating func loadClaimWeights(first: UInt32) {
        splitClaims.removeAll(keepingCapacity: true)
        splitWeights.removeAll(keepingCapacity: true)
        var cursor = first
        while cursor != LedgerEntry.none {
            let claim = state.claims[Int(cursor)]
            splitClaims.append(cursor)
            splitWeights.append(claim.principalCents)
            cursor = claim.nextInListing
        }
    }

    /// Penalty interest (罚息) owed on `installment` if paid at `atMillis`: per whole day past its due time, on
    /// its principal + interest.
    func penaltyCents(_ installment: Installment, rate: BasisPoints, at atMillis: Int64) -> Int64 {
        guard atMillis > installment.dueAtMillis else { return 0 }
        let days = (atMillis - installment.dueAtMillis) / EngineTime.dayMillis
        return RepaymentPlan.penalty(
            overdueCents: installment.principalCents + installment.interestCents, ratePerDay: rate, days: days)
    }

    /// `LOAN.REPAY`: pays the oldest unpaid installment with its penalty from the borrower's available balance.
    mutating func repay(_ id: ListingID, by actor: UserIndex?, at atMillis: Int64) -> Outcome {
        guard listingExists(id) else { return .rejected(.noSuchListing) }
        let listing = state.listings[id.index]
        if let actor, actor != listing.borrower { return .rejected(.forbidden) }
        guard listing.status == .repaying else { return .rejected(.badState) }
        let k = Int(listing.firstInstallment) + Int(listing.nextInstallment)
        let installment = state.installments[k]
        let penalty = penaltyCents(installment, rate: listing.penaltyRate, at: atMillis)
        let total = installment.principalCents + installment.interestCents + penalty
        guard state.accounts[listing.borrower.int].availableCents >= total else { return .rejected(.insufficientFunds) }

        withdrawOpenOffers(listingIndex: id.index)
        payInstallment(listingIndex: id.index, installment: k, penalty: penalty, at: atMillis)
        let after = state.listings[id.index]
        return .applied(
            .repayment(
                RepaymentReply(
                    listing: id, installment: listing.nextInstallment + 1,
                    principal: Money(cents: installment.principalCents), interest: Money(cents: installment.interestCents),
                    penalty: Money(cents: penalty), status: after.status)))
    }

    /// Pays installment `k` (absolute index) with `penalty`: splits principal, interest and penalty among the
    /// claims, takes the interest management fee, and settles the loan after the last installment.
    mutating func payInstallment(listingIndex: Int, installment k: Int, penalty: Int64, at atMillis: Int64) {
        let wasUnmarked = state.installments[k].status == .due
        let installment = state.installments[k]
        distribute(
            listingIndex: listingIndex, principal: installment.principalCents, interest: installment.interestCents,
            penalty: penalty, at: atMillis)
        state.installments[k].status = .paid
        state.installments[k].penaltyCents = penalty
        state.installments[k].paidAtMillis = atMillis
        let id = ListingID(UInt32(listingIndex + 1))
        state.listings[listingIndex].nextInstallment += 1
        let listing = state.listings[listingIndex]
        events.append(
            Event(
                kind: .repayment, listing: id, user: listing.borrower,
                amountCents: installment.principalCents + installment.interestCents + penalty, atMillis: atMillis,
                installment: listing.nextInstallment))
        if isLastInstallment(listingIndex: listingIndex, k) {
            settle(listingIndex: listingIndex, at: atMillis)
        } else if wasUnmarked {
            dues.insert(Deadline(atMillis: state.installments[k + 1].dueAtMillis, listing: id.number))
        }
    }

    /// Whether absolute installment index `k` is the last of the listing's plan.
    func isLastInstallment(listingIndex: Int, _ k: Int) -> Bool {
        let listing = state.listings[listingIndex]
        let count = planCount(listing)
        return k == Int(listing.firstInstallment) + count - 1
    }

    /// Number of installments in a listing's plan (one for a bullet loan with a non-zero rate).
    func planCount(_ listing: Listing) -> Int {
        listing.terms.method == .bullet && listing.terms.rate.value != 0 ? 1 : Int(listing.terms.termMonths)
    }

    /// Moves `principal`, `interest` and `penalty` from the borrower to the claim holders, each split by the
    /// largest-remainder method over the claims' principal (ties to the earlier claim), and the interest
    /// management fee from each holder to `platform`.
    mutating func distribute(listingIndex: Int, principal: Int64, interest: Int64, penalty: Int64, at atMillis: Int64) {
        let listing = state.listings[listingIndex]
        let borrower = listing.borrower
        let id = ListingID(UInt32(listingIndex + 1))
        loadClaimWeights(first: listing.firstClaim)
        // Interest and penalty first (weights = principal before this payment), then principal.
        for (kind, total) in [(EntryKind.repayInterest, interest), (.repayPenalty, penalty), (.repayPrincipal, principal)] {
            guard total > 0 else { continue }
            RepaymentPlan.splitLargestRemainder(totalCents: total, weights: splitWeights, into: &splitShares)
            for (i, claimIndex) in splitClaims.enumerated() {
                let share = splitShares[i]
                guard share > 0 else { continue }
                let holder = state.claims[Int(claimIndex)].holder
                post(kind, from: .available(borrower), to: .available(holder), cents: share, at: atMillis)
                switch kind {
                case .repayInterest:
                    let fee = Money(cents: share).percentage(listing.interestFee).cents
                    if fee > 0 { post(.interestFee, from: .available(holder), to: .platform, cents: fee, at: atMillis) }
                    let owed = state.claims[Int(claimIndex)].receivableInterestCents
                    let reduce = min(owed, share)
                    state.claims[Int(claimIndex)].receivableInterestCents -= reduce
                    state.users[holder.int].receivableInterestCents -= reduce
                case .repayPrincipal:
                    state.claims[Int(claimIndex)].principalCents -= share
                    state.users[holder.int].receivablePrincipalCents -= share
                default:
                    break
                }
                recordAccountChange(holder, listing: id, change: share, at: atMillis)
            }
        }
        state.listings[listingIndex].outstandingPrincipalCents -= principal
        state.users[borrower.int].borrowedCents -= principal
        state.stats.interestPaidCents += interest + penalty
        recordAccountChange(borrower, listing: id, change: -(principal + interest + penalty), at: atMillis)
    }

    /// repaying → settled (结清): clears what is left of the claims' receivable interest.
    mutating func settle(listingIndex: Int, at atMillis: Int64) {
        let listing = state.listings[listingIndex]
        precondition(listing.outstandingPrincipalCents == 0, "settling a loan with principal outstanding")
        var cursor = listing.firstClaim
        while cursor != LedgerEntry.none {
            let claim = state.claims[Int(cursor)]
            state.users[claim.holder.int].receivableInterestCents -= claim.receivableInterestCents
            state.claims[Int(cursor)].receivableInterestCents = 0
            cursor = claim.nextInListing
        }
        state.listings[listingIndex].status = .settled
        state.listings[listingIndex].endedAtMillis = atMillis
        state.stats.loansRepaying -= 1
        events.append(Event(kind: .listingSettled, listing: ListingID(UInt32(listingIndex + 1)), user: listing.borrower, atMillis: atMillis))
    }

    /// `LOAN.PAYOFF` (提前还款): pays overdue installments with their penalties, then the remaining principal plus
    /// interest on it for the whole days elapsed in the current period; later installments are cancelled.
    mutating func payoff(_ id: ListingID, by actor: UserIndex?, at atMillis: Int64) -> Outcome {
        guard listingExists(id) else { return .rejected(.noSuchListing) }
        let listing = state.listings[id.index]
        if let actor, actor != listing.borrower { return .rejected(.forbidden) }
        guard listing.status == .repaying else { return .rejected(.badState) }
        let first = Int(listing.firstInstallment)
        let count = planCount(listing)
        // Overdue installments first (status overdue, or past due and not yet marked by a tick).
        var k = first + Int(listing.nextInstallment)
        var overdueTotal: Int64 = 0
        var penalties: [Int64] = []
        while k < first + count, state.installments[k].dueAtMillis < atMillis {
            let installment = state.installments[k]
            let penalty = penaltyCents(installment, rate: listing.penaltyRate, at: atMillis)
            penalties.append(penalty)
            overdueTotal += installment.principalCents + installment.interestCents + penalty
            k += 1
        }
        let overduePrincipal = (first + Int(listing.nextInstallment)..<k).reduce(Int64(0)) { $0 + state.installments[$1].principalCents }
        let remaining = listing.outstandingPrincipalCents - overduePrincipal
        let periodStart = k == first ? listing.endedAtMillis : state.installments[k - 1].dueAtMillis
        let days = max(0, (atMillis - periodStart) / EngineTime.dayMillis)
        let accrued = k < first + count
            ? RepaymentPlan.accruedInterest(principalCents: remaining, rate: listing.terms.rate, days: days) : 0
        guard state.accounts[listing.borrower.int].availableCents >= overdueTotal + remaining + accrued else {
            return .rejected(.insufficientFunds)
        }
        withdrawOpenOffers(listingIndex: id.index)
        var principalPaid: Int64 = 0
        var interestPaid: Int64 = 0
        var penaltyPaid: Int64 = 0
        for (offset, penalty) in penalties.enumerated() {
            let index = first + Int(listing.nextInstallment) + offset
            principalPaid += state.installments[index].principalCents
            interestPaid += state.installments[index].interestCents
            penaltyPaid += penalty
            payInstallment(listingIndex: id.index, installment: index, penalty: penalty, at: atMillis)
        }
        if state.listings[id.index].status == .repaying {
            // Cancel the rest of the plan and pay the principal with the accrued interest.
            for index in k..<(first + count) { state.installments[index].status = .cancelled }
            distribute(listingIndex: id.index, principal: remaining, interest: accrued, penalty: 0, at: atMillis)
            principalPaid += remaining
            interestPaid += accrued
            state.listings[id.index].nextInstallment = UInt8(count)
            events.append(
                Event(kind: .repayment, listing: id, user: listing.borrower, amountCents: remaining + accrued, atMillis: atMillis,
                      installment: UInt8(count)))
            settle(listingIndex: id.index, at: atMillis)
        }
        return .applied(
            .repayment(
                RepaymentReply(
                    listing: id, installment: UInt8(count), principal: Money(cents: principalPaid),
                    interest: Money(cents: interestPaid), penalty: Money(cents: penaltyPaid), status: .settled)))
    }

    /// Marks unpaid installments whose due time is strictly before `atMillis` as overdue (逾期).
    mutating func markOverdue(at atMillis: Int64) -> UInt32 {
        var marked: UInt32 = 0
        while let next = dues.min, next.atMillis < atMillis {
            dues.removeMin()
            let index = Int(next.listing) - 1
            let listing = state.listings[index]
            guard listing.status == .repaying else { continue }
            // The first installment not yet marked or paid.
            let first = Int(listing.firstInstallment)
            var k = first + Int(listing.nextInstallment)
            let end = first + planCount(listing)
            while k < end, state.installments[k].status != .due { k += 1 }
            guard k < end, state.installments[k].dueAtMillis == next.atMillis else { continue }
            state.installments[k].status = .overdue
            marked += 1
            events.append(
                Event(kind: .installmentOverdue, listing: ListingID(next.listing), user: listing.borrower,
                      amountCents: state.installments[k].principalCents + state.installments[k].interestCents,
                      atMillis: atMillis, installment: UInt8(k - first + 1)))
            if k + 1 < end { dues.insert(Deadline(atMillis: state.installments[k + 1].dueAtMillis, listing: next.listing)) }
        }
        return marked
    }

    /// True when the loan has an unpaid installment past its due time.
    func isOverdue(listingIndex: Int, at atMillis: Int64) -> Bool {
        let listing = state.listings[listingIndex]
        guard listing.status == .repaying else { return false }
        let k = Int(listing.firstInstallment) + Int(listing.nextInstallment)
        let installment = state.installments[k]
        return installment.status == .overdue || installment.dueAtMillis < atMillis
    }
}
