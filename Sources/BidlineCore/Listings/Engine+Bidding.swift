extension Engine {
    /// Newcomer-only listings (新手标) take at most this much from one investor.
    public static let newcomerLimit = Money(yuan: 10_000)

    /// Places a manual bid, checking the rules of domain.md in their numbered order; the first failing rule's
    /// code is the reply. Accepted money moves from available to frozen; the filling bid turns the listing
    /// `full` in the same step and emits `loan.full`. No allocation for a bid without `ref=` (beyond the
    /// amortized growth of the bid and ledger chunks).
    mutating func placeBid(_ request: BidRequest, at atMillis: Int64) -> Outcome {
        let investor = request.investor
        let amount = request.amount.cents
        guard amount > 0, amount <= Money.maxAmountCents else { return .rejected(.badAmount) }
        guard userExists(investor) else { return .rejected(.noSuchUser) }
        guard listingExists(request.listing) else { return .rejected(.noSuchListing) }
        if let ref = request.ref,
            let seen = lookUpRef(
                investor, ref, kind: .bid, listing: request.listing.number, amount: request.amount,
                allOrNone: request.allOrNone)
        {
            return seen
        }
        let user = state.accounts[investor.int]
        let listingIndex = request.listing.index
        let listing = state.listings[listingIndex]
        guard user.roles.contains(.investor) else { return .rejected(.forbidden) }

        // 1. Verified, not blacklisted, not the borrower.
        guard user.verified else { return .rejected(.notVerified) }
        guard !user.blacklisted else { return .rejected(.blacklisted) }
        guard listing.borrower != investor else { return .rejected(.ownListing) }
        // 2. Open, window not passed (a bid at exactly the end is accepted).
        guard listing.status == .open, atMillis <= listing.closesAtMillis else { return .rejected(.listingNotOpen) }
        // 3. Risk suitability.
        guard user.riskLevel >= listing.terms.grade.requiredRiskLevel else { return .rejected(.riskLevelTooLow) }
        // 4. Newcomer-only listings.
        if listing.terms.newcomerOnly && !user.newcomer { return .rejected(.newcomerOnly) }
        // 5. Amount: minimum, step, trimming, all-or-none.
        let remaining = listing.remainingCents
        let accepted: Int64
        if amount >= remaining {
            if request.allOrNone && amount > remaining { return .rejected(.aonNotFillable) }
            accepted = remaining
        } else {
            let minBid = listing.terms.minBid.cents
            guard amount >= minBid else { return .rejected(.belowMinBid) }
            guard (amount - minBid) % listing.terms.step.cents == 0 else { return .rejected(.notStepMultiple) }
            accepted = amount
        }
        // 6. Per-investor cap (and the newcomer limit, on accepted amounts).
        if listing.terms.newcomerOnly && accepted > Self.newcomerLimit.cents { return .rejected(.overInvestorCap) }
        if let cap = listing.terms.cap {
            let earlier = capTotals[Self.capKey(request.listing.number, investor)] ?? 0
            guard earlier + accepted <= cap.cents else { return .rejected(.overInvestorCap) }
        }
        // 7. Balance.
        guard user.availableCents >= accepted else { return .rejected(.insufficientFunds) }

        let reply = acceptBid(
            investor: investor, listingIndex: listingIndex, cents: accepted, source: .manual, at: atMillis)
        if let ref = request.ref {
            remember(
                investor, ref, kind: .bid, listing: request.listing.number, amount: request.amount,
                allOrNone: request.allOrNone, reply: .bid(reply))
        }
        return .applied(.bid(reply))
    }

    /// Records an accepted bid of `cents` (already checked against every rule): freezes the money, links the bid
    /// into its listing, and detects 满标.
    @inline(__always)
    mutating func acceptBid(
        investor: UserIndex, listingIndex: Int, cents: Int64, source: BidSource, at atMillis: Int64
    ) -> BidReply {
        let bidIndex = UInt32(state.bids.count)
        precondition(bidIndex < LedgerEntry.none, "bid index space exhausted")
        let listingID = ListingID(UInt32(listingIndex + 1))
        var bid = Bid(
            investor: investor, listing: listingID, source: source, amountCents: cents, entry: UInt32(state.entries.count))
        bid.prevInListing = state.listings[listingIndex].lastBid
        state.bids.append(bid)
        post(.bid, from: .available(investor), to: .frozen(investor), cents: cents, at: atMillis)
        state.accounts[investor.int].newcomer = false
        state.stats.frozenCents += cents
        state.stats.bidsAccepted += 1

        var listing = state.listings[listingIndex]
        listing.lastBid = bidIndex
        listing.bidCount += 1
        listing.raisedCents += cents
        if source == .auto { listing.autoRaisedCents += cents }
        precondition(listing.raisedCents <= listing.terms.amount.cents, "listing raised more than its amount")
        if listing.terms.cap != nil {
            capTotals[Self.capKey(listingID.number, investor), default: 0] += cents
        }
        let full = listing.raisedCents == listing.terms.amount.cents
        if full {
            listing.status = .full
            listing.fullAtMillis = atMillis
            state.stats.listingsOpen -= 1
            openListingIndexes.remove(UInt32(listingIndex))
        }
        state.listings[listingIndex] = listing
        recordAccountChange(investor, listing: listingID, change: -cents, at: atMillis)
        if full {
            events.append(
                Event(kind: .listingFull, listing: listingID, user: listing.borrower, amountCents: listing.raisedCents, atMillis: atMillis))
        }
        return BidReply(
            bid: BidID(bidIndex + 1), listing: listingID, amount: Money(cents: cents),
            remaining: Money(cents: listing.remainingCents), full: full)
    }
}
