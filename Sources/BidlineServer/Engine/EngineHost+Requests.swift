import BidlineCore
import BidlineProtocol
import BidlineStorage

extension EngineHost {
    /// Handles one request, appending its reply to `replies`. Returns true when it journaled a command.
    func handle(_ request: Request, session: inout Session) -> Bool {
        metrics.requests.increment()
        switch request {
        case .ping:
            replies.pong()
            return false
        case .quit:
            replies.bye()
            return false
        case .help(let verb):
            let lines = CommandTable.helpLines(for: verb)
            if verb != nil && lines.isEmpty {
                replies.error(.unknownVerb, "unknown verb '\(verb!.prefix(40))'")
            } else {
                replies.rows(lines)
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
            replies.session(user: id, roles: account.roles)
            return false
        case .whoami:
            replies.session(user: session.userID, roles: session.roles)
            return false
        case .bid(let listing, let amount, let ref, let allOrNone):
            guard let investor = session.user else { return refuse(.notAuthenticated) }
            return write(.bid(BidRequest(investor: investor, listing: listing, amount: amount, allOrNone: allOrNone, ref: ref)))
        case .userAdd(var new):
            let token = Tokens.generate()
            new.tokenHash = Tokens.hash(token)
            return write(.addUser(new)) { host, reply in
                guard case .user(let index) = reply else { return }
                host.replies.userCreated(host.engine.state.users[index.int].id, token: token)
            }
        case .userSet(let id, let change):
            guard let user = engine.userIndex(of: id) else { return refuse(.noSuchUser, "no such user '\(id)'") }
            return write(.setUser(user, change)) { host, _ in host.replies.userFlags(user, in: host.engine.state) }
        case .loanApprove(let id): return write(.approve(id))
        case .loanReject(let id): return write(.reject(id))
        case .loanCancel(let id): return write(.cancel(id))
        case .loanDisburse(let id): return write(.disburse(id))
        case .loanRepay(let id): return write(.repay(id, by: session.isAdmin ? nil : session.user))
        case .loanPayoff(let id): return write(.payoff(id, by: session.isAdmin ? nil : session.user))
        case .feeSet(let change): return write(.changeSettings(change))
        case .clock:
            replies.clock(nowMillis: stampTime())
            return false
        case .clockAdvance(let millis):
            guard configuration.clock == .manual else {
                return refuse(.badState, "CLOCK.ADVANCE works only with --clock manual")
            }
            lastTimeMillis += millis
            return write(.tick, at: lastTimeMillis) { host, reply in
                guard case .tick(let failed, let overdue) = reply else { return }
                host.replies.clockAdvanced(
                    nowMillis: host.lastTimeMillis, failedListings: failed, overdueInstallments: overdue)
            }
        case .snapshot:
            // Answered by the connection through `snapshot()` (it awaits the write); never reaches here.
            return refuse(.badState, "SNAPSHOT must be sent on its own")
        case .reconcile:
            replies.reconciliation(engine.reconcile())
            return false
        case .stats:
            let stats = engine.state.stats
            replies.stats(
                stats, bidsPerSecond: metrics.bidsPerSecond(total: stats.bidsAccepted),
                sequence: Int64(nextSequence - 1),
                durability: configuration.durability.wireText, logCommits: configuration.logCommits.rawValue,
                logSyncs: Int64(wal.statistics.synchronizations))
            return false
        case .metrics:
            replies.rows(prometheusLines())
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
            guard engine.listing(id) != nil else { return refuse(.noSuchListing) }
            replies.listing(id, in: engine.state)
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
            replies.subscribed(topics)
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
            if let render {
                render(self, reply)
            } else if case .bid(let bid) = reply {
                replies.bid(bid)  // the hot path: hands no engine state across the module boundary
            } else {
                replies.reply(reply, in: engine.state)
            }
        case .rejected(let code):
            metrics.rejected(code)
            replies.error(code)
        }
        return true
    }

    /// The auto-bid reply of `investor` (`AUTO.SET`, `AUTO.OFF`, `AUTO.GET`).
    func describeAutoBid(_ investor: UserIndex) {
        let rule = engine.autoBidRule(of: investor)
        let position = rule?.enabled == true ? engine.autoBidQueue().firstIndex(of: investor).map { $0 + 1 } : nil
        replies.autoBid(rule, queuePosition: position)
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
            replies.systemBalance(id, cents: engine.balance(of: id == "bank" ? .bank : .platform))
            return
        }
        guard let user = resolveSelfOrOther(id, session: session) else { return }
        replies.balance(of: user, in: engine.state)
    }
}
