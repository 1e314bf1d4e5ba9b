import BidlineCore

/// Replies about one account: `BALANCE` and the auto-bid rule (`AUTO.SET`, `AUTO.OFF`, `AUTO.GET`).
extension ReplyWriter {
    /// `OK available=… frozen=… receivable_principal=… receivable_interest=… borrowed=…` of `user`.
    public mutating func balance(of user: UserIndex, in state: EngineState) {
        let account = state.accounts[user.int]
        let profile = state.users[user.int]
        ok()
        field("available", cents: account.availableCents)
        field("frozen", cents: account.frozenCents)
        field("receivable_principal", cents: profile.receivablePrincipalCents)
        field("receivable_interest", cents: profile.receivableInterestCents)
        field("borrowed", cents: profile.borrowedCents)
        end()
    }

    /// `OK account=bank|platform balance=…`: a system account (admins only; `bank` is negative).
    public mutating func systemBalance(_ name: String, cents: Int64) {
        ok()
        field("account", name)
        field("balance", cents: cents)
        end()
    }

    /// `OK auto=0` without a rule, else `OK auto=0|1 rate=8.00-any term=1-any grades=… methods=… max=…|none
    /// reserve=… [position=N]` (the 1-based place in the auto-bid queue, when on and queued).
    public mutating func autoBid(_ rule: AutoBidRule?, queuePosition: Int?) {
        ok()
        guard let rule else {
            field("auto", false)
            end()
            return
        }
        field("auto", rule.enabled)
        key("rate")
        Money(cents: Int64(rule.rateMin.value)).appendASCII(to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        if rule.rateMax.value == Int32.max {
            append("any")
        } else {
            Money(cents: Int64(rule.rateMax.value)).appendASCII(to: &bytes)
        }
        field("term", "\(rule.termMin)-\(rule.termMax == 255 ? "any" : String(rule.termMax))")
        field("grades", Grade.allCases.filter { rule.grades & $0.bit != 0 }.map(\.wireText).joined(separator: ","))
        field(
            "methods",
            RepaymentMethod.allCases.filter { rule.methods & $0.bit != 0 }.map(\.wireText).joined(separator: ","))
        if let max = rule.maxPerListing { field("max", max) } else { field("max", "none") }
        field("reserve", rule.reserve)
        if rule.enabled, let queuePosition { field("position", queuePosition) }
        end()
    }
}
