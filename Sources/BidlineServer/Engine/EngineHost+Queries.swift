import BidlineCore
import BidlineProtocol

extension EngineHost {
    /// The `LOAN.GET` keys of one listing (without `OK` and newline).
    func describeListing(_ id: ListingID, _ listing: Listing) {
        replies.field("listing", id)
        replies.field("borrower", engine.state.users[listing.borrower.int].id)
        replies.field("amount", listing.terms.amount)
        replies.field("raised", cents: listing.raisedCents)
        replies.field("remaining", cents: listing.remainingCents)
        replies.field("rate", percent: listing.terms.rate)
        replies.field("term", Int64(listing.terms.termMonths))
        replies.field("method", listing.terms.method.wireText)
        replies.field("grade", listing.terms.grade.wireText)
        replies.field("type", listing.terms.type.wireText)
        replies.field("status", listing.status.wireText)
        replies.field("min", listing.terms.minBid)
        replies.field("step", listing.terms.step)
        if let cap = listing.terms.cap { replies.field("cap", cap) } else { replies.field("cap", "none") }
        replies.field("newcomer", listing.terms.newcomerOnly)
        replies.field("approved", listing.approvedAtMillis)
        replies.field("closes", listing.closesAtMillis)
        replies.field("bids", Int64(listing.bidCount))
    }

    /// One scan of the listings (the open ones for `status=open`) that keeps only the page: the first `limit` matches after `after=` in the
    /// requested order, in a sorted buffer of at most `limit` entries (no sort of every match, no allocation per
    /// listing). `after=` continues after that listing's place in the order whether or not it still matches the
    /// filters (a listing that closed between two pages does not restart the paging). In id order (`sort=time`,
    /// `-time`) over all listings or a status other than `open`, it walks the book from the cursor and stops at a
    /// full page.
    func listListings(_ query: ListingQuery) {
        let listings = engine.state.listings
        func key(_ index: Int) -> Int64 {
            switch query.sort {
            case .rate: Int64(listings[index].terms.rate.value)
            case .term: Int64(listings[index].terms.termMonths)
            case .time: Int64(index)
            }
        }
        /// Whether listing `a` comes before listing `b` in the requested order (ties in id order, reversed for
        /// `-time`).
        func precedes(_ a: Int, _ b: Int) -> Bool {
            let (ka, kb) = (key(a), key(b))
            if ka != kb { return query.descending ? ka > kb : ka < kb }
            return query.descending && query.sort == .time ? a > b : a < b
        }
        if let cursor = query.after, !(0..<listings.count).contains(cursor.index) {
            // A cursor that names no listing has no place in the order: restarting the paging would loop a bot.
            _ = refuse(.noSuchListing, "after=\(cursor): no such listing")
            return
        }
        let after = query.after?.index
        func matches(_ index: Int) -> Bool {
            let listing = listings[index]
            if let status = query.status, listing.status != status { return false }
            if let rate = query.rate, !rate.contains(listing.terms.rate.value) { return false }
            if let term = query.term, !term.contains(listing.terms.termMonths) { return false }
            if query.grades & listing.terms.grade.bit == 0 { return false }
            if let type = query.type, listing.terms.type != type { return false }
            return true
        }
        var page: [Int] = []
        page.reserveCapacity(min(query.limit, 1_024))
        if query.sort == .time && query.status != .open {
            // Id order is the listings' own order: walk it from the cursor and stop at a full page (a page of
            // `status=all` costs its length, not the book's).
            if query.descending {
                var index = (after ?? listings.count) - 1
                while index >= 0 && page.count < query.limit {
                    if matches(index) { page.append(index) }
                    index -= 1
                }
            } else {
                var index = (after ?? -1) + 1
                while index < listings.count && page.count < query.limit {
                    if matches(index) { page.append(index) }
                    index += 1
                }
            }
            writeListingPage(page, listings)
            return
        }
        // `status=open` (the default) looks at the open listings only, in no particular order: the page buffer
        // puts them in order.
        let candidates: AnySequence<Int> =
            query.status == .open
            ? AnySequence(engine.openListingIndexes.lazy.map { Int($0) }) : AnySequence(0..<listings.count)
        for index in candidates {
            guard matches(index) else { continue }
            if let after, !precedes(after, index) { continue }
            if page.count == query.limit {
                guard let last = page.last, precedes(index, last) else { continue }
                page.removeLast()
            }
            var low = 0
            var high = page.count
            while low < high {
                let middle = (low + high) / 2
                if precedes(page[middle], index) { low = middle + 1 } else { high = middle }
            }
            page.insert(index, at: low)
        }
        writeListingPage(page, listings)
    }

    /// `OK rows=N` and a row per listing of `page`.
    func writeListingPage(_ page: [Int], _ listings: ChunkedArray<Listing>) {
        replies.ok()
        replies.field("rows", page.count)
        replies.end()
        for index in page {
            describeListing(ListingID(UInt32(index + 1)), listings[index])
            replies.end()
        }
    }

    func listBids(_ id: ListingID, limit: Int, after: BidID?, session: Session) {
        guard let listing = engine.listing(id) else {
            _ = refuse(.noSuchListing)
            return
        }
        let seesAll = session.isAdmin || session.user == listing.borrower
        var indexes = engine.bidIndexes(of: id)
        if let after { indexes.removeAll { $0 < UInt32(after.number) } }
        let page = indexes.prefix(limit)
        replies.ok()
        replies.field("rows", page.count)
        replies.end()
        for index in page {
            let bid = engine.state.bids[Int(index)]
            replies.field("bid", BidID(index + 1))
            let investorID = engine.state.users[bid.investor.int].id
            replies.field("investor", seesAll || session.user == bid.investor ? investorID : Self.mask(investorID))
            replies.field("amount", cents: bid.amountCents)
            replies.field("source", bid.source.wireText)
            replies.field("at", engine.atMillis(of: bid))
            replies.end()
        }
    }

    /// `inv***`: the first three characters of an investor id.
    static func mask(_ id: String) -> String { String(id.prefix(3)) + "***" }

    func listPlan(_ id: ListingID) {
        guard let listing = engine.listing(id) else {
            _ = refuse(.noSuchListing)
            return
        }
        guard listing.firstInstallment != LedgerEntry.none else {
            replies.ok()
            replies.field("rows", 0)
            replies.end()
            return
        }
        let first = Int(listing.firstInstallment)
        let count = listing.terms.method == .bullet && listing.terms.rate.value != 0 ? 1 : Int(listing.terms.termMonths)
        replies.ok()
        replies.field("rows", count)
        replies.end()
        for k in 0..<count {
            let installment = engine.state.installments[first + k]
            replies.field("installment", k + 1)
            replies.field("due", installment.dueAtMillis)
            replies.field("principal", cents: installment.principalCents)
            replies.field("interest", cents: installment.interestCents)
            replies.field("penalty", cents: installment.penaltyCents)
            replies.field("status", installment.status.wireText)
            replies.end()
        }
    }

    func listHoldings(_ user: UserIndex) {
        let lines = engine.claimIndexes(heldBy: user).lazy.map { Int($0) }
            .filter { self.engine.state.claims[$0].principalCents > 0 }
        replies.ok()
        replies.field("rows", lines.count)
        replies.end()
        for index in lines {
            let claim = engine.state.claims[index]
            replies.field("claim", ClaimID(UInt32(index + 1)))
            replies.field("listing", claim.listing)
            replies.field("principal", cents: claim.principalCents)
            replies.field("interest", cents: claim.receivableInterestCents)
            replies.end()
        }
    }

    func listLedger(_ id: String?, limit: Int, session: Session) {
        let account: LedgerAccount
        if let id, id == "bank" || id == "platform" {
            guard session.isAdmin else {
                _ = refuse(.forbidden, "system accounts are visible to admins only")
                return
            }
            account = id == "bank" ? .bank : .platform
        } else {
            guard let user = resolveSelfOrOther(id, session: session) else { return }
            account = .available(user)
        }
        // A user's history: both of their accounts, merged newest first.
        var rows = engine.history(of: account, limit: limit)
        if !account.isSystem {
            rows += engine.history(of: .frozen(account.user), limit: limit)
            rows.sort { $0.entry > $1.entry }
            rows = Array(rows.prefix(limit))
        }
        replies.ok()
        replies.field("rows", rows.count)
        replies.end()
        for row in rows {
            replies.field("entry", Int64(row.entry))
            replies.field("at", row.atMillis)
            replies.field("kind", row.kind.wireText)
            replies.field("account", row.account.isSystem ? (row.account == .bank ? "bank" : "platform") : (row.account.isFrozen ? "frozen" : "available"))
            replies.field("amount", cents: row.amountCents)
            replies.field("balance", cents: row.balanceCents)
            replies.end()
        }
    }
}
