/// Engine time constants.
public enum EngineTime {
    public static let dayMillis: Int64 = 86_400_000
    /// A month is 30 days of engine time (domain.md "Precise rules").
    public static let monthMillis: Int64 = 30 * dayMillis
}

extension Engine {
    /// `LOAN.NEW`: validates the terms and the borrowing cap, and creates a `pending` listing.
    mutating func submitListing(_ borrower: UserIndex, _ terms: ListingTerms, at atMillis: Int64) -> Outcome {
        guard userExists(borrower) else { return .rejected(.noSuchUser) }
        let user = state.users[borrower.int]
        let account = state.accounts[borrower.int]
        guard account.roles.contains(.borrower) else { return .rejected(.forbidden) }
        guard ListingTerms.amountRange.contains(terms.amount) else { return .rejected(.badAmount) }
        guard terms.minBid.cents > 0, terms.step.cents > 0, terms.minBid <= terms.amount,
            terms.minBid.cents <= Money.maxAmountCents, terms.step.cents <= Money.maxAmountCents
        else { return .rejected(.badAmount) }
        if let cap = terms.cap, cap < terms.minBid || cap.cents > Money.maxAmountCents { return .rejected(.badAmount) }
        guard terms.rate.value >= 0, terms.rate <= ListingTerms.maxRate, (1...36).contains(terms.termMonths),
            ListingTerms.windowRange.contains(terms.windowMillis)
        else { return .rejected(.badArgument) }
        guard account.verified else { return .rejected(.notVerified) }
        guard !account.blacklisted else { return .rejected(.blacklisted) }
        guard user.borrowedCents + user.pendingBorrowCents + terms.amount.cents <= user.kind.borrowCap.cents else {
            return .rejected(.borrowCapExceeded)
        }
        guard state.listings.count < Int(UInt32.max - 1) else { return .rejected(.limitReached) }
        state.listings.append(Listing(borrower: borrower, terms: terms, createdAtMillis: atMillis))
        state.users[borrower.int].pendingBorrowCents += terms.amount.cents
        return .applied(.listing(ListingID(UInt32(state.listings.count)), .pending))
    }

    /// `LOAN.APPROVE`: pending → open. Captures the fee rates, starts the bidding window and runs auto-bid.
    mutating func approve(_ id: ListingID, at atMillis: Int64) -> Outcome {
        guard listingExists(id) else { return .rejected(.noSuchListing) }
        guard state.listings[id.index].status == .pending else { return .rejected(.badState) }
        let settings = state.settings
        var listing = state.listings[id.index]
        listing.status = .open
        listing.approvedAtMillis = atMillis
        listing.closesAtMillis = atMillis + listing.terms.windowMillis
        listing.serviceFee = settings.serviceFee
        listing.interestFee = settings.interestFee
        listing.penaltyRate = settings.penaltyRate
        state.listings[id.index] = listing
        state.stats.listingsOpen += 1
        openListingIndexes.insert(UInt32(id.index))
        closing.insert(Deadline(atMillis: listing.closesAtMillis, listing: id.number))
        events.append(Event(kind: .listingOpened, listing: id, user: listing.borrower, amountCents: listing.terms.amount.cents, atMillis: atMillis))
        let autoBids = runAutoBid(listingIndex: id.index, at: atMillis)
        return .applied(.approved(id, state.listings[id.index].status, autoBids: autoBids))
    }

    /// `LOAN.REJECT`: pending → failed.
    mutating func reject(_ id: ListingID, at atMillis: Int64) -> Outcome {
        guard listingExists(id) else { return .rejected(.noSuchListing) }
        guard state.listings[id.index].status == .pending else { return .rejected(.badState) }
        fail(listingIndex: id.index, at: atMillis)
        return .applied(.listing(id, .failed))
    }

    /// `LOAN.CANCEL`: pending, open or full → failed; every bid is refunded.
    mutating func cancel(_ id: ListingID, at atMillis: Int64) -> Outcome {
        guard listingExists(id) else { return .rejected(.noSuchListing) }
        guard state.listings[id.index].status.countsAgainstCap else { return .rejected(.badState) }
        fail(listingIndex: id.index, at: atMillis)
        return .applied(.listing(id, .failed))
    }

    /// 流标: refunds every bid (frozen → available) and releases the borrowing cap.
    mutating func fail(listingIndex: Int, at atMillis: Int64) {
        let listing = state.listings[listingIndex]
        let id = ListingID(UInt32(listingIndex + 1))
        precondition(listing.status.countsAgainstCap, "failing a listing that is not pending, open or full")
        var cursor = listing.lastBid
        while cursor != LedgerEntry.none {
            let bid = state.bids[Int(cursor)]
            post(.refund, from: .frozen(bid.investor), to: .available(bid.investor), cents: bid.amountCents, at: atMillis)
            state.stats.frozenCents -= bid.amountCents
            if listing.terms.cap != nil { capTotals[Self.capKey(id.number, bid.investor)] = nil }
            recordAccountChange(bid.investor, listing: id, change: bid.amountCents, at: atMillis)
            cursor = bid.prevInListing
        }
        if listing.status == .open {
            state.stats.listingsOpen -= 1
            openListingIndexes.remove(UInt32(listingIndex))
        }
        state.users[listing.borrower.int].pendingBorrowCents -= listing.terms.amount.cents
        state.listings[listingIndex].status = .failed
        state.listings[listingIndex].endedAtMillis = atMillis
        events.append(Event(kind: .listingFailed, listing: id, user: listing.borrower, amountCents: listing.raisedCents, atMillis: atMillis))
    }

    /// Processes every deadline strictly before `atMillis`: open listings whose window has passed fail (流标),
    /// and installments past their due time become overdue (逾期).
    mutating func tick(at atMillis: Int64) -> Outcome {
        var failed: UInt32 = 0
        while let next = closing.min, next.atMillis < atMillis {
            closing.removeMin()
            let index = Int(next.listing) - 1
            let listing = state.listings[index]
            guard listing.status == .open, listing.closesAtMillis == next.atMillis else { continue }
            fail(listingIndex: index, at: atMillis)
            failed += 1
        }
        let overdue = markOverdue(at: atMillis)
        return .applied(.tick(failedListings: failed, overdueInstallments: overdue))
    }
}
