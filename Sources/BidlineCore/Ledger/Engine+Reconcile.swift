/// The result of ``Engine/reconcile()`` (对账).
public struct ReconcileReport: Sendable, Equatable {
    /// True when every check passed.
    public var balanced: Bool { problems.isEmpty }
    /// Sum of every ledger account's balance (must be 0).
    public var totalCents: Int64
    public var entries: Int
    public var accounts: Int
    public var bankCents: Int64
    public var platformCents: Int64
    /// What failed, in words; empty when balanced.
    public var problems: [String]
}

extension Engine {
    /// The sum of every movement in `account`'s entry chain, signed from its side. O(entries of the account).
    func historySum(of account: LedgerAccount) -> Int64 {
        var sum: Int64 = 0
        var cursor = lastEntry(of: account)
        while cursor != LedgerEntry.none {
            let entry = state.entries[Int(cursor)]
            if entry.to == account {
                sum += entry.amountCents
                cursor = entry.prevTo
            } else {
                sum -= entry.amountCents
                cursor = entry.prevFrom
            }
        }
        return sum
    }

    /// Cheap invariants, O(users + listings): the ledger sums to zero, no account is negative, no listing has
    /// raised more than its amount. Returns the first violation found, or nil.
    public func checkInvariants() -> String? {
        var total = state.bank.balanceCents &+ state.platform.balanceCents
        for index in 0..<state.accounts.count {
            let account = state.accounts[index]
            if account.availableCents < 0 || account.frozenCents < 0 { return "user #\(index) has a negative balance" }
            total &+= account.availableCents &+ account.frozenCents
        }
        if total != 0 { return "ledger sums to \(total)" }
        for index in 0..<state.listings.count {
            let listing = state.listings[index]
            if listing.raisedCents > listing.terms.amount.cents || listing.raisedCents < 0 {
                return "L\(index + 1) raised \(listing.raisedCents) of \(listing.terms.amount.cents)"
            }
        }
        return nil
    }

    /// Proves the books (对账): recomputes every account from the journal and compares it with the stored
    /// balance; the ledger sums to zero; no user balance is negative; every account's entry chain replays to
    /// its balance; frozen money equals the open bids; listings never raise more than their amount; claims
    /// and receivables agree with outstanding loans. O(entries + bids + claims).
    public func reconcile() -> ReconcileReport {
        var problems: [String] = []
        let userCount = state.users.count
        var computed = [Int64](repeating: 0, count: userCount * 2)
        var bank: Int64 = 0
        var platform: Int64 = 0
        func add(_ account: LedgerAccount, _ delta: Int64) {
            switch account {
            case .bank: bank += delta
            case .platform: platform += delta
            default: computed[Int(account.raw)] += delta
            }
        }
        for index in 0..<state.entries.count {
            let entry = state.entries[index]
            if entry.amountCents <= 0 { problems.append("entry \(index + 1) has a non-positive amount") }
            add(entry.from, -entry.amountCents)
            add(entry.to, entry.amountCents)
        }
        var total = bank &+ platform
        if bank != state.bank.balanceCents { problems.append("bank: journal \(bank) != balance \(state.bank.balanceCents)") }
        if platform != state.platform.balanceCents {
            problems.append("platform: journal \(platform) != balance \(state.platform.balanceCents)")
        }
        var frozenTotal: Int64 = 0
        var receivablePrincipal: Int64 = 0
        var borrowed: Int64 = 0
        for index in 0..<userCount {
            let user = state.users[index]
            let account = state.accounts[index]
            let u = UserIndex(index)
            total &+= computed[2 * index] &+ computed[2 * index + 1]
            frozenTotal += account.frozenCents
            receivablePrincipal += user.receivablePrincipalCents
            borrowed += user.borrowedCents
            if computed[2 * index] != account.availableCents {
                problems.append("\(user.id): journal available \(computed[2 * index]) != \(account.availableCents)")
            }
            if computed[2 * index + 1] != account.frozenCents {
                problems.append("\(user.id): journal frozen \(computed[2 * index + 1]) != \(account.frozenCents)")
            }
            if account.availableCents < 0 || account.frozenCents < 0 || user.receivablePrincipalCents < 0
                || user.receivableInterestCents < 0 || user.borrowedCents < 0
            {
                problems.append("\(user.id): negative balance")
            }
            for account in [LedgerAccount.available(u), .frozen(u)] {
                let chainSum = historySum(of: account)
                if chainSum != balance(of: account) {
                    problems.append("\(user.id): history of \(account) replays to \(chainSum), not \(balance(of: account))")
                }
            }
        }
        if total != 0 { problems.append("ledger sums to \(total), not 0") }
        if frozenTotal != state.stats.frozenCents {
            problems.append("frozen total \(frozenTotal) != stats \(state.stats.frozenCents)")
        }
        if receivablePrincipal != borrowed {
            problems.append("receivable principal \(receivablePrincipal) != outstanding borrowing \(borrowed)")
        }
        // Listings: raised equals the sum of their bids and never exceeds the amount; open bids are frozen.
        var frozenInBids: Int64 = 0
        var claimPrincipal: Int64 = 0
        for index in 0..<state.listings.count {
            let listing = state.listings[index]
            var sum: Int64 = 0
            var cursor = listing.lastBid
            var count: UInt32 = 0
            while cursor != LedgerEntry.none {
                let bid = state.bids[Int(cursor)]
                sum += bid.amountCents
                count += 1
                cursor = bid.prevInListing
            }
            if count != listing.bidCount { problems.append("L\(index + 1): \(count) bids chained, \(listing.bidCount) counted") }
            if listing.status == .open || listing.status == .full {
                frozenInBids += sum
                if sum != listing.raisedCents { problems.append("L\(index + 1): raised \(listing.raisedCents) != bids \(sum)") }
            }
            if listing.raisedCents > listing.terms.amount.cents { problems.append("L\(index + 1) raised more than its amount") }
            if listing.status == .repaying {
                var principal: Int64 = 0
                var claim = listing.firstClaim
                while claim != LedgerEntry.none {
                    principal += state.claims[Int(claim)].principalCents
                    claim = state.claims[Int(claim)].nextInListing
                }
                claimPrincipal += principal
                if principal != listing.outstandingPrincipalCents {
                    problems.append("L\(index + 1): claims hold \(principal) != outstanding \(listing.outstandingPrincipalCents)")
                }
            }
        }
        if frozenInBids != frozenTotal { problems.append("frozen \(frozenTotal) != open bids \(frozenInBids)") }
        if claimPrincipal != receivablePrincipal {
            problems.append("claims principal \(claimPrincipal) != receivable principal \(receivablePrincipal)")
        }
        return ReconcileReport(
            totalCents: total, entries: state.entries.count, accounts: userCount * 2 + 2, bankCents: bank,
            platformCents: platform, problems: problems)
    }
}
