import BidlineCore
import BidlineProtocol
import BidlineStorage

extension EngineHost {
    /// Handles one request, appending its reply to `replies`. Returns true when it journaled a command.
    func handle(_ request: Request, session: inout Session) -> Bool {
        metrics.requests.increment()
        switch request {
        case .ping:
            replies.ok()
            replies.field("pong", "")
            replies.bytes.removeLast()  // `OK pong`, not `OK pong=`
            replies.end()
            return false
        case .quit:
            replies.append("OK bye\n")
            return false
        case .help(let verb):
            let lines = CommandTable.helpLines(for: verb)
            if verb != nil && lines.isEmpty {
                replies.error(.unknownVerb, "unknown verb '\(verb!.prefix(40))'")
            } else {
                rows(lines)
            }
            return false
        case .auth(let id, let token):
            guard let index = engine.userIndex(of: id), let user = engine.user(index), let account = engine.account(index),
                Tokens.matches(token, user.tokenHash)
            else {
                metrics.rejected(.authFailed)
                replies.error(.authFailed, "unknown user or wrong token")
                return false
            }
            session.user = index
            session.userID = id
            session.roles = account.roles
            replies.ok()
            replies.field("user", id)
            replies.field("roles", account.roles.wireText)
            replies.end()
            return false
        case .whoami:
            replies.ok()
            replies.field("user", session.userID)
            replies.field("roles", session.roles.wireText)
            replies.end()
            return false
        case .bid(let listing, let amount, let ref, let allOrNone):
            guard let investor = session.user else { return refuse(.notAuthenticated) }
            return write(.bid(BidRequest(investor: investor, listing: listing, amount: amount, allOrNone: allOrNone, ref: ref)))
        case .userAdd(var new):
            let token = Tokens.generate()
            new.tokenHash = Tokens.hash(token)
            return write(.addUser(new)) { host, reply in
                guard case .user(let index) = reply else { return }
                host.replies.ok()
                host.replies.field("user", host.engine.state.users[index.int].id)
                host.replies.field("token", token)
                host.replies.end()
            }
        case .userSet(let id, let change):
            guard let user = engine.userIndex(of: id) else { return refuse(.noSuchUser, "no such user '\(id)'") }
            return write(.setUser(user, change)) { host, _ in host.describeUser(user) }
        case .loanApprove(let id): return write(.approve(id))
        case .loanReject(let id): return write(.reject(id))
        case .loanCancel(let id): return write(.cancel(id))
        case .loanDisburse(let id): return write(.disburse(id))
        case .loanRepay(let id): return write(.repay(id, by: session.isAdmin ? nil : session.user))
        case .loanPayoff(let id): return write(.payoff(id, by: session.isAdmin ? nil : session.user))
        case .feeSet(let change): return write(.changeSettings(change))
        case .clock:
            replies.ok()
            replies.field("now", stampTime())
            replies.end()
            return false
        case .clockAdvance(let millis):
            guard configuration.clock == .manual else {
                return refuse(.badState, "CLOCK.ADVANCE works only with --clock manual")
            }
            lastTimeMillis += millis
            return write(.tick, at: lastTimeMillis) { host, reply in
                guard case .tick(let failed, let overdue) = reply else { return }
                host.replies.ok()
                host.replies.field("now", host.lastTimeMillis)
                host.replies.field("failed", Int64(failed))
                host.replies.field("overdue", Int64(overdue))
                host.replies.end()
            }
        case .snapshot:
            // Answered by the connection through `snapshot()` (it awaits the write); never reaches here.
            return refuse(.badState, "SNAPSHOT must be sent on its own")
        case .reconcile:
            let report = engine.reconcile()
            replies.ok()
            replies.field("balanced", report.balanced)
            replies.field("total", cents: report.totalCents)
            replies.field("entries", report.entries)
            replies.field("accounts", report.accounts)
            replies.field("bank", cents: report.bankCents)
            replies.field("platform", cents: report.platformCents)
            replies.field("problems", report.problems.count)
            replies.end()
            return false
        case .stats:
            let stats = engine.state.stats
            replies.ok()
            replies.field("disbursed", cents: stats.disbursedCents)
            replies.field("interest_paid", cents: stats.interestPaidCents)
            replies.field("loans_repaying", stats.loansRepaying)
            replies.field("users", stats.users)
            replies.field("listings_open", stats.listingsOpen)
            replies.field("frozen", cents: stats.frozenCents)
            replies.field("bids_per_sec", metrics.bidsPerSecond(total: stats.bidsAccepted))
            replies.field("bids", stats.bidsAccepted)
            replies.field("seq", Int64(nextSequence - 1))
            // How the log runs, and its data syncs since start: a load generator divides the `seq` it saw advance
            // by the syncs to report records per group commit.
            replies.field("durability", configuration.durability.wireText)
            replies.field("log_commits", configuration.logCommits.rawValue)
            replies.field("log_syncs", Int64(wal.statistics.synchronizations))
            replies.end()
            return false
        case .metrics:
            let lines = prometheusLines()
            replies.ok()
            replies.field("rows", lines.count)
            replies.end()
            for line in lines {
                replies.append(line)
                replies.end()
            }
            return false
        case .deposit(let id, let amount, let ref), .withdraw(let id, let amount, let ref):
            guard let user = engine.userIndex(of: id) else { return refuse(.noSuchUser, "no such user '\(id)'") }
            if case .deposit = request { return write(.deposit(user, amount, ref: ref)) }
            return write(.withdraw(user, amount, ref: ref))
        case .loanNew(let terms):
            guard let borrower = session.user else { return refuse(.notAuthenticated) }
            return write(.submitListing(borrower, terms))
        case .autoSet(let rule):
            guard let investor = session.user else { return refuse(.notAuthenticated) }
            return write(.setAutoBid(investor, rule)) { host, _ in host.describeAutoBid(investor) }
        case .autoOff:
            guard let investor = session.user else { return refuse(.notAuthenticated) }
            return write(.autoBidOff(investor)) { host, _ in host.describeAutoBid(investor) }
        case .autoGet:
            guard let investor = session.user else { return refuse(.notAuthenticated) }
            describeAutoBid(investor)
            return false
        case .claimSell(let claim, let principal, let price):
            return write(.sellClaim(claim, by: session.isAdmin ? nil : session.user, principal: principal, price: price))
        case .claimBuy(let offer, let principal):
            guard let buyer = session.user else { return refuse(.notAuthenticated) }
            return write(.buyOffer(offer, buyer: buyer, principal: principal))
        case .claimWithdraw(let offer):
            return write(.withdrawOffer(offer, by: session.isAdmin ? nil : session.user))
        case .balance(let id):
            balance(id, session: session)
            return false
        case .loanGet(let id):
            guard let listing = engine.listing(id) else { return refuse(.noSuchListing) }
            replies.ok()
            describeListing(id, listing)
            replies.end()
            return false
        case .loanList(let query):
            listListings(query)
            return false
        case .loanBids(let id, let limit, let after):
            listBids(id, limit: limit, after: after, session: session)
            return false
        case .loanPlan(let id):
            listPlan(id)
            return false
        case .holdings(let id):
            guard let user = resolveSelfOrOther(id, session: session) else { return false }
            listHoldings(user)
            return false
        case .ledger(let id, let limit):
            listLedger(id, limit: limit, session: session)
            return false
        case .subscribe(let topics):
            session.topics = topics
            replies.ok()
            replies.field("subscribed", topics.map(\.wireText).joined(separator: ","))
            replies.end()
            return false
        }
    }

    func refuse(_ code: RejectCode, _ message: String? = nil) -> Bool {
        metrics.rejected(code)
        replies.error(code, message)
        return false
    }

    /// Journals and applies `command`, then writes the reply: `render` for a custom form, the standard one
    /// otherwise. Returns true when the command was journaled.
    func write(_ command: Command, at time: Int64? = nil, render: ((isolated EngineHost, Reply) -> Void)? = nil) -> Bool {
        let outcome: Outcome
        do {
            // While the log is unavailable the writer refuses the record (nothing is applied) and retries the
            // failed writes in the background: a refusal here is what brings the log back once the disk is.
            outcome = try journal(command, at: time)
        } catch {
            metrics.rejected(.unavailable)
            replies.error(.unavailable, "storage refused the change: \(error)")
            return false
        }
        switch outcome {
        case .applied(let reply), .replayed(let reply):
            if case .bid = command { metrics.bids.increment() }
            if let render { render(self, reply) } else { renderReply(reply) }
        case .rejected(let code):
            metrics.rejected(code)
            replies.error(code)
        }
        return true
    }

    /// The standard `OK` line of a reply.
    func renderReply(_ reply: Reply) {
        replies.ok()
        switch reply {
        case .bid(let bid):
            replies.field("bid", bid.bid)
            replies.field("listing", bid.listing)
            replies.field("amount", bid.amount)
            replies.field("remaining", bid.remaining)
            replies.field("full", bid.full)
        case .user(let user):
            replies.field("user", engine.state.users[user.int].id)
        case .funds(let user, let amount, let available):
            replies.field("user", engine.state.users[user.int].id)
            replies.field("amount", amount)
            replies.field("available", available)
        case .listing(let id, let status):
            replies.field("listing", id)
            replies.field("status", status.wireText)
        case .approved(let id, let status, let autoBids):
            replies.field("listing", id)
            replies.field("status", status.wireText)
            replies.field("auto_bids", Int64(autoBids))
            replies.field("raised", cents: engine.state.listings[id.index].raisedCents)
        case .autoBid(_, let enabled):
            replies.field("auto", enabled)
        case .settings(let settings):
            replies.field("service", percent: settings.serviceFee)
            replies.field("interest", percent: settings.interestFee)
            replies.field("transfer", percent: settings.transferFee)
            replies.field("penalty", percent: settings.penaltyRate)
            replies.field("autoshare", percent: settings.autoBidShare)
            replies.field("holding_days", settings.transferHoldingMillis / EngineTime.dayMillis)
        case .tick(let failed, let overdue):
            replies.field("failed", Int64(failed))
            replies.field("overdue", Int64(overdue))
        case .repayment(let repayment):
            replies.field("listing", repayment.listing)
            replies.field("installment", Int64(repayment.installment))
            replies.field("principal", repayment.principal)
            replies.field("interest", repayment.interest)
            replies.field("penalty", repayment.penalty)
            replies.field("status", repayment.status.wireText)
        case .offer(let offer, let claim, let principal, let price):
            replies.field("offer", offer)
            replies.field("claim", claim)
            replies.field("principal", principal)
            replies.field("price", price)
        case .bought(let offer, let claim, let principal, let paid):
            replies.field("offer", offer)
            replies.field("claim", claim)
            replies.field("principal", principal)
            replies.field("paid", paid)
        case .offerWithdrawn(let offer):
            replies.field("offer", offer)
            replies.field("status", "withdrawn")
        }
        replies.end()
    }

    func rows(_ lines: [String]) {
        replies.ok()
        replies.field("rows", lines.count)
        replies.end()
        for line in lines {
            replies.append(line)
            replies.end()
        }
    }

    func describeUser(_ user: UserIndex) {
        let account = engine.state.accounts[user.int]
        replies.ok()
        replies.field("user", engine.state.users[user.int].id)
        replies.field("roles", account.roles.wireText)
        replies.field("verified", account.verified)
        replies.field("risk", Int64(account.riskLevel))
        replies.field("blacklist", account.blacklisted)
        replies.end()
    }

    func describeAutoBid(_ investor: UserIndex) {
        replies.ok()
        guard let rule = engine.autoBidRule(of: investor) else {
            replies.field("auto", false)
            replies.end()
            return
        }
        replies.field("auto", rule.enabled)
        replies.key("rate")
        Money(cents: Int64(rule.rateMin.value)).appendASCII(to: &replies.bytes)
        replies.bytes.append(UInt8(ascii: "-"))
        if rule.rateMax.value == Int32.max { replies.append("any") } else {
            Money(cents: Int64(rule.rateMax.value)).appendASCII(to: &replies.bytes)
        }
        replies.field("term", "\(rule.termMin)-\(rule.termMax == 255 ? "any" : String(rule.termMax))")
        replies.field("grades", Grade.allCases.filter { rule.grades & $0.bit != 0 }.map(\.wireText).joined(separator: ","))
        replies.field("methods", RepaymentMethod.allCases.filter { rule.methods & $0.bit != 0 }.map(\.wireText).joined(separator: ","))
        if let max = rule.maxPerListing { replies.field("max", max) } else { replies.field("max", "none") }
        replies.field("reserve", rule.reserve)
        if rule.enabled, let position = engine.autoBidQueue().firstIndex(of: investor) {
            replies.field("position", position + 1)
        }
        replies.end()
    }

    /// Resolves an optional user argument: none means the session's own user; naming another user needs admin.
    func resolveSelfOrOther(_ id: String?, session: Session) -> UserIndex? {
        guard let id, id != session.userID else {
            if session.user == nil { _ = refuse(.notAuthenticated) }
            return session.user
        }
        guard session.isAdmin else {
            _ = refuse(.forbidden, "investors and borrowers see their own data only")
            return nil
        }
        guard let user = engine.userIndex(of: id) else {
            _ = refuse(.noSuchUser, "no such user '\(id)'")
            return nil
        }
        return user
    }

    func balance(_ id: String?, session: Session) {
        if let id, id == "bank" || id == "platform" {
            guard session.isAdmin else {
                _ = refuse(.forbidden, "system accounts are visible to admins only")
                return
            }
            replies.ok()
            replies.field("account", id)
            replies.field("balance", cents: engine.balance(of: id == "bank" ? .bank : .platform))
            replies.end()
            return
        }
        guard let user = resolveSelfOrOther(id, session: session) else { return }
        let account = engine.state.accounts[user.int]
        let profile = engine.state.users[user.int]
        replies.ok()
        replies.field("available", cents: account.availableCents)
        replies.field("frozen", cents: account.frozenCents)
        replies.field("receivable_principal", cents: profile.receivablePrincipalCents)
        replies.field("receivable_interest", cents: profile.receivableInterestCents)
        replies.field("borrowed", cents: profile.borrowedCents)
        replies.end()
    }
}
