import BidlineCore

/// Readable text for log records (`bidline wal inspect`): commands, outcomes and engine times.
///
/// Users are named through `userName`, which gives the user's id when the state at that point of the log is
/// known and `#<index>` otherwise. Not on any hot path: plain `String` formatting.
struct CommandText {
    /// The name to print for a user index.
    var userName: (UserIndex) -> String

    /// `key=value` arguments of `command`, in the order of the protocol's usage line.
    func arguments(_ command: Command) -> String {
        var fields: [String] = []
        func add(_ key: String, _ value: String) { fields.append("\(key)=\(value)") }
        func add(_ key: String, user: UserIndex) { add(key, userName(user)) }
        func add(ref: Ref?) { if let ref { add("ref", ref.text) } }
        func add(by actor: UserIndex?) { add("by", actor.map(userName) ?? "admin") }
        switch command {
        case .addUser(let user):
            add("id", user.id)
            add("roles", user.roles.wireText.isEmpty ? "none" : user.roles.wireText)
            add("kind", user.kind.wireText)
            add("verified", user.verified ? "1" : "0")
            add("risk", String(user.riskLevel))
        case .setUser(let user, let change):
            add("user", user: user)
            if let verified = change.verified { add("verified", verified ? "1" : "0") }
            if let risk = change.riskLevel { add("risk", String(risk)) }
            if let blacklisted = change.blacklisted { add("blacklist", blacklisted ? "1" : "0") }
            if change.tokenHash != nil { add("token", "rotated") }
        case .deposit(let user, let amount, let ref), .withdraw(let user, let amount, let ref):
            add("user", user: user)
            add("amount", amount.description)
            add(ref: ref)
        case .submitListing(let borrower, let terms):
            add("borrower", user: borrower)
            add("amount", terms.amount.description)
            add("rate", terms.rate.description)
            add("term", String(terms.termMonths))
            add("method", terms.method.wireText)
            add("grade", terms.grade.wireText)
            add("type", terms.type.wireText)
            add("min", terms.minBid.description)
            add("step", terms.step.description)
            if let cap = terms.cap { add("cap", cap.description) }
            if terms.newcomerOnly { add("newcomer", "1") }
            add("window", Self.duration(millis: terms.windowMillis))
        case .approve(let listing), .reject(let listing), .cancel(let listing), .disburse(let listing):
            add("listing", listing.description)
        case .bid(let request):
            add("investor", user: request.investor)
            add("listing", request.listing.description)
            add("amount", request.amount.description)
            if request.allOrNone { add("aon", "1") }
            add(ref: request.ref)
        case .setAutoBid(let user, let rule):
            add("user", user: user)
            add("rate", "\(rule.rateMin)-\(rule.rateMax.value == Int32.max ? "max" : rule.rateMax.description)")
            add("term", "\(rule.termMin)-\(rule.termMax)")
            add("grades", Grade.allCases.filter { rule.grades & $0.bit != 0 }.map(\.wireText).joined(separator: ","))
            add(
                "methods",
                RepaymentMethod.allCases.filter { rule.methods & $0.bit != 0 }.map(\.wireText).joined(separator: ","))
            if let max = rule.maxPerListing { add("max", max.description) }
            add("reserve", rule.reserve.description)
            if !rule.enabled { add("enabled", "0") }
        case .autoBidOff(let user):
            add("user", user: user)
        case .changeSettings(let change):
            if let fee = change.serviceFee { add("service", fee.description) }
            if let fee = change.interestFee { add("interest", fee.description) }
            if let fee = change.transferFee { add("transfer", fee.description) }
            if let rate = change.penaltyRate { add("penalty", rate.description) }
            if let share = change.autoBidShare { add("autoshare", share.description) }
            if let holding = change.transferHoldingMillis { add("holding", Self.duration(millis: holding)) }
            if let visits = change.autoBidMaxVisits { add("autovisits", String(visits)) }
        case .tick:
            break
        case .repay(let listing, let actor), .payoff(let listing, let actor):
            add("listing", listing.description)
            add(by: actor)
        case .sellClaim(let claim, let actor, let principal, let price):
            add("claim", claim.description)
            add(by: actor)
            add("principal", principal.description)
            add("price", price.description)
        case .buyOffer(let offer, let buyer, let principal):
            add("offer", offer.description)
            add("buyer", user: buyer)
            add("principal", principal.description)
        case .withdrawOffer(let offer, let actor):
            add("offer", offer.description)
            add(by: actor)
        }
        return fields.joined(separator: " ")
    }

    /// `ok …reply fields`, `replayed …` (an idempotent retry) or `rejected CODE`.
    func outcome(_ outcome: Outcome) -> String {
        switch outcome {
        case .applied(let reply): "ok" + replyFields(reply)
        case .replayed(let reply): "replayed" + replyFields(reply)
        case .rejected(let code): "rejected \(code.code)"
        }
    }

    /// The reply's fields with a leading space, as the protocol would send them.
    func replyFields(_ reply: Reply) -> String {
        let fields: [String]
        switch reply {
        case .user(let user):
            fields = ["user=\(userName(user))", "index=\(user.raw)"]
        case .funds(let user, let amount, let available):
            fields = ["user=\(userName(user))", "amount=\(amount)", "available=\(available)"]
        case .listing(let listing, let status):
            fields = ["listing=\(listing)", "status=\(status.wireText)"]
        case .approved(let listing, let status, let autoBids):
            fields = ["listing=\(listing)", "status=\(status.wireText)", "autobids=\(autoBids)"]
        case .bid(let bid):
            fields = [
                "bid=\(bid.bid)", "listing=\(bid.listing)", "amount=\(bid.amount)", "remaining=\(bid.remaining)",
                "full=\(bid.full ? 1 : 0)",
            ]
        case .autoBid(let user, let enabled):
            fields = ["user=\(userName(user))", "enabled=\(enabled ? 1 : 0)"]
        case .settings:
            fields = []
        case .tick(let failed, let overdue):
            fields = ["failed=\(failed)", "overdue=\(overdue)"]
        case .repayment(let repayment):
            fields = [
                "listing=\(repayment.listing)", "installment=\(repayment.installment)",
                "principal=\(repayment.principal)", "interest=\(repayment.interest)", "penalty=\(repayment.penalty)",
                "status=\(repayment.status.wireText)",
            ]
        case .offer(let offer, let claim, let principal, let price):
            fields = ["offer=\(offer)", "claim=\(claim)", "principal=\(principal)", "price=\(price)"]
        case .bought(let offer, let claim, let principal, let paid):
            fields = ["offer=\(offer)", "claim=\(claim)", "principal=\(principal)", "paid=\(paid)"]
        case .offerWithdrawn(let offer):
            fields = ["offer=\(offer)"]
        }
        return fields.isEmpty ? "" : " " + fields.joined(separator: " ")
    }

    /// The users a command names as arguments (not those it affects indirectly, such as a listing's borrower).
    static func users(in command: Command) -> [UserIndex] {
        switch command {
        case .addUser, .approve, .reject, .cancel, .disburse, .changeSettings, .tick: []
        case .setUser(let user, _), .deposit(let user, _, _), .withdraw(let user, _, _), .setAutoBid(let user, _),
            .autoBidOff(let user):
            [user]
        case .submitListing(let borrower, _): [borrower]
        case .bid(let request): [request.investor]
        case .repay(_, let actor), .payoff(_, let actor), .sellClaim(_, let actor, _, _), .withdrawOffer(_, let actor):
            actor.map { [$0] } ?? []
        case .buyOffer(_, let buyer, _): [buyer]
        }
    }

    /// The listing a command concerns: named directly, through a claim or offer (resolved in `state`), or created
    /// by it (a `LOAN.NEW` that was applied). `nil` when it concerns none or it cannot be resolved.
    static func listing(of command: Command, outcome: Outcome?, in state: EngineState?) -> ListingID? {
        switch command {
        case .approve(let listing), .reject(let listing), .cancel(let listing), .disburse(let listing),
            .repay(let listing, _), .payoff(let listing, _):
            return listing
        case .bid(let request):
            return request.listing
        case .submitListing:
            if case .listing(let listing, _)? = outcome?.reply { return listing }
            return nil
        case .sellClaim(let claim, _, _, _):
            guard let state, claim.number >= 1, claim.index < state.claims.count else { return nil }
            return state.claims[claim.index].listing
        case .buyOffer(let offer, _, _), .withdrawOffer(let offer, _):
            guard let state, offer.number >= 1, offer.index < state.offers.count else { return nil }
            return state.offers[offer.index].listing
        case .addUser, .setUser, .deposit, .withdraw, .setAutoBid, .autoBidOff, .changeSettings, .tick:
            return nil
        }
    }

    /// `30d`, `72h`, `90m`, `45s` or `1500ms`: the largest unit that divides `millis` exactly.
    static func duration(millis: Int64) -> String {
        let units: [(Int64, String)] = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1_000, "s")]
        for (size, suffix) in units where millis != 0 && millis % size == 0 { return "\(millis / size)\(suffix)" }
        return "\(millis)ms"
    }

    /// An engine time (milliseconds since the Unix epoch) as UTC ISO 8601 with milliseconds,
    /// e.g. `2023-11-14T22:13:20.000Z`. Proleptic Gregorian calendar, no time zone database.
    static func timestamp(millis: Int64) -> String {
        let (days, dayMillis) = millis.floorDivided(by: 86_400_000)
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let seconds = dayMillis / 1_000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(seconds / 3_600, 2)):"
            + "\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2)).\(pad(dayMillis % 1_000, 3))Z"
    }
}

extension Int64 {
    /// Quotient rounded towards minus infinity, and the non-negative remainder.
    fileprivate func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let quotient = self / divisor
        let remainder = self % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
