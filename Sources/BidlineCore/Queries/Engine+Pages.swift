/// The row sets of the read verbs other than `LOAN.LIST`: a listing's bids, its repayment plan, a holder's
/// claims and an account's statement. Pure functions of the engine state; the protocol layer renders them.
extension Engine {
    /// The page of `LOAN.BIDS`: indexes into `state.bids` of `listing`'s bids in bid order, those after bid
    /// `after` only, at most `limit`. Throws `noSuchListing`. O(bids of the listing).
    public func bidPage(of listing: ListingID, limit: Int, after: BidID?) throws(RejectCode) -> ArraySlice<UInt32> {
        guard self.listing(listing) != nil else { throw .noSuchListing }
        var indexes = bidIndexes(of: listing)
        // Bid `B<n>` is index n - 1: keep the indexes from `after.number` on.
        if let after { indexes.removeAll { $0 < UInt32(after.number) } }
        return indexes.prefix(limit)
    }

    /// The installments of `LOAN.PLAN`: indexes into `state.installments`, in installment order; empty before
    /// disbursement (no plan yet). One installment for a bullet loan with interest, else one per month of the
    /// term. Throws `noSuchListing`.
    public func planInstallments(of id: ListingID) throws(RejectCode) -> Range<Int> {
        guard let listing = self.listing(id) else { throw .noSuchListing }
        guard listing.firstInstallment != LedgerEntry.none else { return 0..<0 }
        let first = Int(listing.firstInstallment)
        let count = listing.terms.method == .bullet && listing.terms.rate.value != 0 ? 1 : Int(listing.terms.termMonths)
        return first..<(first + count)
    }

    /// The rows of `HOLDINGS`: indexes into `state.claims` of the claims `user` holds with principal left,
    /// oldest first.
    public func heldClaims(of user: UserIndex) -> [Int] {
        claimIndexes(heldBy: user).map { Int($0) }.filter { state.claims[$0].principalCents > 0 }
    }

    /// The rows of `LEDGER`: the newest `limit` entries of `account`, newest first. A user's available account
    /// stands for the user: the entries of their available and frozen accounts, merged newest first.
    public func statement(of account: LedgerAccount, limit: Int) -> [LedgerRow] {
        var rows = history(of: account, limit: limit)
        if !account.isSystem {
            rows += history(of: .frozen(account.user), limit: limit)
            rows.sort { $0.entry > $1.entry }
            rows = Array(rows.prefix(limit))
        }
        return rows
    }
}
