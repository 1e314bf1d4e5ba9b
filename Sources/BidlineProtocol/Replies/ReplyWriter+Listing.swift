import BidlineCore

/// Replies about listings and what hangs off them: `LOAN.GET`, `LOAN.LIST`, `LOAN.BIDS`, `LOAN.PLAN`, and the
/// holder-side rows of `HOLDINGS` and `LEDGER`. The rows are chosen by Core's queries (``Engine/listingPage(_:)``
/// and the others); these functions only write them.
extension ReplyWriter {
    /// The `LOAN.GET` keys of listing `index` (`ListingID.index`), without `OK` and the newline: `listing borrower
    /// amount raised remaining rate term method grade type status min step cap newcomer approved closes bids`.
    public mutating func listingFields(_ index: Int, in state: EngineState) {
        let listing = state.listings[index]
        field("listing", ListingID(UInt32(index + 1)))
        field("borrower", state.users[listing.borrower.int].id)
        field("amount", listing.terms.amount)
        field("raised", cents: listing.raisedCents)
        field("remaining", cents: listing.remainingCents)
        field("rate", percent: listing.terms.rate)
        field("term", Int64(listing.terms.termMonths))
        field("method", listing.terms.method.wireText)
        field("grade", listing.terms.grade.wireText)
        field("type", listing.terms.type.wireText)
        field("status", listing.status.wireText)
        field("min", listing.terms.minBid)
        field("step", listing.terms.step)
        if let cap = listing.terms.cap { field("cap", cap) } else { field("cap", "none") }
        field("newcomer", listing.terms.newcomerOnly)
        field("approved", listing.approvedAtMillis)
        field("closes", listing.closesAtMillis)
        field("bids", Int64(listing.bidCount))
    }

    /// `OK listing=L… …`: the `LOAN.GET` reply of listing `id` (which must exist).
    public mutating func listing(_ id: ListingID, in state: EngineState) {
        ok()
        listingFields(id.index, in: state)
        end()
    }

    /// `OK rows=N` and a `LOAN.GET`-shaped row per listing index of `page`, in order.
    public mutating func listingRows(_ page: [Int], in state: EngineState) {
        rowCount(page.count)
        for index in page {
            listingFields(index, in: state)
            end()
        }
    }

    /// `OK rows=N` and a row `bid investor amount source at` per index of `page` (into `state.bids`).
    /// `showsInvestor` says whether the reader may see a bid's investor id; otherwise it is masked (`inv***`).
    public mutating func bidRows(
        _ page: ArraySlice<UInt32>, in state: EngineState, showsInvestor: (UserIndex) -> Bool
    ) {
        rowCount(page.count)
        for index in page {
            let bid = state.bids[Int(index)]
            field("bid", BidID(index + 1))
            let investorID = state.users[bid.investor.int].id
            field("investor", showsInvestor(bid.investor) ? investorID : Self.masked(investorID))
            field("amount", cents: bid.amountCents)
            field("source", bid.source.wireText)
            field("at", state.entries[Int(bid.entry)].atMillis)
            end()
        }
    }

    /// `inv***`: the first three characters of an investor id, as `LOAN.BIDS` shows other readers.
    public static func masked(_ id: String) -> String { String(id.prefix(3)) + "***" }

    /// `OK rows=N` and a row `installment due principal interest penalty status` per installment of `plan`
    /// (indexes into `state.installments`, numbered from 1).
    public mutating func planRows(_ plan: Range<Int>, in state: EngineState) {
        rowCount(plan.count)
        for (number, index) in plan.enumerated() {
            let installment = state.installments[index]
            field("installment", number + 1)
            field("due", installment.dueAtMillis)
            field("principal", cents: installment.principalCents)
            field("interest", cents: installment.interestCents)
            field("penalty", cents: installment.penaltyCents)
            field("status", installment.status.wireText)
            end()
        }
    }

    /// `OK rows=N` and a row `claim listing principal interest` per claim index of `claims`.
    public mutating func holdingRows(_ claims: [Int], in state: EngineState) {
        rowCount(claims.count)
        for index in claims {
            let claim = state.claims[index]
            field("claim", ClaimID(UInt32(index + 1)))
            field("listing", claim.listing)
            field("principal", cents: claim.principalCents)
            field("interest", cents: claim.receivableInterestCents)
            end()
        }
    }

    /// `OK rows=N` and a row `entry at kind account amount balance` per ledger row (amounts signed from the
    /// account's side; `account` is `available`, `frozen`, `bank` or `platform`).
    public mutating func ledgerRows(_ rows: [LedgerRow]) {
        rowCount(rows.count)
        for row in rows {
            field("entry", Int64(row.entry))
            field("at", row.atMillis)
            field("kind", row.kind.wireText)
            field("account", Self.accountName(row.account))
            field("amount", cents: row.amountCents)
            field("balance", cents: row.balanceCents)
            end()
        }
    }

    /// The wire name of a ledger account on a statement row.
    static func accountName(_ account: LedgerAccount) -> String {
        if account.isSystem { return account == .bank ? "bank" : "platform" }
        return account.isFrozen ? "frozen" : "available"
    }
}
