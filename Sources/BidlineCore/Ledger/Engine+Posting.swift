extension Engine {
    /// Records one double-entry movement of `cents` (> 0) from `from` to `to` and updates both balances.
    ///
    /// Conservation holds by construction (the same amount leaves one account and enters the other). The
    /// invariants that can break — a user account going negative — stop the engine.
    @inline(__always)
    mutating func post(_ kind: EntryKind, from: LedgerAccount, to: LedgerAccount, cents: Int64, at atMillis: Int64) {
        precondition(cents > 0, "ledger entry of non-positive amount")
        let entry = UInt32(state.entries.count)
        precondition(entry < LedgerEntry.none, "ledger entry index space exhausted")
        let prevFrom = adjust(from, by: -cents, entry: entry)
        let prevTo = adjust(to, by: cents, entry: entry)
        state.entries.append(
            LedgerEntry(
                amountCents: cents, atMillis: atMillis, kind: kind, from: from, to: to, prevFrom: prevFrom,
                prevTo: prevTo))
    }

    /// Adds `delta` to `account`, links `entry` as its newest, and returns the previous newest entry.
    @inline(__always)
    mutating func adjust(_ account: LedgerAccount, by delta: Int64, entry: UInt32) -> UInt32 {
        if account.isSystem {
            if account == .bank {
                let previous = state.bank.lastEntry
                state.bank.balanceCents += delta
                state.bank.lastEntry = entry
                return previous
            } else {
                let previous = state.platform.lastEntry
                state.platform.balanceCents += delta
                state.platform.lastEntry = entry
                return previous
            }
        }
        let user = account.user.int
        if account.isFrozen {
            let previous = state.accounts[user].lastFrozenEntry
            state.accounts[user].frozenCents += delta
            precondition(state.accounts[user].frozenCents >= 0, "frozen balance went negative")
            state.accounts[user].lastFrozenEntry = entry
            return previous
        } else {
            let previous = state.accounts[user].lastAvailableEntry
            state.accounts[user].availableCents += delta
            precondition(state.accounts[user].availableCents >= 0, "available balance went negative")
            state.accounts[user].lastAvailableEntry = entry
            return previous
        }
    }

    /// The balance of any ledger account, in cents.
    public func balance(of account: LedgerAccount) -> Int64 {
        switch account {
        case .bank: return state.bank.balanceCents
        case .platform: return state.platform.balanceCents
        default:
            let user = state.accounts[account.user.int]
            return account.isFrozen ? user.frozenCents : user.availableCents
        }
    }

    /// The newest ledger entry of `account`.
    func lastEntry(of account: LedgerAccount) -> UInt32 {
        switch account {
        case .bank: return state.bank.lastEntry
        case .platform: return state.platform.lastEntry
        default:
            let user = state.accounts[account.user.int]
            return account.isFrozen ? user.lastFrozenEntry : user.lastAvailableEntry
        }
    }
}

/// One row of a user's transaction history (交易记录), signed from the user's side.
public struct LedgerRow: Sendable, Equatable {
    /// Entry number (index + 1), increasing in time.
    public var entry: UInt32
    public var atMillis: Int64
    public var kind: EntryKind
    /// Which of the user's accounts moved.
    public var account: LedgerAccount
    /// Signed amount: positive when money arrived in `account`.
    public var amountCents: Int64
    /// The account's balance after this entry.
    public var balanceCents: Int64
}

extension Engine {
    /// The newest `limit` movements of `account`, newest first, each with the balance after it. O(limit).
    public func history(of account: LedgerAccount, limit: Int) -> [LedgerRow] {
        var rows: [LedgerRow] = []
        rows.reserveCapacity(min(limit, 1024))
        var balance = self.balance(of: account)
        var cursor = lastEntry(of: account)
        while cursor != LedgerEntry.none && rows.count < limit {
            let entry = state.entries[Int(cursor)]
            let incoming = entry.to == account
            let signed = incoming ? entry.amountCents : -entry.amountCents
            rows.append(
                LedgerRow(
                    entry: cursor + 1, atMillis: entry.atMillis, kind: entry.kind, account: account,
                    amountCents: signed, balanceCents: balance))
            balance -= signed
            cursor = incoming ? entry.prevTo : entry.prevFrom
        }
        return rows
    }
}
